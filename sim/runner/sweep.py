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

from sim.analysis.verdict import MIN_MATCHES_WARN, condition, prob, word_for
from sim.core.config import (
    Scenario,
    ScenarioError,
    SweepSpec,
    VaryRange,
    apply_overrides,
    read_source,
    validate_dict,
)
from sim.core.distributions import Distribution
from sim.core.routes import RouteTable, build_route_table
from sim.runner.pipeline import (
    Executor,
    Job,
    blocks,
    execute_to_parts,
    finished,
    open_parts,
    output_folder,
    read_parts,
)

DESIGNS = ("grid", "lhs", "sobol")


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
            raise ScenarioError(
                "",
                f"sweep.vary.{self.key}",
                f"{self.low}:{self.high}",
                "a grid needs a number of values: low:high:num",
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
        raise ScenarioError("", where, token, "not a number or TOML value") from None


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
        raise ScenarioError("", "--vary", text, "expected KEY=low:high[:num] or KEY=v1,v2,...")
    key, spec = (part.strip() for part in text.split("=", 1))
    where = f"--vary {key}"
    if not key or not spec:
        raise ScenarioError("", "--vary", text, "expected KEY=low:high[:num] or KEY=v1,v2,...")
    if ":" in spec and not spec.startswith(("{", "[", '"')):
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise ScenarioError("", where, spec, "a range is low:high or low:high:num")
        lo, hi = (_parse_value(p, where) for p in parts[:2])
        num = _parse_value(parts[2], where) if len(parts) == 3 else None
        if not all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in (lo, hi)
        ):
            raise ScenarioError("", where, spec, "range ends must be finite numbers")
        if num is not None and (not _is_int(num) or num < 2):
            raise ScenarioError("", where, spec, "the number of values must be an integer >= 2")
        if hi < lo:
            raise ScenarioError("", where, spec, "high is below low")
        integer = _is_int(lo) and _is_int(hi) and (num is None or (hi - lo) % (num - 1) == 0)
        return Dimension(key, low=float(lo), high=float(hi), num=num, integer=integer)
    try:  # a TOML array: commas inside strings and inline tables are not separators
        values = tuple(tomllib.loads(f"v = [{spec}]")["v"])
    except tomllib.TOMLDecodeError:
        raise ScenarioError("", where, spec, "not a list of numbers or TOML values") from None
    if not values:
        raise ScenarioError("", where, spec, "no values")
    bad = [v for v in values if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise ScenarioError("", where, spec, "values must be finite numbers")
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
        raise ScenarioError("", "--vary", dupes[0], "this key is swept twice")
    if not dims:
        raise ScenarioError("", "--vary", None, "nothing to sweep")
    if kind == "grid":
        return [
            dict(zip([d.key for d in dims], combo, strict=True))
            for combo in itertools.product(*(d.grid_values() for d in dims))
        ]
    if n_points is None:
        raise ScenarioError("", "--points", None, f"a {kind} design needs a number of points")
    from scipy.stats import qmc

    if kind == "lhs":
        u = qmc.LatinHypercube(d=len(dims), seed=seed).random(n_points)
    elif kind == "sobol":
        m = math.ceil(math.log2(max(n_points, 2)))
        u = qmc.Sobol(d=len(dims), scramble=True, seed=seed).random_base2(m)[:n_points]
    else:
        raise ScenarioError("", "--design", kind, f"choose one of {', '.join(DESIGNS)}")
    return [{d.key: d.from_unit(float(x)) for d, x in zip(dims, row, strict=True)} for row in u]


@dataclass(frozen=True)
class Point:
    """One validated sweep point."""

    index: int
    overrides: dict[str, Any]
    scenario: Scenario
    raw: dict[str, Any]


def plan(
    raw: Mapping[str, Any],
    points: Sequence[Mapping[str, Any]],
    *,
    file: str = "",
) -> list[Point]:
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
        out.append(Point(i, dict(ov), sc, point_raw))
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


def _routes_for(points: Sequence[Point], file: str, cache_dir: Path | None) -> list[RouteTable]:
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


def point_summary(
    reps: pd.DataFrame,
    scenario: Scenario,
    *,
    halfwidth: int | None = 2,
    min_matches: int = 50,
    max_halfwidth: int = 5,
) -> dict[str, Any]:
    """The numbers a sweep reports for one point.

    With ``halfwidth`` set, every point conditions on observed visits within claimed ±
    ``halfwidth`` (the same window everywhere, so points compare like with like); with
    ``halfwidth=None`` each point widens its own window until ``min_matches`` replications
    match, as ``tankersim mc`` does.
    """
    cl = scenario.claims
    col = f"{cl.basis}_bbl"
    row: dict[str, Any] = {
        "replications": len(reps),
        "basis": cl.basis,
        "trips_p50": float(reps["trips"].median()),
        "observed_visits_p50": float(reps["observed_visits"].median()),
        "barrels_p50": float(reps[col].median()),
        "barrels_p05": float(reps[col].quantile(0.05)),
        "barrels_p95": float(reps[col].quantile(0.95)),
        "observed_bbl_p50": float(reps["observed_bbl"].median()),
        "mean_parcel_bbl": float(reps["mean_parcel_bbl"].mean()),
    }
    if cl.barrels is not None:
        p = prob(reps[col] >= cl.barrels)
        row |= {"p_barrels": p["p"], "p_barrels_lo": p["lo"], "p_barrels_hi": p["hi"]}
    if cl.barrels is not None and cl.trips is not None:
        sub, h = condition(
            reps,
            "observed_visits",
            cl.trips,
            min_matches=min_matches,
            max_halfwidth=max_halfwidth,
            halfwidth=halfwidth,
        )
        p = prob(sub[col] >= cl.barrels) if len(sub) else {"p": math.nan, "lo": 0.0, "hi": 1.0}
        row |= {
            "matches": len(sub),
            "halfwidth": h,
            "p_claim": p["p"],
            "p_claim_lo": p["lo"],
            "p_claim_hi": p["hi"],
            "verdict": word_for(p["p"]) if len(sub) else "no matches",
            "reliable": len(sub) >= MIN_MATCHES_WARN,
        }
    return row


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


def frontier(
    summary: pd.DataFrame, x: str, by: str | Sequence[str], level: float = 0.5
) -> pd.DataFrame:
    """Where ``p_claim`` crosses ``level`` along ``x``, for each value of the ``by`` inputs.

    Only points with enough matching replications (``reliable``) and a finite probability
    are used. Each row says what happens along ``x``:

    * ``crosses``: ``x_at_p50`` is the first crossing (linear interpolation between grid
      values); ``direction`` is ``rising`` (the claim holds above it) or ``falling`` (below);
    * ``above everywhere`` / ``below everywhere``: no crossing within the swept values;
    * ``no data``: fewer than one usable point.
    """
    cols = [by] if isinstance(by, str) else list(by)
    at_col = f"{x}_at_p{int(level * 100)}"
    rows = []
    for keys, g in summary.groupby(cols, sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        g = g.sort_values(x)
        if "reliable" in g:
            g = g[g["reliable"].astype(bool)]
        g = g[np.isfinite(g["p_claim"].to_numpy(dtype=float))]
        xs, ps = g[x].to_numpy(dtype=float), g["p_claim"].to_numpy(dtype=float)
        at, direction = math.nan, ""
        if len(ps) == 0:
            status = "no data"
        elif (ps >= level).all():
            status = "above everywhere"
        elif (ps < level).all():
            status = "below everywhere"
        else:
            status = "crosses"
            for i in range(1, len(ps)):
                if (ps[i - 1] >= level) != (ps[i] >= level):
                    at = xs[i - 1] + (level - ps[i - 1]) * (xs[i] - xs[i - 1]) / (ps[i] - ps[i - 1])
                    direction = "rising" if ps[i] > ps[i - 1] else "falling"
                    break
        rows.append(
            {
                **dict(zip(cols, keys, strict=True)),
                at_col: at,
                "direction": direction,
                "status": status,
                "points_used": len(ps),
            }
        )
    return pd.DataFrame(rows)


def run_sweep(
    scenario: str | Path | Mapping[str, Any],
    *,
    dims: Sequence[Dimension] | None = None,
    design_kind: str | None = None,
    n_points: int | None = None,
    n: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    executor: Executor = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    min_matches: int | None = None,
    halfwidth: int | str | None = "spec",
    block_size: int = 200,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
) -> SweepResult:
    """Run a sweep over a scenario file (or raw mapping); see the module docstring.

    Without ``dims`` the scenario's ``[sweep]`` table is used; arguments override its
    ``design``, ``points``, ``replications``, ``min_matches`` and ``halfwidth`` (the
    conditioning window, claimed visits ± halfwidth, the same at every point; ``None`` lets
    each point widen its own window until ``min_matches`` replications match).
    """
    file, raw = read_source(scenario)
    base = validate_dict(raw, file=file)
    spec = base.sweep
    if dims is None:
        if spec is None:
            raise ScenarioError(file, "sweep", None, "no [sweep] table and no --vary given")
        dims = dimensions_from_spec(spec)
    kind = design_kind or (spec.design if spec else "grid")
    n_pts = n_points if n_points is not None else (spec.points if spec else None)
    reps_n = n if n is not None else (spec.replications if spec else 500)
    mm = min_matches if min_matches is not None else (spec.min_matches if spec else 50)
    hw = (spec.halfwidth if spec else 2) if halfwidth == "spec" else halfwidth
    if isinstance(hw, str):
        raise ValueError(f"halfwidth must be an integer, None or 'spec', not {hw!r}")
    s = base.seed if seed is None else seed
    pts = plan(raw, design(dims, kind, n_pts, seed=s), file=file)
    if on_plan is not None:
        on_plan(len(pts))
    routes = _routes_for(pts, file, cache_dir)

    with output_folder(out, "tankersim-sweep-") as (out_dir, temporary):
        stamp = {
            "scenario_sha256_16": base.digest(),
            "seed": s,
            "points": hashlib.sha256(
                json.dumps([p.overrides for p in pts], sort_keys=True, default=str).encode()
            ).hexdigest()[:16],
        }
        parts = open_parts(out_dir, stamp, resume=resume, file=file)
        done = finished(parts)
        jobs = []
        already = 0
        for p, rt in zip(pts, routes, strict=True):
            have = done.get(p.index, set())
            already += len(have & set(range(reps_n)))
            missing = [r for r in range(reps_n) if r not in have]
            jobs += [
                Job(p.scenario, rt, s, p.index, b, daily=False) for b in blocks(missing, block_size)
            ]
        if progress is not None and already:
            progress(already)
        execute_to_parts(
            jobs,
            parts,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            min_group_replications=min(block_size, 50),
        )
        table = read_parts(parts, "reps")
        table = table[table["replication"] < reps_n].reset_index(drop=True)
        points_df = pd.DataFrame([{"point": p.index, **p.overrides} for p in pts])
        summaries = []
        for p in pts:
            sub = table[table["point"] == p.index]
            summaries.append(
                {
                    "point": p.index,
                    **p.overrides,
                    **point_summary(sub, p.scenario, halfwidth=hw, min_matches=mm),
                }
            )
        summary = pd.DataFrame(summaries)
        long = points_df.merge(table, on="point", how="right")
        fr = None
        numeric = kind == "grid" and all(
            all(isinstance(v, int | float) and not isinstance(v, bool) for v in d.grid_values())
            for d in dims
        )
        if len(dims) >= 2 and numeric and "p_claim" in summary:
            fr = frontier(summary, dims[0].key, [d.key for d in dims[1:]])
        result = SweepResult(
            dimensions=list(dims),
            points=points_df,
            summary=summary,
            table=long,
            frontier=fr,
            baseline={d.key: baseline_value(raw, d.key) for d in dims},
            base=base,
            seed=s,
            out_dir=None if temporary else out_dir,
            ran=sum(len(j.replications) for j in jobs),
        )
        if not temporary:
            _write(result, pts, out_dir, file=file, design_kind=kind, n=reps_n)
        return result


def _write(
    result: SweepResult, pts: Sequence[Point], out_dir: Path, *, file: str, design_kind: str, n: int
) -> None:
    from sim.outputs.files import write_provenance

    (out_dir / "points").mkdir(parents=True, exist_ok=True)
    for p in pts:
        (out_dir / "points" / f"p{p.index:05d}.toml").write_text(
            p.scenario.to_toml(), encoding="utf-8"
        )
    result.points.to_csv(out_dir / "points.csv", index=False)
    result.summary.to_csv(out_dir / "summary.csv", index=False)
    result.table.to_parquet(out_dir / "sweep.parquet", index=False)
    if result.frontier is not None:
        result.frontier.to_csv(out_dir / "frontier.csv", index=False)
    write_provenance(
        out_dir,
        result.base,
        scenario_path=file,
        seed=result.seed,
        command="sweep",
        design=design_kind,
        replications_per_point=n,
        points=len(pts),
        dimensions=[d.__dict__ for d in result.dimensions],
        baseline=result.baseline,
    )
