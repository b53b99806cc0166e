"""Parameter sweeps: many scenarios that differ in a few keys, run with common random numbers.

A sweep varies dotted scenario keys (``fleet.large.capacity_t``) over values. Points come from
a grid (every combination) or a space-filling design (Latin hypercube or scrambled Sobol')
over ranges. Every point is validated as a full scenario before anything runs. All points use
the same seed and replications ``0 .. N-1``: replication ``r`` draws the same uniform numbers
at every point (common random numbers), so differences between points are not sampling noise.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from sim.analysis.sweep import frontier, point_summary
from sim.core.config import (
    Scenario,
    ScenarioError,
    SweepSpec,
    VaryRange,
    apply_overrides,
    read_source,
    scenario_inputs,
    validate_dict,
)
from sim.core.defaults import SWEEP_BLOCK, SWEEP_HALFWIDTH, SWEEP_MIN_MATCHES, SWEEP_REPLICATIONS
from sim.core.distributions import Distribution
from sim.core.errors import OptionError
from sim.core.routes import RouteTable, build_route_table
from sim.model.prepared import Model, batch_identity, prepare
from sim.runner.pipeline import (
    ExecOptions,
    PartStore,
    Point,
    output_folder,
    run_points,
)

DESIGNS = ("grid", "lhs", "sobol")
KEEP = "spec"
"""``halfwidth=KEEP``: take the conditioning window from the scenario's ``[sweep]`` table."""


@dataclass(frozen=True)
class Dimension:
    """One swept key: explicit values, or a range (``low``, ``high``, optional ``num``)."""

    key: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = None
    integer: bool = False

    def grid_values(self) -> tuple[Any, ...]:
        """The values a grid takes along this dimension."""
        if self.values is not None:
            return self.values
        assert self.low is not None and self.high is not None
        if self.num is None:
            raise OptionError(
                "vary", f"{self.key}={self.low}:{self.high}", "a grid needs a number of values"
            )
        xs = np.linspace(self.low, self.high, self.num)
        return tuple(round(float(x)) for x in xs) if self.integer else tuple(float(x) for x in xs)

    def from_unit(self, u: float) -> Any:
        """The value at position ``u`` in [0, 1) of a space-filling design."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.low is not None and self.high is not None
        x = self.low + u * (self.high - self.low)
        return round(x) if self.integer else float(x)


def _parse_value(token: str, where: str) -> Any:
    try:
        return tomllib.loads(f"v = {token}")["v"]
    except tomllib.TOMLDecodeError:
        raise OptionError("vary", where, f"{token!r} is not a number or TOML value") from None


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def parse_vary(text: str) -> Dimension:
    """Parse ``KEY=low:high[:num]`` or ``KEY=v1,v2,...`` from the command line.

    >>> parse_vary("fleet.large.count=2:6:3").grid_values()
    (2, 4, 6)
    >>> parse_vary("discharge.NAMPHO.share=0.2,0.4").values
    (0.2, 0.4)
    """
    if "=" not in text:
        raise OptionError("vary", text, "expected KEY=low:high[:num] or KEY=v1,v2,...")
    key, spec = (part.strip() for part in text.split("=", 1))
    where = text
    if not key or not spec:
        raise OptionError("vary", text, "expected KEY=low:high[:num] or KEY=v1,v2,...")
    if ":" in spec and not spec.startswith(("{", "[", '"')):
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise OptionError("vary", where, "a range is low:high or low:high:num")
        lo, hi = (_parse_value(p, where) for p in parts[:2])
        num = _parse_value(parts[2], where) if len(parts) == 3 else None
        if not all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in (lo, hi)
        ):
            raise OptionError("vary", where, "range ends must be finite numbers")
        if num is not None and (not _is_int(num) or num < 2):
            raise OptionError("vary", where, "the number of values must be an integer >= 2")
        if hi < lo:
            raise OptionError("vary", where, "high is below low")
        integer = _is_int(lo) and _is_int(hi) and (num is None or (hi - lo) % (num - 1) == 0)
        return Dimension(key, low=float(lo), high=float(hi), num=num, integer=integer)
    try:  # a TOML array: commas inside strings and inline tables are not separators
        values = tuple(tomllib.loads(f"v = [{spec}]")["v"])
    except tomllib.TOMLDecodeError:
        raise OptionError("vary", where, "not a list of numbers or TOML values") from None
    if not values:
        raise OptionError("vary", where, "no values")
    bad = [v for v in values if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise OptionError("vary", where, "values must be finite numbers")
    return Dimension(key, values=values)


def dimensions_from_spec(spec: SweepSpec) -> list[Dimension]:
    """The dimensions of a ``[sweep]`` table."""
    dims = []
    for key, v in spec.vary.items():
        if isinstance(v, VaryRange):
            dims.append(Dimension(key, low=v.low, high=v.high, num=v.num, integer=v.integer))
        else:
            dims.append(Dimension(key, values=tuple(v)))
    return dims


def design(
    dims: Sequence[Dimension], kind: str = "grid", n_points: int | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """The points of a design, each a mapping of dotted keys to values."""
    keys = [d.key for d in dims]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise OptionError("vary", dupes[0], "this key is swept twice")
    if not dims:
        raise OptionError("vary", None, "nothing to sweep")
    if kind == "grid":
        return [
            dict(zip([d.key for d in dims], combo, strict=True))
            for combo in itertools.product(*(d.grid_values() for d in dims))
        ]
    if n_points is None:
        raise OptionError("n_points", None, f"a {kind} design needs a number of points")
    from scipy.stats import qmc

    if kind == "lhs":
        u = qmc.LatinHypercube(d=len(dims), seed=seed).random(n_points)
    elif kind == "sobol":
        m = math.ceil(math.log2(max(n_points, 2)))
        u = qmc.Sobol(d=len(dims), scramble=True, seed=seed).random_base2(m)[:n_points]
    else:
        raise OptionError("design", kind, f"choose one of {', '.join(DESIGNS)}")
    return [{d.key: d.from_unit(float(x)) for d, x in zip(dims, row, strict=True)} for row in u]


@dataclass(frozen=True)
class SweepPoint:
    """One validated sweep point."""

    index: int
    overrides: dict[str, Any]
    scenario: Scenario
    raw: dict[str, Any]


def plan_points(
    raw: Mapping[str, Any],
    points: Sequence[Mapping[str, Any]],
    *,
    file: str = "",
) -> list[SweepPoint]:
    """Validate every point as a full scenario; the first bad one raises ScenarioError."""
    base = {k: v for k, v in raw.items() if k != "sweep"}
    out = []
    for i, ov in enumerate(points):
        point_raw = apply_overrides(base, ov, file=file)
        try:
            sc = validate_dict(point_raw, file=file)
        except ScenarioError as exc:
            where = ", ".join(f"{k}={v!r}" for k, v in ov.items())
            raise ScenarioError(
                file, exc.key, exc.value, f"{exc.reason} (sweep point {i}: {where})"
            ) from None
        out.append(SweepPoint(i, dict(ov), sc, point_raw))
    return out


def as_fixed(base: Scenario, overrides: Mapping[str, Any]) -> dict[str, float] | None:
    """A sweep point as values fixed on the base scenario, or None when it is not one.

    A point is one when every key it sets is a fleet-level unknown (``unknowns.<name>``) or
    an input without a ``scale`` (a scaled input set to a number loses its scale), and every
    value is a number. Such points share the base scenario and run as rows of common blocks
    (:attr:`sim.runner.pipeline.Point.fixed`), with the same results as their own scenarios.
    """
    inputs = {inp.key: inp.dist for inp in scenario_inputs(base)}
    out: dict[str, float] = {}
    for key, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        name = key.removeprefix("unknowns.")
        if name != key and name in base.unknowns:
            out[key] = float(value)
            continue
        dist = inputs.get(key)
        if dist is None or dist.scale is not None:
            return None
        out[key] = float(value)
    return out


def baseline_value(raw: Mapping[str, Any], key: str) -> float | None:
    """The base scenario's value at a dotted key: a number, or a distribution's mean."""
    cur: Any = raw
    for part in key.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    if isinstance(cur, bool):
        return None
    if isinstance(cur, int | float):
        return float(cur)
    if isinstance(cur, Mapping) and "dist" in cur:
        try:
            return float(TypeAdapter(Distribution).validate_python(dict(cur)).mean)
        except ValidationError:
            return None
    return None


def _routes_for(
    points: Sequence[SweepPoint], file: str, cache_dir: Path | None
) -> list[RouteTable]:
    """Route tables per point, computed once per distinct routing input."""
    cache: dict[str, RouteTable] = {}
    out = []
    for p in points:
        sc = p.scenario
        key_src = {
            "terminal": sc.terminal.port,
            "discharge": sorted(sc.discharge),
            "ports": sc.model_dump(mode="json")["ports"],
            "routing": sc.model_dump(mode="json")["routing"],
        }
        key = hashlib.sha256(json.dumps(key_src, sort_keys=True).encode()).hexdigest()
        if key not in cache:
            cache[key] = build_route_table(sc, file=file, cache_dir=cache_dir)
        out.append(cache[key])
    return out


@dataclass
class SweepResult:
    """A finished sweep."""

    dimensions: list[Dimension]
    points: pd.DataFrame
    summary: pd.DataFrame
    table: pd.DataFrame
    frontier: pd.DataFrame | None
    baseline: dict[str, float | None]
    base: Scenario
    seed: int
    out_dir: Path | None
    ran: int
    design: str
    replications: int
    scenarios: list[SweepPoint]

    def __repr__(self) -> str:
        from sim.core.reprs import clip_list, short_repr

        return short_repr(
            "SweepResult",
            self.base.name,
            f"{len(self.summary)} points x {self.replications} replications over "
            f"{clip_list(d.key for d in self.dimensions)}",
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import clip_list, html_summary

        rows: list[tuple[str, object]] = [
            ("inputs", clip_list((d.key for d in self.dimensions), 10, 80)),
            ("design", self.design),
            ("points", f"{len(self.summary):,}"),
            ("replications per point", f"{self.replications:,}"),
            ("seed", self.seed),
        ]
        if "p_claim" in self.summary and len(self.summary):
            p = self.summary["p_claim"]
            rows.append(("P(claim | claimed visits), lowest-highest point",
                         f"{p.min():.0%}-{p.max():.0%}"))  # fmt: skip
        if self.out_dir is not None:
            rows.append(("folder", str(self.out_dir)))
        return html_summary(f"Sweep: {self.base.name}", rows)


@dataclass(frozen=True)
class SweepSettings:
    """A sweep's design and conditioning, resolved from arguments and the ``[sweep]`` table."""

    dims: list[Dimension]
    design: str
    n_points: int | None
    replications: int
    min_matches: int
    halfwidth: int | None


def resolve(
    base: Scenario,
    *,
    file: str,
    dims: Sequence[Dimension] | None,
    design_kind: str | None,
    n_points: int | None,
    n: int | None,
    min_matches: int | None,
    halfwidth: int | str | None,
) -> SweepSettings:
    """Arguments first, then the scenario's ``[sweep]`` table, then the defaults."""
    spec: SweepSpec | None = base.sweep
    if dims is None:
        if spec is None:
            raise ScenarioError(file, "sweep", None, "no [sweep] table and no dimensions given")
        dims = dimensions_from_spec(spec)
    hw = (spec.halfwidth if spec else SWEEP_HALFWIDTH) if halfwidth == KEEP else halfwidth
    if isinstance(hw, str):
        raise OptionError("halfwidth", hw, f"an integer, None or {KEEP!r}")
    return SweepSettings(
        dims=list(dims),
        design=design_kind or (spec.design if spec else "grid"),
        n_points=n_points if n_points is not None else (spec.points if spec else None),
        replications=n if n is not None else (spec.replications if spec else SWEEP_REPLICATIONS),
        min_matches=(
            min_matches
            if min_matches is not None
            else (spec.min_matches if spec else SWEEP_MIN_MATCHES)
        ),
        halfwidth=hw,
    )


def run_sweep(
    scenario: str | Path | Mapping[str, Any],
    *,
    dims: Sequence[Dimension] | None = None,
    design_kind: str | None = None,
    n_points: int | None = None,
    n: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    options: ExecOptions | None = None,
    resume: bool = False,
    min_matches: int | None = None,
    halfwidth: int | str | None = KEEP,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SweepResult:
    """Run a sweep over a scenario file (or raw mapping); see the module docstring.

    Without ``dims`` the scenario's ``[sweep]`` table is used; arguments override its
    ``design``, ``points``, ``replications``, ``min_matches`` and ``halfwidth`` (the
    conditioning window, claimed visits ± halfwidth, the same at every point; ``None`` lets
    each point widen its own window until ``min_matches`` replications match). ``on_plan`` is
    called with the number of points once they are validated. ``overrides`` (dotted keys, as
    ``--set``) change the base scenario before the points are laid over it.
    """
    file, raw = read_source(scenario, overrides)
    folder = None if isinstance(scenario, Mapping) else Path(scenario).parent
    base = validate_dict(raw, file=file).with_source(folder)
    st = resolve(
        base,
        file=file,
        dims=dims,
        design_kind=design_kind,
        n_points=n_points,
        n=n,
        min_matches=min_matches,
        halfwidth=halfwidth,
    )
    s = base.seed if seed is None else seed
    pts = plan_points(raw, design(st.dims, st.design, st.n_points, seed=s), file=file)
    if on_plan is not None:
        on_plan(len(pts))
    routes = _routes_for(pts, file, cache_dir)
    with output_folder(out, "tankersim-sweep-") as (out_dir, temporary):
        identity = batch_identity(
            base,
            s,
            points=hashlib.sha256(
                json.dumps([p.overrides for p in pts], sort_keys=True, default=str).encode()
            ).hexdigest()[:16],
        )
        store = PartStore.open(out_dir, identity, resume=resume)
        points = []
        base_model: Model | None = None  # one model for every point that fixes values on it
        for p, rt in zip(pts, routes, strict=True):
            fixed = as_fixed(base, p.overrides)
            if fixed is not None:  # the base scenario with values fixed: packed in blocks
                if base_model is None:
                    base_model = prepare(base, routes=rt, file=file)
                points.append(Point(p.index, base_model, p.overrides, fixed=fixed))
            else:
                model = prepare(p.scenario.with_source(folder), routes=rt, file=file)
                points.append(Point(p.index, model, p.overrides))
        exp = run_points(
            points,
            replications=st.replications,
            seed=s,
            store=store,
            options=options or ExecOptions(),
            block_size=SWEEP_BLOCK,
            min_group_replications=min(SWEEP_BLOCK, 50),
            progress=progress,
        )
        table = exp.table
        points_df = pd.DataFrame([{"point": p.index, **p.overrides} for p in pts])
        summary = pd.DataFrame(
            [
                {
                    "point": p.index,
                    **p.overrides,
                    **point_summary(
                        table[table["point"] == p.index],
                        p.scenario,
                        halfwidth=st.halfwidth,
                        min_matches=st.min_matches,
                    ),
                }
                for p in pts
            ]
        )
        long = points_df.merge(table, on="point", how="right")
        fr = None
        numeric = st.design == "grid" and all(
            all(isinstance(v, int | float) and not isinstance(v, bool) for v in d.grid_values())
            for d in st.dims
        )
        if len(st.dims) >= 2 and numeric and "p_claim" in summary:
            fr = frontier(summary, st.dims[0].key, [d.key for d in st.dims[1:]])
        return SweepResult(
            dimensions=st.dims,
            points=points_df,
            summary=summary,
            table=long,
            frontier=fr,
            baseline={d.key: baseline_value(raw, d.key) for d in st.dims},
            base=base,
            seed=s,
            out_dir=None if temporary else out_dir,
            ran=exp.ran,
            design=st.design,
            replications=st.replications,
            scenarios=pts,
        )
