"""Input distributions, sampled by inverse transform.

Every numeric scenario input is either a plain number (a fixed value) or a tagged table such as
``{ dist = "triangular", low = 8.0, mode = 9.5, high = 11.0 }``. Sampling goes through each
distribution's quantile function (``ppf``) applied to uniform numbers from the replication's
streams, so the same uniforms give the same quantiles at every sweep point (common random
numbers), and a change of a parameter moves every draw monotonically.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FloatArray = NDArray[np.float64]


_U_EPS = 1e-12
"""Uniform numbers are kept within [eps, 1 - eps] for unbounded quantile functions."""


def _special() -> Any:
    """scipy.special, imported when a normal quantile is first needed (it costs ~0.2 s)."""
    import scipy.special

    return scipy.special


Level = Literal["fleet", "class", "ship", "voyage"]
"""Where an input is drawn: once per replication for the whole fleet, once per replication for
each class, once per ship, or once per voyage."""


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)

    level: Level | None = None
    """Where this input is drawn (None: the input's default level, see the scenario reference)."""
    scale: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    """The name of an ``[unknowns]`` entry that multiplies every drawn value (a fleet-level
    unknown with ship- or voyage-level variation around it)."""

    def ppf(self, u: ArrayLike) -> FloatArray:  # pragma: no cover - abstract
        """Quantile function: values for uniform numbers ``u`` in (0, 1)."""
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[float, float]:  # pragma: no cover - abstract
        """Smallest and largest possible values (may be infinite)."""
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        """Expected value."""
        raise NotImplementedError

    @property
    def open_low(self) -> bool:
        """Whether the lowest bound is never reached (e.g. 0 for a log-normal)."""
        return False

    @property
    def is_fixed(self) -> bool:
        lo, hi = self.bounds
        return lo == hi


class Fixed(_Dist):
    """A fixed value."""

    dist: Literal["fixed"] = "fixed"
    value: float

    def ppf(self, u: ArrayLike) -> FloatArray:
        return np.full(np.shape(u), self.value, dtype=float)

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.value, self.value)

    @property
    def mean(self) -> float:
        return self.value


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self

    def ppf(self, u: ArrayLike) -> FloatArray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)


class Triangular(_Dist):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Triangular:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({self.mode}) must lie in [low, high]")
        return self

    def ppf(self, u: ArrayLike) -> FloatArray:
        u = np.asarray(u, dtype=float)
        a, c, b = self.low, self.mode, self.high
        if b == a:
            return np.full(u.shape, a)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0


class TruncNormal(_Dist):
    """Normal(mean, sd) truncated to [low, high] (either bound may be omitted)."""

    dist: Literal["truncnormal"]
    mean_: float = Field(alias="mean")
    sd: float = Field(gt=0)
    low_: float | None = Field(default=None, alias="low")
    high_: float | None = Field(default=None, alias="high")

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False, strict=True
    )

    @property
    def low(self) -> float:
        """Lower truncation point (-inf when omitted)."""
        return -math.inf if self.low_ is None else self.low_

    @property
    def high(self) -> float:
        """Upper truncation point (+inf when omitted)."""
        return math.inf if self.high_ is None else self.high_

    @model_validator(mode="after")
    def _check(self) -> TruncNormal:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self._mass() <= 1e-12:
            raise ValueError("the interval [low, high] holds no probability mass")
        return self

    def _cdf_bounds(self) -> tuple[float, float]:
        return (
            float(_special().ndtr((self.low - self.mean_) / self.sd)),
            float(_special().ndtr((self.high - self.mean_) / self.sd)),
        )

    def _mass(self) -> float:
        lo, hi = self._cdf_bounds()
        return hi - lo

    def ppf(self, u: ArrayLike) -> FloatArray:
        lo, hi = self._cdf_bounds()
        p = lo + (hi - lo) * np.clip(np.asarray(u, dtype=float), _U_EPS, 1.0 - _U_EPS)
        x = self.mean_ + self.sd * _special().ndtri(p)
        return np.clip(x, self.low, self.high)

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def mean(self) -> float:
        a = (self.low - self.mean_) / self.sd
        b = (self.high - self.mean_) / self.sd
        phi_a = math.exp(-0.5 * a * a) / math.sqrt(2 * math.pi) if math.isfinite(a) else 0.0
        phi_b = math.exp(-0.5 * b * b) / math.sqrt(2 * math.pi) if math.isfinite(b) else 0.0
        return self.mean_ + self.sd * (phi_a - phi_b) / self._mass()


class LogNormal(_Dist):
    """Log-normal with the given median and log-scale standard deviation ``sigma``.

    ``spread`` names an ``[unknowns]`` entry that multiplies ``sigma`` (one value per
    replication): how far ships (or voyages) spread around the median is then itself a
    fleet-level unknown that calibration can fit, e.g. how differently the ships cycle.
    """

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)
    spread: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

    def ppf(self, u: ArrayLike) -> FloatArray:
        u = np.clip(np.asarray(u, dtype=float), _U_EPS, 1.0 - _U_EPS)
        return self.median * np.exp(self.sigma * _special().ndtri(u))

    def ppf_spread(self, u: ArrayLike, spread: ArrayLike) -> FloatArray:
        """Quantiles with ``sigma`` multiplied by ``spread`` (broadcast against ``u``).

        >>> LogNormal(dist="lognormal", median=2.0, sigma=1.0).ppf_spread([0.5], [0.0]).tolist()
        [2.0]
        """
        u = np.clip(np.asarray(u, dtype=float), _U_EPS, 1.0 - _U_EPS)
        s = np.asarray(spread, dtype=float)
        return self.median * np.exp(self.sigma * s * _special().ndtri(u))

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.median, self.median) if self.sigma == 0 else (0.0, math.inf)

    @property
    def open_low(self) -> bool:
        return self.sigma > 0

    @property
    def mean(self) -> float:
        return self.median * math.exp(0.5 * self.sigma**2)


class Choice(_Dist):
    """A discrete choice among ``values`` with ``weights`` (equal weights when omitted)."""

    dist: Literal["choice"]
    values: tuple[float, ...] = Field(min_length=1)
    weights: tuple[float, ...] | None = None

    @field_validator("values", "weights", mode="before")
    @classmethod
    def _arrays(cls, v: Any) -> Any:
        return tuple(v) if isinstance(v, list) else v  # a TOML array; elements stay strict

    @model_validator(mode="after")
    def _check(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative with a positive sum")
        return self

    def _sorted(self) -> tuple[FloatArray, FloatArray]:
        # Values in increasing order (with their weights), so that the quantile function
        # never decreases in u, as for every other distribution.
        v = np.asarray(self.values, dtype=float)
        w = np.asarray(self.weights if self.weights is not None else [1.0] * len(v), dtype=float)
        order = np.argsort(v, kind="stable")
        return v[order], w[order]

    def _cum(self) -> FloatArray:
        _, w = self._sorted()
        return np.cumsum(w) / w.sum()

    def ppf(self, u: ArrayLike) -> FloatArray:
        v, _ = self._sorted()
        idx = np.searchsorted(self._cum(), np.asarray(u, dtype=float), side="right")
        return v[np.minimum(idx, len(v) - 1)]

    @property
    def bounds(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))

    @property
    def mean(self) -> float:
        v, w = self._sorted()
        return float(np.dot(w, v) / w.sum())


Distribution = Annotated[
    Fixed | Uniform | Triangular | TruncNormal | LogNormal | Choice,
    Field(discriminator="dist"),
]
"""A tagged distribution table."""


def as_distribution(value: Any) -> Any:
    """Turn a plain number into ``{dist = "fixed", value = x}``; leave tables alone."""
    if isinstance(value, bool):
        return value  # let pydantic reject booleans with a type error
    if isinstance(value, int | float):
        return {"dist": "fixed", "value": float(value)}
    return value
