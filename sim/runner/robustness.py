"""The assumption audit: the answer at the plausible ends of every assumption.

A calibrated answer is only as good as what it was not fitted to: the priors chosen for the
unknowns, the engineering estimates (load factor, product mix, how much ships differ), and
which evidence rows were trusted. ``tankersim robustness`` calibrates the scenario again with
each of them moved to its low and its high plausible setting, one at a time (``[audit]`` in
the scenario), and over every *evidence set* crossed with every *prior set* (``[priors]``),
so that the two choices that decide most are seen together. Each setting is a full
calibration (the same statistics, sampler and seed as ``tankersim calibrate``), run with a
smaller population (``--population``, default :data:`POPULATION`) to keep the audit to
minutes: its Monte Carlo error is larger than the headline's, and stated beside each answer.

The result is the *range* of answers (the lowest and highest P(seen visits carried the claim)
over every setting, and which settings give them), the inputs that decide it (those whose own
settings move the answer by at least :data:`DECISIVE`), a tornado chart and a table.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.config import KEY_WORDS, Scenario, expand_keys, read_source
from sim.core.errors import ScenarioError
from sim.core.evidence import EVIDENCE_SETS
from sim.core.fmt import pct
from sim.runner.calibrate import CalibrationResult, _calibrate_one, _require_pyabc, setup
from sim.runner.pipeline import ExecOptions, open_executor

__all__ = [
    "DECISIVE",
    "MC_Z",
    "POPULATION",
    "RobustnessResult",
    "Setting",
    "audit_settings",
    "decides",
    "run_robustness",
    "unclear_clause",
]

POPULATION = 300
"""Particles per generation of each calibration of the audit (the headline's: 1,000)."""
REPLICATIONS = 10
"""Posterior replications per particle in each calibration of the audit."""
DECISIVE = 0.10
"""An input decides the answer when its settings move P(seen) by at least this much, even at
the low end of the swing's Monte Carlo interval (:data:`MC_Z` standard errors below it)."""
MC_Z = 2.0
"""Standard errors of Monte Carlo error a swing must clear to count as decisive (about a 95 %
interval): the audit's settings use few particles, and a swing that only noise could make must
not be read as a fact about the world."""
CENTRE = "default"


@dataclass(frozen=True)
class Setting:
    """One calibration of the audit: an input at one of its settings, the rest as given."""

    input: str
    """The audited input (``default``, ``evidence``, ``prior``, ``evidence x prior`` or an
    ``[audit]`` name)."""
    label: str
    level: str
    level_label: str
    evidence: str
    prior: str
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return f"{self.input}--{self.level}".replace(" ", "").replace("/", "-")


def _words(key: str) -> str:
    """A fleet-level key in words, without its unit: ``the fleet's typical size``."""
    words = KEY_WORDS.get(key, key).split(" [")[0]
    return "the " + words if words.startswith("fleet's") else words


def audit_settings(scenario: Scenario, raw: Mapping[str, Any]) -> list[Setting]:
    """The audit's settings: the default first, then every evidence set x prior set, then
    every ``[audit]`` input at its low and high setting (with the default evidence and prior).
    ``raw`` is the scenario's raw mapping (``*`` keys are expanded against it)."""
    ev0 = scenario.calibration.evidence
    out = [Setting(CENTRE, "the default", CENTRE, "the default", ev0, "scenario")]
    priors = ["scenario", *scenario.priors]
    keys = sorted({k for ps in scenario.priors.values() for k in ps.set})
    prior_words = "the prior on " + ", ".join(_words(k) for k in keys)
    for ev in EVIDENCE_SETS:
        for prior in priors:
            if (ev, prior) == (ev0, "scenario"):
                continue
            if prior == "scenario":
                inp, label = "evidence", "which evidence rows are fitted (evidence set)"
                level, level_label = ev, f"evidence set {ev}"
            elif ev == ev0:
                inp, label = "prior", f"{prior_words} (prior set)"
                level, level_label = prior, f"prior set {prior}"
            else:
                inp, label = "evidence x prior", f"{prior_words} and the evidence set together"
                level, level_label = f"{ev}+{prior}", f"evidence set {ev}, prior set {prior}"
            out.append(Setting(inp, label, level, level_label, ev, prior))
    for name, a in scenario.audit.items():
        for level, sets, words in (("low", a.low, a.low_label), ("high", a.high, a.high_label)):
            out.append(
                Setting(name, a.label, level, words, ev0, "scenario", expand_keys(raw, sets))
            )
    return out


@dataclass
class RobustnessResult:
    """The audit's answers (one row per setting) and what they add up to."""

    scenario: Scenario
    table: pd.DataFrame
    results: dict[str, CalibrationResult]
    population: int
    elapsed_s: float
    out_dir: Path | None = None

    @property
    def centre(self) -> pd.Series:
        return self.table.iloc[0]

    @property
    def range(self) -> tuple[float, float]:
        """The lowest and highest P(seen visits carried the claim) over every setting."""
        return float(self.table["p_seen"].min()), float(self.table["p_seen"].max())

    def extremes(self) -> tuple[pd.Series, pd.Series]:
        t = self.table
        return t.loc[t["p_seen"].idxmin()], t.loc[t["p_seen"].idxmax()]

    def swings(self) -> pd.DataFrame:
        """One row per audited input: the lowest and highest P(seen) over its settings and the
        default, the swing (their difference) and the settings that give them, largest
        swing first (the tornado's order); with the Monte Carlo standard errors of both ends
        and of the swing (``mcse_low``, ``mcse_high``, ``swing_mcse``). ``decisive``: the
        swing is at least :data:`DECISIVE` even :data:`MC_Z` standard errors below it;
        ``unclear``: it reaches :data:`DECISIVE` but only within its Monte Carlo error."""
        t = self.table
        c = float(self.centre["p_seen"])
        c_se = float(self.centre["mcse"])
        rows = []
        for inp, g in t.iloc[1:].groupby("input", sort=False):
            lo, hi = g.loc[g["p_seen"].idxmin()], g.loc[g["p_seen"].idxmax()]
            lo_set, hi_set = float(lo["p_seen"]) <= c, float(hi["p_seen"]) >= c
            low = float(lo["p_seen"]) if lo_set else c
            high = float(hi["p_seen"]) if hi_set else c
            se_low = float(lo["mcse"]) if lo_set else c_se
            se_high = float(hi["mcse"]) if hi_set else c_se
            swing, se = high - low, math.hypot(se_low, se_high)
            rows.append(
                {
                    "input": inp,
                    "label": g["label"].iloc[0],
                    "p_low": low,
                    "p_high": high,
                    "swing": swing,
                    "at_low": lo["level_label"] if lo_set else "the default",
                    "at_high": hi["level_label"] if hi_set else "the default",
                    "mcse_low": se_low,
                    "mcse_high": se_high,
                    "swing_mcse": se,
                    "decisive": swing - MC_Z * se >= DECISIVE,
                    "unclear": swing - MC_Z * se < DECISIVE <= swing + MC_Z * se,
                }
            )
        out = pd.DataFrame(rows)
        return out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)

    def deciders(self) -> list[str]:
        """The inputs that decide the answer (see :data:`DECISIVE`), largest swing first; the
        evidence set x prior set grid only when neither decides on its own."""
        sw = self.swings()
        sw = sw[sw["decisive"]]
        alone = set(sw["input"]) & {"evidence", "prior"}
        if alone:
            sw = sw[sw["input"] != "evidence x prior"]
        return [str(x) for x in sw["label"]]

    def unclear(self) -> list[str]:
        """The inputs the audit cannot tell decisive or not: their swing's Monte Carlo interval
        straddles :data:`DECISIVE` (more particles would tell), largest swing first."""
        sw = self.swings()
        return [str(x) for x in sw[sw["unclear"] & (sw["input"] != "evidence x prior")]["label"]]

    def mc_error(self) -> tuple[float, float, str]:
        """The Monte Carlo standard error of P(seen) over the audit's settings: the median,
        the largest, and the setting that has it."""
        t = self.table
        worst = t.loc[t["mcse"].idxmax()]
        where = f"{worst['label']}: {worst['level_label']}"
        return float(t["mcse"].median()), float(worst["mcse"]), where

    def headline(self) -> str:
        """Where the answer lies across the audit, what decides it, the default's answer and
        the Monte Carlo error, in that order."""
        lo, hi = self.range
        lo_row, hi_row = self.extremes()
        c = self.centre
        deciders = self.deciders()
        what = " and ".join(deciders[:2]) if deciders else "no single input"
        med, worst, where = self.mc_error()
        return (
            f"Did the {self.scenario.claims.trips} seen visits carry "
            f"{self.scenario.claims.barrels:,.0f} barrels? Across the assumption audit the "
            f"probability lies between {pct(lo)} ({lo_row['level_label']}) and {pct(hi)} "
            f"({hi_row['level_label']}); what decides it: {what}"
            f"{unclear_clause(self.swings().to_dict('records'))}. Under the default "
            f"(evidence set {c['evidence']}, the scenario's priors) it is {pct(c['p_seen'])} "
            f"({c['word']}); counting the visits the imagery missed, the fleet loaded that much "
            f"with probability {pct(c['p_fleet'])}. Monte Carlo error of each answer of the "
            f"audit: ±{100 * med:.1f} points (median), up to ±{100 * worst:.1f} ({where}); "
            f"{self.population} particles each."
        )

    def to_dict(self) -> dict[str, Any]:
        lo_row, hi_row = self.extremes()
        med, worst, where = self.mc_error()
        return {
            "scenario": self.scenario.name,
            "headline": self.headline(),
            "range": list(self.range),
            "lowest": _row_dict(lo_row),
            "highest": _row_dict(hi_row),
            "default": _row_dict(self.centre),
            "deciders": self.deciders(),
            "unclear": self.unclear(),
            "decisive_swing": DECISIVE,
            "decisive_z": MC_Z,
            "mcse_median": med,
            "mcse_max": worst,
            "mcse_max_at": where,
            "swings": self.swings().to_dict(orient="records"),
            "population": self.population,
            "settings": [_row_dict(r) for _, r in self.table.iterrows()],
            "elapsed_s": self.elapsed_s,
        }

    def __repr__(self) -> str:
        from sim.core.reprs import short_repr

        lo, hi = self.range
        return short_repr(
            "RobustnessResult",
            self.scenario.name,
            f"{len(self.table)} settings, P(seen) {lo:.2f}-{hi:.2f}, default "
            f"{float(self.centre['p_seen']):.2f} ({self.centre['word']})",
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import html_summary

        lo, hi = self.range
        rows: list[tuple[str, object]] = [
            ("settings", len(self.table)),
            ("P(seen) across the audit", f"{pct(lo)}-{pct(hi)}"),
            ("decided by", ", ".join(self.deciders()) or "no single input"),
            ("default", f"{pct(self.centre['p_seen'])} ({self.centre['word']})"),
        ]
        return html_summary(f"Assumption audit: {self.scenario.name}", rows)


def decides(swing: Mapping[str, Any]) -> str:
    """Whether an input decides the answer, in words, from a row of
    :meth:`RobustnessResult.swings` (or its record in robustness.json)."""
    if swing["decisive"]:
        return "yes"
    return "cannot tell (Monte Carlo error)" if swing.get("unclear") else "no"


def unclear_clause(swings: Sequence[Mapping[str, Any]], tail: str = "") -> str:
    """``; within Monte Carlo error, N more might (...)`` for the inputs the audit cannot tell
    decisive or not (rows of :meth:`RobustnessResult.swings`, or their records in
    robustness.json, largest swing first), or nothing; ``tail`` ends the parenthesis."""
    sw = [r for r in swings if r.get("unclear") and r["input"] != "evidence x prior"]
    if not sw:
        return ""
    r = sw[0]
    more = "1 more input might" if len(sw) == 1 else f"{len(sw)} more inputs might"
    return (
        f"; {more}, within Monte Carlo error (the largest: {r['label']}, a swing of "
        f"{100 * r['swing']:.0f} ± {100 * MC_Z * r['swing_mcse']:.0f} points{tail})"
    )


def _row_dict(r: pd.Series) -> dict[str, Any]:
    out = {}
    for k, v in r.items():
        out[str(k)] = v.item() if hasattr(v, "item") else v
    return out


def run_robustness(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    *,
    population: int = POPULATION,
    replications: int = REPLICATIONS,
    generations: int | None = None,
    seed: int | None = None,
    options: ExecOptions | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    only: Sequence[str] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    on_setting: Callable[[int, int, Setting], None] | None = None,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RobustnessResult:
    """Calibrate the scenario at every setting of the audit (see the module docstring).

    ``only`` keeps the settings of the named inputs (and the default). With ``out`` each
    calibration is kept in ``out/settings/<input>--<level>/`` (``resume=True`` reuses what
    finished). ``on_setting(i, n, setting)`` is called before each calibration starts."""
    _require_pyabc()  # a missing extra is one line before anything starts
    base = setup(scenario, seed=seed, cache_dir=cache_dir, overrides=overrides)
    sc = base.scenario
    if isinstance(scenario, Scenario):
        raw = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
    else:
        _, raw = read_source(scenario, overrides)
    settings = audit_settings(sc, raw)
    if only:
        known = {s.input for s in settings}
        for name in only:
            if name not in known:
                raise ScenarioError(
                    "",
                    "audit",
                    name,
                    f"no such audited input (choose from {', '.join(sorted(known))})",
                )
        settings = [s for s in settings if s.input == CENTRE or s.input in only]
    t0 = time.perf_counter()
    with open_executor(options or ExecOptions()) as ex:
        rows, results = _run_settings(
            scenario, settings, ex,
            population=population, replications=replications, generations=generations,
            seed=seed, options=options, out=out, resume=resume, progress=progress,
            on_setting=on_setting, cache_dir=cache_dir, overrides=overrides,
        )  # fmt: skip
    table = pd.DataFrame(rows)
    result = RobustnessResult(sc, table, results, population, time.perf_counter() - t0)
    result.out_dir = None if out is None else Path(out)
    return result


def _run_settings(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    settings: Sequence[Setting],
    ex: Any,
    *,
    population: int,
    replications: int,
    generations: int | None,
    seed: int | None,
    options: ExecOptions | None,
    out: str | Path | None,
    resume: bool,
    progress: Callable[[dict[str, Any]], None] | None,
    on_setting: Callable[[int, int, Setting], None] | None,
    cache_dir: Path | None,
    overrides: Mapping[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, CalibrationResult]]:
    rows = []
    results: dict[str, CalibrationResult] = {}
    for i, st in enumerate(settings):
        if on_setting is not None:
            on_setting(i, len(settings), st)
        sub = None if out is None else Path(out) / "settings" / st.slug
        try:
            r = _calibrate_one(
                scenario,
                prior=st.prior,
                seed=seed,
                options=options,
                out=sub,
                resume=resume,
                population=population,
                generations=generations,
                replications=replications,
                progress=progress,
                cache_dir=cache_dir,
                overrides={**(overrides or {}), **st.overrides},
                evidence=st.evidence,
                executor=ex,
            )
        except ScenarioError as exc:
            where = f"audit.{st.input}.{st.level}" if st.overrides else exc.key
            raise ScenarioError(exc.file, where, exc.value, exc.reason) from None
        results[st.slug] = r
        v = r.verdict
        rows.append(
            {
                "input": st.input,
                "label": st.label,
                "level": st.level,
                "level_label": st.level_label,
                "evidence": st.evidence,
                "prior": st.prior,
                "p_seen": v.seen.p,
                "mcse": v.seen.mcse,
                "p_fleet": v.fleet.p,
                "fleet_mcse": v.fleet.mcse,
                "word": v.word,
                "fleet_word": v.fleet_word,
                "particles": v.particles,
                "simulations": r.simulated,
                "fitted": ", ".join(v.fitted),
                "folder": "" if sub is None else str(Path("settings") / st.slug),
            }
        )
    return rows, results
