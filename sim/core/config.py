"""Scenario files: the schema (version 1), loading and validation.

A scenario is a TOML file validated into a frozen :class:`Scenario`; unknown keys are refused.
Every error is a :class:`ScenarioError` whose one-line message names the file, the dotted key
path and the offending value. See ``docs/scenario-reference.md`` for every key.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import json
import math
import re
import statistics
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias

import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.core.distributions import Distribution, Fixed, LogNormal, as_distribution
from sim.core.errors import ScenarioError
from sim.core.gazetteer import Port, gazetteer
from sim.core.geo import LatLon
from sim.core.io import BOMS, decode_text
from sim.core.units import BP_BBL_PER_T, CARGO_DWT_FRACTION, HOURS_PER_DAY, TANK_M3_PER_DWT

SCHEMA_VERSION = 1
MAX_SHIPS = 100_000
"""The most ships a scenario may hold (all classes together)."""
MAX_WINDOW_DAYS = 3_660
"""The longest window a scenario may simulate [days] (ten years)."""
MAX_MARGIN_NM = 20.0
MAX_BERTHS = 1_000
"""Most berths a port may have: no oil port has more than a few dozen (a larger number, like
2**63 - 1, sized the fast engine's berth table beyond memory)."""
"""The widest margin kept off the coast by the sea router [nm]."""
_DIST_TAGS = {"fixed", "uniform", "triangular", "truncnormal", "lognormal", "choice"}


# --------------------------------------------------------------------------- helpers


class _Model(BaseModel):
    """Every table of a scenario: frozen, no unknown keys, no NaN or infinity, and strict types
    (no coercion: ``true`` is not a number, ``"2"`` is not a count, ``2.0`` is not an integer;
    an integer is accepted where a real number is expected)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False, strict=True
    )


def _bounds_check(
    *, low: float | None = None, strict: bool = False, high: float | None = None
) -> Callable[[Any], Any]:
    """A validator: the distribution's support must lie within the given bounds."""

    def check(dist: Any) -> Any:
        lo, hi = dist.bounds
        if low is not None and (lo < low or (strict and lo == low and not dist.open_low)):
            op = ">" if strict else ">="
            raise ValueError(f"every value must be {op} {low:g} (the lowest possible is {lo:g})")
        if high is not None and hi > high:
            raise ValueError(f"every value must be <= {high:g} (the highest possible is {hi:g})")
        return dist

    return check


PositiveDist: TypeAlias = Annotated[
    Distribution,
    BeforeValidator(as_distribution),
    AfterValidator(_bounds_check(low=0.0, strict=True)),
]
"""A distribution of strictly positive values."""
NonNegDist: TypeAlias = Annotated[
    Distribution, BeforeValidator(as_distribution), AfterValidator(_bounds_check(low=0.0))
]
"""A distribution of non-negative values."""
FractionDist: TypeAlias = Annotated[
    Distribution,
    BeforeValidator(as_distribution),
    AfterValidator(_bounds_check(low=0.0, strict=True, high=1.0)),
]
"""A distribution on (0, 1]."""
ProbabilityDist: TypeAlias = Annotated[
    Distribution,
    BeforeValidator(as_distribution),
    AfterValidator(_bounds_check(low=0.0, high=1.0)),
]
"""A distribution on [0, 1]."""


def _fixed(x: float) -> Fixed:
    return Fixed(value=x)


class Coordinates(_Model):
    """A WGS84 point, ``{ lat = .., lon = .. }`` [deg]."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)

    def latlon(self) -> LatLon:
        return LatLon(self.lat, self.lon)


# --------------------------------------------------------------------------- sections


class Window(_Model):
    """The simulated window: from the start of ``start`` to the end of ``end`` (inclusive)."""

    start: dt.date
    end: dt.date

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.date()
        return v

    @model_validator(mode="after")
    def _not_too_long(self) -> Window:
        if self.days > MAX_WINDOW_DAYS:
            raise ValueError(f"a window of {self.days:,} days: at most {MAX_WINDOW_DAYS:,}")
        return self

    @property
    def days(self) -> int:
        """Length in days, both ends included [d]."""
        return (self.end - self.start).days + 1

    @property
    def hours(self) -> float:
        """Length in hours [h]."""
        return self.days * HOURS_PER_DAY


class Lock(_Model):
    """A lock between the sea and a port, passed on every call in and out."""

    name: str = "lock"
    chambers: int = Field(default=1, ge=1)
    transit_h: NonNegDist = Field(default_factory=lambda: _fixed(1.0))


class Terminal(_Model):
    """The loading terminal."""

    port: str
    berths: int = Field(default=1, ge=1, le=MAX_BERTHS)
    load_rate_bbl_per_h: PositiveDist | None = None
    load_rate_m3_per_h: PositiveDist | None = None
    anchorage_h: NonNegDist = Field(default_factory=lambda: _fixed(0.0))
    pre_pump_h: NonNegDist = Field(default_factory=lambda: _fixed(0.0))
    post_pump_h: NonNegDist = Field(default_factory=lambda: _fixed(0.0))

    @model_validator(mode="after")
    def _one_rate(self) -> Terminal:
        if (self.load_rate_bbl_per_h is None) == (self.load_rate_m3_per_h is None):
            raise ValueError("give exactly one of load_rate_bbl_per_h and load_rate_m3_per_h")
        return self


class DischargePort(_Model):
    """A discharge port and its share of voyages."""

    share: float | None = Field(default=None, ge=0, le=1)
    berths: int = Field(default=1, ge=1, le=MAX_BERTHS)
    rate_bbl_per_h: PositiveDist | None = None
    rate_m3_per_h: PositiveDist | None = None
    anchorage_h: NonNegDist = Field(default_factory=lambda: _fixed(0.0))
    pre_pump_h: NonNegDist = Field(default_factory=lambda: _fixed(0.0))
    post_pump_h: NonNegDist = Field(default_factory=lambda: _fixed(0.0))
    lock: Lock | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> DischargePort:
        if (self.rate_bbl_per_h is None) == (self.rate_m3_per_h is None):
            raise ValueError("give exactly one of rate_bbl_per_h and rate_m3_per_h")
        return self


class ShipClass(_Model):
    """A class of ships: how many (or which), their capacity, speeds and turnaround.

    Capacity is given in barrels, cubic metres of tank, tonnes of cargo, or deadweight tonnes; a
    class given both tonnes and cubic metres carries the lesser of the two in barrels, and a
    class given deadweight carries the lesser of ``dwt x cargo_dwt_fraction`` tonnes and
    ``dwt x tank_m3_per_dwt`` cubic metres. By default capacity, speeds and start offset are
    drawn once per ship and load factor and turnaround once per voyage; ``level`` in an input's
    table draws it once per replication for the whole fleet or the class instead.

    With ``from_registry = true`` the ``names`` are ships of the registry
    (``sim/data/registry.toml``): a ship whose deadweight (or cargo) the registry knows has that
    size; the others draw theirs from the class's ``capacity_dwt``.
    """

    count: int | None = Field(default=None, ge=1, le=MAX_SHIPS)
    names: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] | None = Field(
        default=None, max_length=MAX_SHIPS
    )
    from_registry: bool = False
    capacity_bbl: PositiveDist | None = None
    capacity_m3: PositiveDist | None = None
    capacity_t: PositiveDist | None = None
    capacity_dwt: PositiveDist | None = None
    cargo_dwt_fraction: FractionDist = Field(default_factory=lambda: _fixed(CARGO_DWT_FRACTION))
    tank_m3_per_dwt: PositiveDist = Field(default_factory=lambda: _fixed(TANK_M3_PER_DWT))
    load_factor: FractionDist = Field(default_factory=lambda: _fixed(1.0))
    speed_laden_kn: PositiveDist
    speed_ballast_kn: PositiveDist
    turnaround_days: NonNegDist = Field(default_factory=lambda: _fixed(0.0))
    turnaround_factor: PositiveDist = Field(default_factory=lambda: _fixed(1.0))
    """Each ship's own factor on its turnaround (drawn per ship by default): ships that cycle
    faster or slower than the fleet. 1 (the default) keeps every ship at the fleet's rate."""
    start_offset_days: NonNegDist = Field(default_factory=lambda: _fixed(0.0))
    home_port: str | None = None

    @field_validator("names")
    @classmethod
    def _unique_names(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is not None:
            if not v:
                raise ValueError("names must not be empty")
            dupes = sorted(n for n, k in Counter(v).items() if k > 1)  # linear in ships
            if dupes:
                raise ValueError(f"duplicate ship names {dupes}")
        return v

    @model_validator(mode="after")
    def _check(self) -> ShipClass:
        if self.count is None and self.names is None:
            raise ValueError("give count or names")
        if self.count is not None and self.names is not None and self.count != len(self.names):
            raise ValueError(f"count ({self.count}) differs from the number of names")
        given = [
            k
            for k in ("capacity_bbl", "capacity_m3", "capacity_t", "capacity_dwt")
            if getattr(self, k) is not None
        ]
        if not given:
            raise ValueError("give capacity_bbl, capacity_m3, capacity_t or capacity_dwt")
        if len(given) > 1 and set(given) != {"capacity_m3", "capacity_t"}:
            raise ValueError(f"{' and '.join(given)} exclude each other (m3 and t may go together)")
        if self.from_registry and self.names is None:
            raise ValueError("from_registry needs names (the registry's ship names)")
        if self.from_registry and self.capacity_dwt is None:
            raise ValueError(
                "from_registry needs capacity_dwt (the size of ships it does not know)"
            )
        return self

    @property
    def n_ships(self) -> int:
        return len(self.names) if self.names is not None else int(self.count or 0)

    def ship_ids(self, class_id: str) -> list[str]:
        """Stable ship identifiers: the names, or ``<class>-01``, ``<class>-02``..."""
        if self.names is not None:
            return list(self.names)
        # At least two digits, never padded to the count: a ship keeps its id (and so its
        # random streams) whatever the size of its class.
        return [f"{class_id}-{i + 1:02d}" for i in range(self.n_ships)]


class CustomPort(_Model):
    """A port defined by the scenario (or overriding a gazetteer entry)."""

    name: str | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    approach: Coordinates | None = None
    source: str = "scenario"
    confidence: str = "scenario"


class PinnedLeg(_Model):
    """Waypoints pinned by hand between two ports (port points are added at both ends)."""

    from_: str = Field(alias="from")
    to: str
    waypoints: tuple[Coordinates, ...] = ()


class ForbiddenAreaSpec(_Model):
    """A polygon that routes must avoid."""

    name: str
    polygon: tuple[Coordinates, ...] = Field(min_length=3)

    @field_validator("polygon")
    @classmethod
    def _simple(cls, v: tuple[Coordinates, ...]) -> tuple[Coordinates, ...]:
        from shapely.geometry import Polygon

        ring = Polygon([(c.lon, c.lat) for c in v])
        if not ring.is_valid:
            raise ValueError("the polygon crosses itself (give its corners in order)")
        return v


class Routing(_Model):
    """How leg distances are found.

    ``method = "sea"`` uses the land-avoiding router over Natural Earth 10 m coastline;
    ``"geodesic"`` joins the ports (and any pinned waypoints) by geodesics.
    """

    method: Literal["sea", "geodesic"] = "geodesic"
    margin_nm: float = Field(default=2.0, ge=0, le=MAX_MARGIN_NM)
    forbid_jeju_strait: bool = False
    forbidden_areas: tuple[ForbiddenAreaSpec, ...] = ()
    legs: tuple[PinnedLeg, ...] = ()


MAX_TRACK_SPREAD_NM = 20.0
"""The widest sideways spread of drawn ship tracks about their route [nm] (``output``)."""


class Output(_Model):
    """Options of what ``tankersim run`` writes beside the results: the ship tracks
    (``tracks.csv``, ``tracks.geojson``) and the map drawn from them. None changes a simulated
    number (docs/model.md, "Tracks in the shape of AIS")."""

    tracks_idle: bool = True
    """Keep the samples of idle ships (the turnaround between voyages, and a ship's wait
    before its first) in the tracks; false leaves them out, so each voyage's trajectory is its
    passages and port calls only. Every sample says its leg (``leg``, ``leg_id``) either way."""
    track_spread_nm: float = Field(default=0.0, ge=0, le=MAX_TRACK_SPREAD_NM)
    """Largest sideways offset of a passage's drawn track from its route [nm]: each passage
    is shifted by its own seeded draw, uniform in +-this, tapering to 0 at both ports and
    shrunk where it would reach land. Drawing only: distances, times and speeds stay the
    route's. 0 puts every track on the route's line."""


class Observation(_Model):
    """How visits to the terminal are seen (satellite imagery, AIS)."""

    p_detect: ProbabilityDist = Field(default_factory=lambda: _fixed(1.0))


class Claims(_Model):
    """The published claim the run is checked against. Every field is optional."""

    source: str = ""
    trips: int | None = Field(default=None, ge=0)
    barrels: float | None = Field(default=None, ge=0)
    tonnes: float | None = Field(default=None, ge=0)
    ships: int | None = Field(default=None, ge=0)
    start: dt.date | None = None
    end: dt.date | None = None
    un_cap_bbl_per_year: float | None = Field(default=500_000.0, ge=0)
    basis: Literal["loaded", "delivered"] = "loaded"


class VaryRange(_Model):
    """A swept range: ``num`` evenly spaced values for a grid, or bounds for LHS / Sobol'."""

    low: float
    high: float
    num: int | None = Field(default=None, ge=2)
    integer: bool = False

    @model_validator(mode="after")
    def _order(self) -> VaryRange:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) is below low ({self.low:g})")
        return self


class SweepSpec(_Model):
    """A parameter sweep stored with the scenario (``[sweep]``); see docs/sweeps.md."""

    design: Literal["grid", "lhs", "sobol"] = "grid"
    replications: int = Field(default=500, ge=1)
    points: int | None = Field(default=None, ge=1)
    min_matches: int = Field(default=50, ge=1)
    halfwidth: int | None = Field(default=2, ge=0)
    vary: dict[str, Annotated[tuple[Any, ...], Field(min_length=1)] | VaryRange] = Field(
        min_length=1
    )


class PriorSet(_Model):
    """An alternative prior for calibration (``[priors.<name>]``): the distributions that
    replace those of some unknowns or fleet-level inputs, by dotted key."""

    description: str = ""
    set: dict[str, Distribution] = Field(min_length=1)

    @field_validator("set", mode="before")
    @classmethod
    def _dists(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            return {k: as_distribution(x) for k, x in v.items()}
        return v


class Calibration(_Model):
    """How ``tankersim calibrate`` fits the fleet-level unknowns to the evidence
    (``[calibration]``); see docs/calibration.md."""

    evidence: Literal["independent", "counted", "all"] = "independent"
    """The evidence set fitted (:data:`sim.core.evidence.EVIDENCE_SETS`): by default only the
    rows independent of the claim (and its premise)."""
    exclude: tuple[str, ...] = ()
    """Evidence row ids that are checked but not fitted."""
    population: int = Field(default=1000, ge=20)
    """Particles per generation of the sequential Monte Carlo."""
    generations: int = Field(default=12, ge=1)
    """At most this many generations."""
    min_acceptance: float = Field(default=0.03, gt=0, le=1)
    """Stop once a generation accepts fewer than this share of its proposals."""
    replications: int = Field(default=20, ge=1)
    """Replications per particle for the posterior verdict."""


KEY_WORDS: dict[str, str] = {
    "unknowns.fleet_dwt": "fleet's typical size [dwt]",
    "unknowns.turnaround_days": "fleet's typical turnaround [days]",
    "unknowns.start_offset_max_days": "latest start of a ship [days]",
    "unknowns.activity_sigma": "spread of the ships' cycle rates [log scale]",
    "observation.p_detect": "share of visits seen (detection probability)",
}
"""The fleet-level values of the baseline in words, with their units (figures, tables)."""

ANCHOR_QUANTITIES: dict[str, str] = {
    "mean_capacity_bbl": "mean full-load capacity per visit [bbl]",
    "fleet_capacity_bbl_mean": "mean full-load capacity of the fleet's ships [bbl]",
    "fleet_dwt_t_mean": "mean deadweight of the ships sized in dwt [t]",
    "mean_parcel_bbl": "mean parcel per visit [bbl]",
    "loaded_bbl_per_year": "barrels loaded per year at the run's rate [bbl/yr]",
    "trips": "visits in the window, seen or not",
}
"""Per-replication quantities an anchor can name (besides ``capacity_bbl__<ship>`` and
``dwt_t__<ship>`` for a ship of the fleet)."""


class Anchor(_Model):
    """A fact from outside the evidence (``[anchors.<id>]``): a figure about the fleet (its
    ships' sizes, its throughput in another year) set against the posterior as a predictive
    check, never fitted. ``quantity`` names what it measures (:data:`ANCHOR_QUANTITIES`, or
    ``capacity_bbl__<ship>`` / ``dwt_t__<ship>``)."""

    label: str = Field(min_length=1, max_length=300)
    quantity: str = Field(min_length=1, max_length=200)
    value: float = Field(gt=0)
    relation: Literal["=", "~", ">=", "<="] = "="
    source: str = Field(min_length=1, max_length=2000)
    independence: Literal["independent", "premise", "same-method", "claimants"] = "independent"
    note: str = Field(default="", max_length=4000)


class AuditInput(_Model):
    """One input of the assumption audit (``[audit.<name>]``, ``tankersim robustness``): its
    low and high plausible settings, each a table of dotted keys set as ``--set`` does (a
    ``*`` in a key matches every table at that level, e.g. ``fleet.*.load_factor``)."""

    label: str = Field(min_length=1, max_length=300)
    low: dict[str, Any] = Field(min_length=1)
    high: dict[str, Any] = Field(min_length=1)
    low_label: str = Field(default="low", max_length=300)
    high_label: str = Field(default="high", max_length=300)
    source: str = Field(default="estimate", max_length=2000)


class Scenario(_Model):
    """A validated, frozen scenario: the only input of the model."""

    schema_version: Literal[1]
    name: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=500)
    description: str = ""
    seed: int = Field(default=0, ge=0)
    window: Window
    terminal: Terminal
    discharge: dict[str, DischargePort] = Field(min_length=1)
    fleet: dict[str, ShipClass] = Field(min_length=1)
    products: dict[str, float] = Field(default_factory=dict)
    product_mix: dict[str, float] = Field(default_factory=lambda: {"diesel": 1.0})
    ports: dict[str, CustomPort] = Field(default_factory=dict)
    routing: Routing = Field(default_factory=Routing)
    observation: Observation = Field(default_factory=Observation)
    claims: Claims = Field(default_factory=Claims)
    unknowns: dict[str, Distribution] = Field(default_factory=dict)
    evidence: str | None = Field(default=None, min_length=1, max_length=4096)
    calibration: Calibration = Field(default_factory=Calibration)
    priors: dict[str, PriorSet] = Field(default_factory=dict)
    anchors: dict[str, Anchor] = Field(default_factory=dict)
    audit: dict[str, AuditInput] = Field(default_factory=dict)
    sweep: SweepSpec | None = None
    output: Output = Field(default_factory=Output)
    sources: dict[str, Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=dict
    )
    """Where inputs come from, by dotted key or shell-style pattern (``fleet.*.speed_laden_kn``);
    the report's assumptions table shows them, and "estimate" for inputs none names."""
    _source_dir: Path | None = PrivateAttr(default=None)

    def evidence_path(self) -> Path | None:
        """The evidence file, relative to the scenario file's folder (or the working folder
        for a scenario that did not come from a file)."""
        if self.evidence is None:
            return None
        p = Path(self.evidence)
        return p if p.is_absolute() or self._source_dir is None else self._source_dir / p

    def with_source(self, folder: Path | None) -> Scenario:
        """The same scenario, reading relative paths (its evidence) from ``folder``."""
        self._source_dir = folder
        return self

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_is_an_integer(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"must be the integer {SCHEMA_VERSION}")
        return v

    @field_validator("unknowns", mode="before")
    @classmethod
    def _unknown_tables(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            return {k: as_distribution(x) for k, x in v.items()}
        return v

    @field_validator("products")
    @classmethod
    def _positive_factors(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not (math.isfinite(x) and x > 0):
                raise ValueError(f"barrels per tonne of {k!r} must be a finite number > 0")
        return v

    # ---- derived views -------------------------------------------------------------

    @property
    def bbl_per_t(self) -> dict[str, float]:
        """Barrels per tonne for every known product [bbl/t] (BP defaults, then overrides)."""
        return {**BP_BBL_PER_T, **self.products}

    def port(self, port_id: str) -> Port:
        """The port ``port_id`` from the scenario's own ports, then the gazetteer."""
        if port_id in self.ports:
            p = self.ports[port_id]
            return Port(
                id=port_id,
                name=p.name or port_id,
                lat=p.lat,
                lon=p.lon,
                source=p.source,
                confidence=p.confidence,
                approach=p.approach.latlon() if p.approach else None,
            )
        return gazetteer()[port_id]

    def ship_ids(self) -> list[tuple[str, str]]:
        """``(class_id, ship_id)`` for every ship, in a stable sorted order."""
        out = [(cid, sid) for cid, cls in self.fleet.items() for sid in cls.ship_ids(cid)]
        return sorted(out, key=lambda pair: _natural_key(pair[1]))

    @property
    def n_ships(self) -> int:
        return sum(c.n_ships for c in self.fleet.values())

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form of the scenario (first 16 hex digits).

        The evidence file is named by a path that depends on where the scenario lives, so the
        path is left out; the file's content is part of a batch's identity instead. The
        ``[output]`` table at its defaults is left out too, so that scenarios written before it
        existed keep their digest (and their runs resume).
        """
        exclude = {"evidence"} | ({"output"} if self.output == Output() else set())
        data = self.model_dump(mode="json", by_alias=True, exclude=exclude)
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_toml(self) -> str:
        """The resolved scenario (every default filled in) as TOML."""
        data = self.model_dump(mode="python", by_alias=True, exclude_none=True)
        return str(tomli_w.dumps(_toml_safe(data)))

    def __repr__(self) -> str:
        from sim.core.reprs import scenario_repr

        return scenario_repr(self)

    def _repr_html_(self) -> str:
        from sim.core.reprs import scenario_html

        return scenario_html(self)


def _natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``tanker-9`` before ``tanker-10``."""
    parts = re.split(r"(\d+)", name)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def _toml_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        if obj.get("dist") == "fixed" and set(obj) == {"dist", "value"}:
            return obj["value"]
        return {str(k): _toml_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_toml_safe(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- loading


def _format_loc(loc: tuple[Any, ...], raw: Any = None) -> str:
    """The user's dotted key path for a pydantic error location.

    Distribution tags are dropped, and so is anything below a plain value in the file (a
    number written for a distribution is reported at its own key, not at ``.value``).
    """
    parts: list[str] = []
    cur: Any = raw
    for p in loc:
        if str(p) in _DIST_TAGS or str(p).startswith("function-"):
            continue
        if raw is not None and cur is not None and not isinstance(cur, Mapping | list | tuple):
            break
        parts.append(str(p))
        if isinstance(cur, Mapping):
            cur = cur.get(p)
        elif isinstance(cur, list | tuple) and isinstance(p, int) and p < len(cur):
            cur = cur[p]
        else:
            cur = None
    return ".".join(parts)


def _lookup(raw: Any, loc: tuple[Any, ...]) -> Any:
    cur = raw
    for p in loc:
        if (isinstance(cur, Mapping) and p in cur) or (
            isinstance(cur, list | tuple) and isinstance(p, int) and p < len(cur)
        ):
            cur = cur[p]
        else:
            continue
    return cur


@functools.cache
def _key_vocabulary() -> tuple[str, ...]:
    """Every key a scenario table may hold (field names and aliases), for suggestions."""
    from sim.core import distributions

    names: set[str] = set()
    models = [*_Model.__subclasses__(), *distributions._Dist.__subclasses__()]
    while models:
        m = models.pop()
        models += m.__subclasses__()
        for name, f in m.model_fields.items():
            names.add(f.alias or name)
    return tuple(sorted(n for n in names if not n.endswith("_")))


def _first_error(err: ValidationError, raw: Mapping[str, Any], file: str) -> ScenarioError:
    # Prefer the most specific error: unknown keys first, then the deepest location.
    errors = err.errors(include_url=False)
    errors.sort(key=lambda e: (e["type"] != "extra_forbidden", -len(e["loc"])))
    e = errors[0]
    loc = tuple(e["loc"])
    key = _format_loc(loc, raw)
    if e["type"] == "extra_forbidden":
        from sim.core.registry import suggest

        reason = "unknown key" + suggest(str(loc[-1]), _key_vocabulary())
        value = e.get("input")
    elif e["type"] == "missing":
        reason = "required key is missing"
        value = None
        key = key or "<top level>"
    elif e["type"] in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        reason = "expected a date written as a TOML date, 2024-03-07 (no quotes)"
        value = e.get("input", _lookup(raw, loc))
    else:
        reason = str(e["msg"]).removeprefix("Value error, ")
        value = e.get("input", _lookup(raw, loc))
    if isinstance(value, Mapping) and value.get("dist") is not None and "value" in value:
        value = value["value"]
    return ScenarioError(file, key, value, reason)


def _check_references(sc: Scenario, file: str) -> None:
    known = set(gazetteer()) | set(sc.ports)
    if sc.window.end < sc.window.start:
        raise ScenarioError(
            file, "window.end", sc.window.end, f"before window.start ({sc.window.start})"
        )
    c = sc.claims
    if c.start is not None and c.end is not None and c.end < c.start:
        raise ScenarioError(file, "claims.end", c.end, f"before claims.start ({c.start})")

    def check_port(key: str, pid: str) -> None:
        if pid not in known:
            from sim.core.registry import suggest

            hint = suggest(pid, sorted(known)) or f" (known: {', '.join(sorted(known))})"
            raise ScenarioError(file, key, pid, "unknown port" + hint)

    check_port("terminal.port", sc.terminal.port)
    for pid in sc.discharge:
        check_port(f"discharge.{pid}", pid)
        if pid == sc.terminal.port:
            raise ScenarioError(file, f"discharge.{pid}", pid, "the terminal cannot discharge")
    for cid, cls in sc.fleet.items():
        if cls.home_port is not None and cls.home_port not in sc.discharge:
            raise ScenarioError(
                file,
                f"fleet.{cid}.home_port",
                cls.home_port,
                f"not a discharge port of this scenario ({', '.join(sorted(sc.discharge))})",
            )
    for i, leg in enumerate(sc.routing.legs):
        check_port(f"routing.legs.{i}.from", leg.from_)
        check_port(f"routing.legs.{i}.to", leg.to)

    needs_shares = any(c.home_port is None for c in sc.fleet.values())
    if needs_shares:
        shares = {pid: d.share for pid, d in sc.discharge.items()}
        missing = [pid for pid, s in shares.items() if s is None]
        if missing and len(shares) > 1:
            raise ScenarioError(
                file,
                f"discharge.{missing[0]}.share",
                None,
                "every discharge port needs a share when ships have no home_port",
            )
        total = sum(s if s is not None else 1.0 for s in shares.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ScenarioError(
                file, "discharge.*.share", shares, f"shares sum to {total:g}, not 1"
            )

    unknown_products = sorted(set(sc.product_mix) - set(sc.bbl_per_t))
    if unknown_products:
        p = unknown_products[0]
        raise ScenarioError(
            file,
            f"product_mix.{p}",
            sc.product_mix[p],
            "unknown product: give its barrels per tonne under [products]",
        )
    for p, w in sc.product_mix.items():
        if w < 0:
            raise ScenarioError(file, f"product_mix.{p}", w, "shares must be >= 0")
    mix_total = sum(sc.product_mix.values())
    if not math.isclose(mix_total, 1.0, abs_tol=1e-6):
        raise ScenarioError(
            file, "product_mix", dict(sc.product_mix), f"shares sum to {mix_total:g}, not 1"
        )
    if sc.n_ships > MAX_SHIPS:
        raise ScenarioError(file, "fleet", sc.n_ships, f"more than {MAX_SHIPS:,} ships in all")
    seen_ids: set[str] = set()
    for _, sid in sc.ship_ids():
        if sid in seen_ids:
            raise ScenarioError(file, "fleet", sid, "ship id used twice")
        seen_ids.add(sid)
    _check_registry(sc, file)
    _check_inputs(sc, file)
    _check_priors(sc, file)
    _check_anchors(sc, file)
    _check_sources(sc, file)


def _check_sources(sc: Scenario, file: str) -> None:
    from sim.core.assumptions import unmatched_sources

    for pattern in unmatched_sources(sc):
        raise ScenarioError(
            file, f"sources.{pattern}", sc.sources[pattern], "names no input of the scenario"
        )


# --------------------------------------------------------------------------- inputs and levels

_SHIP_LEVELS = ("fleet", "class", "ship")
_ALL_LEVELS = ("fleet", "class", "ship", "voyage")


@dataclass(frozen=True)
class Input:
    """One uncertain (or fixed) numeric input of a scenario.

    ``key`` is its dotted key path, ``slot`` its random-number slot (:mod:`sim.core.rng`),
    ``level`` where it is drawn (its table's ``level``, else ``default``), ``allowed`` the
    levels it may take and ``bound`` what its values must satisfy (``positive``, ``nonneg``,
    ``fraction`` in (0, 1], ``probability`` in [0, 1]).
    """

    key: str
    dist: Distribution
    slot: str
    default: str
    allowed: tuple[str, ...]
    bound: str

    @property
    def level(self) -> str:
        return self.dist.level or self.default

    @property
    def uncertain(self) -> bool:
        return not self.dist.is_fixed or self.dist.scale is not None


def input_bounds(sc: Scenario, inp: Input) -> tuple[float, float]:
    """Smallest and largest values an input can take, its ``scale`` unknown included."""
    lo, hi = inp.dist.bounds
    if inp.dist.scale is not None:
        ulo, uhi = sc.unknowns[inp.dist.scale].bounds
        lo, hi = lo * ulo, hi * uhi
    return lo, hi


def scenario_inputs(sc: Scenario) -> list[Input]:
    """Every numeric input of a scenario, in a stable order, with its level and slot."""
    out: list[Input] = []

    def add(key: str, dist: Any, slot: str, default: str, allowed: tuple[str, ...], b: str) -> None:
        if dist is not None:
            out.append(Input(key, dist, slot, default, allowed, b))

    t = sc.terminal
    add(
        "terminal.load_rate_bbl_per_h",
        t.load_rate_bbl_per_h,
        "terminal_rate",
        "voyage",
        _ALL_LEVELS,
        "positive",
    )
    add(
        "terminal.load_rate_m3_per_h",
        t.load_rate_m3_per_h,
        "terminal_rate",
        "voyage",
        _ALL_LEVELS,
        "positive",
    )
    add(
        "terminal.anchorage_h", t.anchorage_h, "terminal_anchorage", "voyage", _ALL_LEVELS, "nonneg"
    )
    add("terminal.pre_pump_h", t.pre_pump_h, "terminal_pre", "voyage", _ALL_LEVELS, "nonneg")
    add("terminal.post_pump_h", t.post_pump_h, "terminal_post", "voyage", _ALL_LEVELS, "nonneg")
    for pid, d in sorted(sc.discharge.items()):
        k = f"discharge.{pid}"
        add(f"{k}.rate_bbl_per_h", d.rate_bbl_per_h, "port_rate", "voyage", _ALL_LEVELS, "positive")
        add(f"{k}.rate_m3_per_h", d.rate_m3_per_h, "port_rate", "voyage", _ALL_LEVELS, "positive")
        add(f"{k}.anchorage_h", d.anchorage_h, "port_anchorage", "voyage", _ALL_LEVELS, "nonneg")
        add(f"{k}.pre_pump_h", d.pre_pump_h, "port_pre", "voyage", _ALL_LEVELS, "nonneg")
        add(f"{k}.post_pump_h", d.post_pump_h, "port_post", "voyage", _ALL_LEVELS, "nonneg")
        if d.lock is not None:
            add(f"{k}.lock.transit_h", d.lock.transit_h, "lock_in", "voyage", _ALL_LEVELS, "nonneg")
    for cid, cls in sorted(sc.fleet.items()):
        k = f"fleet.{cid}"
        for name in ("capacity_bbl", "capacity_m3", "capacity_t", "capacity_dwt"):
            add(f"{k}.{name}", getattr(cls, name), "capacity", "ship", _SHIP_LEVELS, "positive")
        if cls.capacity_dwt is not None:
            add(
                f"{k}.cargo_dwt_fraction",
                cls.cargo_dwt_fraction,
                "capacity",
                "ship",
                _SHIP_LEVELS,
                "fraction",
            )
            add(
                f"{k}.tank_m3_per_dwt",
                cls.tank_m3_per_dwt,
                "capacity",
                "ship",
                _SHIP_LEVELS,
                "positive",
            )
        add(f"{k}.load_factor", cls.load_factor, "load_factor", "voyage", _ALL_LEVELS, "fraction")
        add(
            f"{k}.speed_laden_kn",
            cls.speed_laden_kn,
            "speed_laden",
            "ship",
            _SHIP_LEVELS,
            "positive",
        )
        add(
            f"{k}.speed_ballast_kn",
            cls.speed_ballast_kn,
            "speed_ballast",
            "ship",
            _SHIP_LEVELS,
            "positive",
        )
        add(
            f"{k}.turnaround_days",
            cls.turnaround_days,
            "turnaround",
            "voyage",
            _ALL_LEVELS,
            "nonneg",
        )
        add(
            f"{k}.turnaround_factor",
            cls.turnaround_factor,
            "turnaround_factor",
            "ship",
            _SHIP_LEVELS,
            "positive",
        )
        add(
            f"{k}.start_offset_days",
            cls.start_offset_days,
            "start_offset",
            "ship",
            _SHIP_LEVELS,
            "nonneg",
        )
    add(
        "observation.p_detect",
        sc.observation.p_detect,
        "p_detect",
        "fleet",
        ("fleet",),
        "probability",
    )
    return out


_BOUNDS = {
    "positive": (0.0, math.inf, "> 0"),
    "nonneg": (0.0, math.inf, ">= 0"),
    "fraction": (0.0, 1.0, "in (0, 1]"),
    "probability": (0.0, 1.0, "in [0, 1]"),
}


def _check_inputs(sc: Scenario, file: str) -> None:
    """Levels allowed for each input; scales that name unknowns and keep values in bounds."""
    for name in sc.unknowns:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
            raise ScenarioError(file, f"unknowns.{name}", name, "a name of letters, digits, _")
    used: set[str] = set()
    for inp in scenario_inputs(sc):
        if inp.dist.level is not None and inp.dist.level not in inp.allowed:
            raise ScenarioError(
                file,
                f"{inp.key}.level",
                inp.dist.level,
                f"this input can be drawn per {', '.join(inp.allowed)}",
            )
        spread = getattr(inp.dist, "spread", None)
        if spread is not None:
            unknown = sc.unknowns.get(spread)
            if unknown is None:
                known = ", ".join(sorted(sc.unknowns)) or "none declared under [unknowns]"
                raise ScenarioError(file, f"{inp.key}.spread", spread, f"no such unknown ({known})")
            used.add(spread)
            if unknown.bounds[0] < 0:
                raise ScenarioError(
                    file,
                    f"unknowns.{spread}",
                    unknown.bounds[0],
                    "an unknown used as a spread must be >= 0",
                )
        if inp.dist.scale is None:
            continue
        scale = inp.dist.scale
        unknown = sc.unknowns.get(scale)
        if unknown is None:
            known = ", ".join(sorted(sc.unknowns)) or "none declared under [unknowns]"
            raise ScenarioError(file, f"{inp.key}.scale", scale, f"no such unknown ({known})")
        used.add(scale)
        ulo, uhi = unknown.bounds
        if not (ulo > 0 or (ulo == 0 and unknown.open_low)):
            raise ScenarioError(
                file, f"unknowns.{scale}", ulo, "an unknown used as a scale must be > 0"
            )
        hi = inp.dist.bounds[1]
        high, said = _BOUNDS[inp.bound][1:]
        if inp.bound == "fraction" and hi * uhi > high:
            raise ScenarioError(
                file,
                f"{inp.key}.scale",
                scale,
                f"values must be {said}, but {hi:g} x {uhi:g} exceeds 1",
            )
    unused = sorted(set(sc.unknowns) - used)
    if unused:
        raise ScenarioError(
            file,
            f"unknowns.{unused[0]}",
            unused[0],
            "declared but no input uses it as a scale or spread",
        )
    _check_physical(sc, file)


PHYSICAL_MAX: dict[str, tuple[float, str]] = {
    "capacity_bbl": (5.0e6, "bbl: more than the largest tanker ever built, about 4.1 million"),
    "capacity_m3": (8.0e5, "m³: more than the largest tanker ever built, about 650,000"),
    "capacity_t": (7.0e5, "t: more than the largest tanker ever built, about 565,000 dwt"),
    "capacity_dwt": (7.0e5, "dwt: more than the largest tanker ever built, about 565,000"),
    "speed_laden_kn": (40.0, "kn: faster than any tanker"),
    "speed_ballast_kn": (40.0, "kn: faster than any tanker"),
}
"""Upper bounds the physics of tankers puts on inputs (by the key's last part), so that
``validate`` refuses a value no later command could make sense of (a capacity of 1e308 bbl).
Generous on purpose: they catch slips of units and magnitudes, not unusual ships. Pumping
rates are not bounded: a rate of 1e9 bbl/h is the way to say that pumping takes no time.
The largest tanker ever built, Seawise Giant (564,763 dwt, about 4.1 million bbl), sets the
capacities."""
MAX_UNKNOWN = 1.0e9
"""No fleet-level unknown is near this in any unit the scenarios use (dwt, days, factors)."""


_Z_TOP = statistics.NormalDist().inv_cdf(1.0 - 1e-9)
"""The standard normal's 1 - 1e-9 quantile (5.9978), without importing scipy (0.2 s, which
every validation paid before)."""


def _upper(dist: Any) -> float:
    """The highest value a distribution gives (for an unbounded one, its 1 - 1e-9 quantile)."""
    hi = float(dist.bounds[1])
    if math.isfinite(hi):
        return hi
    if isinstance(dist, LogNormal):
        return dist.median * math.exp(dist.sigma * _Z_TOP)
    return float(dist.ppf([1.0 - 1e-9])[0])


def _check_physical(sc: Scenario, file: str) -> None:
    """Unknowns and the inputs of :data:`PHYSICAL_MAX` within their bounds (a scaled input
    times the highest value of its scale)."""
    for name, dist in sc.unknowns.items():
        hi = _upper(dist)
        if not hi <= MAX_UNKNOWN:
            raise ScenarioError(
                file,
                f"unknowns.{name}",
                hi,
                f"its highest value is absurd (at most {MAX_UNKNOWN:g}): a slip of magnitude?",
            )
    for inp in scenario_inputs(sc):
        last = next((k for k in PHYSICAL_MAX if inp.key.endswith(k)), None)
        if last is None:
            continue
        high, why = PHYSICAL_MAX[last]
        hi = _upper(inp.dist)
        if inp.dist.scale is not None:
            hi *= _upper(sc.unknowns[inp.dist.scale])
        if hi > high:
            raise ScenarioError(
                file,
                inp.key,
                hi,
                f"the highest value it can take is above {high:,.0f} {why}",
            )


def fleet_level_keys(sc: Scenario) -> dict[str, Any]:
    """The scenario's fleet-level values by dotted key, with their distributions: every
    unknown (``unknowns.<name>``), then every input drawn once per replication for the whole
    fleet (``observation.p_detect`` by default). These are what calibration can fit."""
    out: dict[str, Any] = {f"unknowns.{n}": d for n, d in sorted(sc.unknowns.items())}
    for inp in scenario_inputs(sc):
        if inp.level == "fleet":
            out[inp.key] = inp.dist
    return out


def _check_priors(sc: Scenario, file: str) -> None:
    keys = fleet_level_keys(sc)
    for name, ps in sc.priors.items():
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise ScenarioError(file, f"priors.{name}", name, "a name of letters, digits, _ and -")
        for key in ps.set:
            if key not in keys:
                raise ScenarioError(
                    file,
                    f"priors.{name}.set.{key}",
                    key,
                    f"not an unknown or fleet-level input ({', '.join(keys) or 'none'})",
                )


def anchor_quantities(sc: Scenario) -> list[str]:
    """The quantities an anchor of ``sc`` may name."""
    ships = [sid for _, sid in sc.ship_ids()]
    dwt = [f"dwt_t__{sid}" for cid, sid in sc.ship_ids() if sc.fleet[cid].capacity_dwt is not None]
    return [*ANCHOR_QUANTITIES, *dwt, *(f"capacity_bbl__{sid}" for sid in ships)]


def _check_anchors(sc: Scenario, file: str) -> None:
    if not sc.anchors:
        return
    from sim.core.registry import suggest

    allowed = anchor_quantities(sc)
    for name, a in sc.anchors.items():
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise ScenarioError(file, f"anchors.{name}", name, "a name of letters, digits, _ and -")
        if a.quantity not in allowed:
            raise ScenarioError(
                file,
                f"anchors.{name}.quantity",
                a.quantity,
                "not a quantity of the replications (see docs/scenario-reference.md)"
                + suggest(a.quantity, allowed),
            )
    for name in sc.audit:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise ScenarioError(file, f"audit.{name}", name, "a name of letters, digits, _ and -")


def expand_keys(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys with ``*`` segments expanded against the tables of ``raw`` (in order):
    ``fleet.*.load_factor`` becomes one key per fleet class. A pattern that matches no
    table is kept as it is (and fails where it is applied)."""
    import fnmatch

    out: dict[str, Any] = {}
    for dotted, value in overrides.items():
        if "*" not in dotted:
            out[dotted] = value
            continue
        prefixes: list[tuple[list[str], Any]] = [([], raw)]
        parts = dotted.split(".")
        for part in parts[:-1]:
            nxt: list[tuple[list[str], Any]] = []
            for path, cur in prefixes:
                if not isinstance(cur, Mapping):
                    continue
                for k in cur:
                    if fnmatch.fnmatchcase(str(k), part):
                        nxt.append(([*path, str(k)], cur[k]))
            prefixes = nxt
        if not prefixes:
            out[dotted] = value
        for path, _ in prefixes:
            out[".".join([*path, parts[-1]])] = value
    return out


def _check_registry(sc: Scenario, file: str) -> None:
    from sim.core.registry import registry, suggest

    reg = registry()
    for cid, cls in sc.fleet.items():
        if not cls.from_registry or cls.names is None:
            continue
        for i, name in enumerate(cls.names):
            if reg.canonical(name) is None:
                raise ScenarioError(
                    file,
                    f"fleet.{cid}.names.{i}",
                    name,
                    "not a ship of the registry" + suggest(name, reg.names()),
                )


def _arrays_as_tuples(value: Any) -> Any:
    """TOML arrays (and Python lists) as tuples, the type of the schema's sequences."""
    if isinstance(value, Mapping):
        return {k: _arrays_as_tuples(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_arrays_as_tuples(v) for v in value)
    return value


def validate_dict(raw: Mapping[str, Any], file: str = "") -> Scenario:
    """Validate a raw scenario mapping; raise :class:`ScenarioError` on the first problem.

    Every setting of the scenario's ``[audit]`` is validated too (the scenario with that
    setting applied), so that ``validate`` refuses what ``tankersim robustness`` could not run.
    """
    try:
        sc = Scenario.model_validate(_arrays_as_tuples(dict(raw)))
    except ValidationError as err:
        raise _first_error(err, raw, file) from None
    _check_references(sc, file)
    if sc.audit:
        _check_audit(sc, raw, file)
    return sc


def _check_audit(sc: Scenario, raw: Mapping[str, Any], file: str) -> None:
    """Each ``[audit]`` setting applied to the scenario must give a valid scenario; an error
    names the setting's own key (``audit.<name>.<level>.<key>...``)."""
    base = {k: v for k, v in raw.items() if k != "audit"}
    for name, a in sc.audit.items():
        for level, sets in (("low", a.low), ("high", a.high)):
            expanded = expand_keys(base, sets)
            origin = {}
            for key in sets:
                for exp in expand_keys(base, {key: None}):
                    origin[exp] = key
            try:
                validate_dict(apply_overrides(base, expanded, file=file), file=file)
            except ScenarioError as exc:
                inner = exc.key
                where = f"audit.{name}.{level}"
                for exp in sorted(origin, key=len, reverse=True):
                    if inner == exp or inner.startswith(exp + "."):
                        where += f".{origin[exp]}{inner[len(exp) :]}"
                        break
                else:
                    where += f" ({inner})" if inner else ""
                raise ScenarioError(file, where, exc.value, exc.reason) from None


MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest scenario or evidence file read [bytes]."""
MAX_DEPTH = 12
"""The deepest nesting of tables and arrays in a scenario file."""
MAX_STRING = 20_000
"""The longest string in a scenario file [characters]."""


def read_text(path: str | Path, *, what: str = "file") -> str:
    """A text file as UTF-8, or in the encoding its byte-order mark names; anything else (a
    file too large, not UTF-8 without a BOM, unreadable) is a one-line :class:`ScenarioError`.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                str(p), "", None, f"{what} of {size:,} bytes: larger than {MAX_FILE_BYTES:,}"
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(str(p), "", None, "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(str(p), "", None, "a folder, not a file") from None
    except OSError as exc:  # no permission...
        raise ScenarioError(str(p), "", None, f"cannot read: {exc.strerror}") from None
    if b"\x00" in data and not data.startswith(tuple(b for b, _ in BOMS)):
        where = data.index(b"\x00")
        raise ScenarioError(
            str(p),
            "",
            None,
            f"a NUL byte at offset {where}: not UTF-8 text (UTF-16 without a byte-order mark?); "
            "save it as UTF-8",
        )
    return decode_text(data, str(p))


def _check_shape(raw: Mapping[str, Any], file: str) -> None:
    """Depth and string lengths of a parsed file, walked without recursion."""
    stack: list[tuple[str, Any, int]] = [("", raw, 0)]
    while stack:
        key, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(file, key, None, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise ScenarioError(
                file, key, value, f"a string of {len(value):,} characters (at most {MAX_STRING:,})"
            )
        if isinstance(value, Mapping):
            for k, v in value.items():
                if len(k) > 200:
                    raise ScenarioError(file, key, k, "a key longer than 200 characters")
                stack.append((f"{key}.{k}" if key else str(k), v, depth + 1))
        elif isinstance(value, list):
            stack += [(f"{key}[{i}]", v, depth + 1) for i, v in enumerate(value)]


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning I/O, encoding, syntax and shape errors into
    :class:`ScenarioError` (see :func:`read_text`, :data:`MAX_DEPTH`, :data:`MAX_STRING`)."""
    text = read_text(path, what="scenario file")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", None, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(
            str(path), "", None, f"arrays or tables nested deeper than {MAX_DEPTH} levels"
        ) from None
    _check_shape(raw, str(path))
    return raw


def read_source(
    scenario: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """A scenario's file name (for messages) and raw mapping, from a path or a mapping, with
    optional dotted-key ``overrides`` applied (see :func:`apply_overrides`)."""
    if isinstance(scenario, Mapping):
        file, raw = "<python>", dict(scenario)
    else:
        file, raw = str(scenario), read_toml(scenario)
    if overrides:
        raw = apply_overrides(raw, overrides, file=file)
    return file, raw


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file, with optional dotted-key ``overrides``.

    A scenario that names an evidence file has it validated too (relative to the scenario's
    folder).
    """
    raw = read_toml(path)
    if overrides:
        raw = apply_overrides(raw, overrides, file=str(path))
    sc = validate_dict(raw, file=str(path)).with_source(Path(path).parent)
    if sc.evidence is not None:
        from sim.core.evidence import scenario_evidence

        try:
            scenario_evidence(sc)
        except ScenarioError as exc:
            if exc.file:  # about the evidence file itself: it names that file
                raise
            raise ScenarioError(str(path), exc.key, exc.value, exc.reason) from None
    return sc


ALTERNATIVE_KEYS: dict[str, tuple[str, ...]] = {
    "capacity_bbl": ("capacity_m3", "capacity_t"),
    "capacity_m3": ("capacity_bbl",),
    "capacity_t": ("capacity_bbl",),
    "load_rate_bbl_per_h": ("load_rate_m3_per_h",),
    "load_rate_m3_per_h": ("load_rate_bbl_per_h",),
    "rate_bbl_per_h": ("rate_m3_per_h",),
    "rate_m3_per_h": ("rate_bbl_per_h",),
    "count": ("names",),
    "names": ("count",),
}
"""Keys that exclude each other: an override that sets one removes the others beside it."""


def apply_overrides(
    raw: Mapping[str, Any], overrides: Mapping[str, Any], file: str = ""
) -> dict[str, Any]:
    """A copy of ``raw`` with dotted keys set, e.g. ``{"fleet.large.count": 6}``.

    Setting one of a group of alternative keys (:data:`ALTERNATIVE_KEYS`) removes the others in
    the same table, so ``fleet.large.capacity_bbl = 30000`` replaces a capacity given in tonnes
    and cubic metres.
    """
    out: dict[str, Any] = copy.deepcopy(dict(raw))
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        cur: Any = out
        for i, part in enumerate(parts[:-1]):
            if not isinstance(cur, dict):
                raise ScenarioError(file, ".".join(parts[: i + 1]), cur, "not a table")
            cur = cur.setdefault(part, {})
        if not isinstance(cur, dict):
            raise ScenarioError(file, dotted, cur, "parent is not a table")
        for other in ALTERNATIVE_KEYS.get(parts[-1], ()):
            cur.pop(other, None)
        cur[parts[-1]] = value
    return out
