"""Simulation-based calibration: are the calibration's credible intervals honest?

A credible interval is calibrated when, for values of the unknowns drawn from the prior, the
90 % interval covers the value that made the data 90 % of the time. Simulation-based
calibration (Cook, Gelman and Rubin 2006; Talts et al. 2018, arXiv:1804.06788) tests exactly
that, with the whole procedure as it is used:

1. draw a *truth*: every fitted unknown from its prior (counter-based streams, so truth ``k``
   is the same whatever else runs);
2. simulate one replication at the truth and write its statistics as the evidence (each fitted
   row keeps its relation: ``= 43`` becomes ``= <the truth's visits>``, ``>= 13`` becomes
   ``>= <its distinct tankers>``); the claim's visits become the truth's seen visits;
3. calibrate on that evidence exactly as ``tankersim calibrate`` does (a smaller population);
4. record the truth's *rank*: the posterior probability below it (P(theta < truth), mid-rank
   for ties), for every fitted unknown and for the seen visits' barrels (the truth's barrels
   against the posterior's, put on the same visits).

If the posterior is calibrated the ranks are uniform on (0, 1): a 50 % interval covers the
truth in half of the truths (rank in 0.25-0.75), a 90 % interval in 90 % (rank in 0.05-0.95),
and the rank histogram is flat (a chi-square test gives its p-value). ABC conditions on the
statistics matched within a tolerance, not on the data themselves, and a ``>=`` row says only
"at least", so some over-coverage (intervals a little too wide) is the expected departure.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.posterior import claim_quantities
from sim.core.config import read_source
from sim.core.csvsafe import safe_for_csv
from sim.core.rng import entity_key, uniforms
from sim.runner.calibrate import _calibrate_one, setup
from sim.runner.pipeline import ExecOptions, Job, open_executor, run_jobs

__all__ = ["SBC_REPLICATION0", "SbcResult", "coverage", "run_sbc"]

SBC_REPLICATION0 = 4_000_000_000
"""Replication number of truth 0's simulated evidence."""
SEEN = "seen_bbl"
"""The rank column of the seen visits' barrels."""


def _rank(x: np.ndarray, w: np.ndarray, truth: float) -> float:
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if not len(x):
        return math.nan
    return float((w[x < truth].sum() + 0.5 * w[x == truth].sum()) / w.sum())


@dataclass
class SbcResult:
    """One row per truth: the truth's values, its rank under the posterior for every fitted
    unknown and the seen barrels (columns ``rank:<key>``), and the posterior answer."""

    table: pd.DataFrame
    keys: tuple[str, ...]
    population: int
    evidence_set: str
    elapsed_s: float
    relations: str = "exact"

    def coverage(self) -> pd.DataFrame:
        return coverage(self.table, self.keys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "truths": len(self.table),
            "population": self.population,
            "evidence_set": self.evidence_set,
            "relations": self.relations,
            "coverage": self.coverage().to_dict(orient="records"),
            "elapsed_s": self.elapsed_s,
        }


def coverage(table: pd.DataFrame, keys: Sequence[str], bins: int = 10) -> pd.DataFrame:
    """Per quantity: truths, the share covered by the central 50 % and 90 % intervals (with
    Wilson 95 % intervals: what a finite number of truths allows), the rank histogram (counts
    in ``bins`` equal bins) and the chi-square p-value of its flatness."""
    from scipy.stats import chisquare

    from sim.analysis.stats import prob

    rows = []
    for key in [*keys, SEEN]:
        u = table[f"rank:{key}"].to_numpy(dtype=float)
        u = u[np.isfinite(u)]
        if not len(u):
            continue
        c50 = prob((u >= 0.25) & (u <= 0.75))
        c90 = prob((u >= 0.05) & (u <= 0.95))
        hist = np.histogram(u, bins=bins, range=(0.0, 1.0))[0]
        rows.append(
            {
                "quantity": key,
                "truths": len(u),
                "covered_50": c50["p"],
                "covered_50_lo": c50["lo"],
                "covered_50_hi": c50["hi"],
                "covered_90": c90["p"],
                "covered_90_lo": c90["lo"],
                "covered_90_hi": c90["hi"],
                "rank_histogram": " ".join(str(int(h)) for h in hist),
                "chi2_p": float(chisquare(hist).pvalue),
            }
        )
    return pd.DataFrame(rows)


def _truth_evidence(text: str, values: Mapping[str, float], exact: bool = True) -> str:
    """The evidence file with the fitted rows' numbers replaced by the truth's; with
    ``exact`` a bound (``>=``, ``<=``) becomes ``=`` (see :func:`run_sbc`)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = list(reader.fieldnames or [])
    out = io.StringIO(newline="")
    w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for row in reader:
        if row["id"] in values:
            v = values[row["id"]]
            kind = row["kind"]
            col = {"volume": "bbl", "share_sanctioned": "share"}.get(kind, "count")
            row[col] = f"{v:.6g}" if col == "share" else f"{round(v):d}"
            if exact and row.get("relation") in (">=", "<="):
                row["relation"] = "="
        w.writerow(row)
    return out.getvalue()


def run_sbc(
    scenario: str | Path,
    *,
    truths: int = 100,
    population: int = 300,
    replications: int = 5,
    generations: int | None = None,
    seed: int = 1,
    evidence: str | None = None,
    relations: str = "exact",
    options: ExecOptions | None = None,
    out: str | Path | None = None,
    on_truth: Callable[[int, dict[str, Any]], None] | None = None,
) -> SbcResult:
    """Simulation-based calibration of ``scenario``'s calibration over ``truths`` truths (see
    the module docstring). With ``out``, every finished truth is appended to
    ``out/sbc.csv`` and a rerun continues from there. ``on_truth(k, row)`` is called after
    each truth.

    ``relations``: ``"exact"`` (the default) reports each fitted row as the truth's exact
    value (``=``): the simulated truth *is* what its observer saw, so that is the data, and
    calibration can be tested exactly; ``"as-used"`` keeps the evidence file's relations, so a
    ``>= 4`` row becomes ``>= <the truth's count>``, a censored report that conditions on
    less than the truth's data (and favours values that give larger counts)."""
    if relations not in ("exact", "as-used"):
        raise ValueError(f"relations must be 'exact' or 'as-used', not {relations!r}")
    _, raw = read_source(scenario)
    s = setup(scenario, evidence=evidence)
    ev_path = s.scenario.evidence_path()
    assert ev_path is not None
    ev_text = ev_path.read_text(encoding="utf-8-sig")  # a byte-order mark is read, not kept
    keys = tuple(p.key for p in s.parameters)
    done: list[dict[str, Any]] = []
    csv_path = None if out is None else Path(out) / "sbc.csv"
    if csv_path is not None and csv_path.is_file():
        done = pd.read_csv(csv_path).to_dict(orient="records")
    t0 = time.perf_counter()
    with open_executor(options or ExecOptions()) as ex, tempfile.TemporaryDirectory() as tmp:
        for k in range(len(done), truths):
            t_start = time.perf_counter()
            qs = {
                p.key: float(
                    uniforms(
                        seed, np.asarray([k]), "unknown", entity_key(f"sbc:{p.key}"), 0, "value"
                    )[0]
                )
                for p in s.parameters
            }
            truth = {p.key: float(p.value(np.asarray([qs[p.key]]))[0]) for p in s.parameters}
            job = Job(
                s.prepared, s.seed, 0, (SBC_REPLICATION0 + k,), daily=False,
                observables=s.observables, fixed={key: (v,) for key, v in truth.items()},
            )  # fmt: skip
            row = run_jobs([job])[0]
            values = {st.name: float(st.raw(row)[0]) for st in s.statistics if st.fitted}
            seen_visits = int(row["observed_visits"].iloc[0])
            seen_bbl = float(row["observed_bbl"].iloc[0])
            ev_file = Path(tmp) / f"truth-{k}.evidence.csv"
            ev_file.write_text(
                _truth_evidence(ev_text, values, exact=relations == "exact"), encoding="utf-8"
            )
            raw_k = dict(raw)
            raw_k["evidence"] = str(ev_file)
            raw_k["claims"] = {**raw.get("claims", {}), "trips": max(seen_visits, 1)}
            r = _calibrate_one(
                raw_k, seed=seed + k, options=options, population=population,
                replications=replications, generations=generations, evidence=evidence,
                executor=ex,
            )  # fmt: skip
            post = r.posterior
            w = post["weight"].to_numpy(dtype=float)
            rec: dict[str, Any] = {"truth": k}
            for key in keys:
                rec[f"truth:{key}"] = truth[key]
                rec[f"rank:{key}"] = _rank(post[key].to_numpy(dtype=float), w, truth[key])
            runs = r.replications
            q = claim_quantities(runs, r.setup.scenario)
            rec["truth:seen_visits"] = seen_visits
            rec[f"truth:{SEEN}"] = seen_bbl
            rec[f"rank:{SEEN}"] = (
                _rank(q["seen_claim_bbl"].to_numpy(), runs["weight"].to_numpy(), seen_bbl)
                if seen_visits > 0
                else math.nan
            )
            rec["p_seen_claim"] = r.verdict.seen.p
            rec["seconds"] = time.perf_counter() - t_start
            done.append(rec)
            if csv_path is not None:
                csv_path.parent.mkdir(parents=True, exist_ok=True)
                safe_for_csv(pd.DataFrame(done)).to_csv(csv_path, index=False)
            if on_truth is not None:
                on_truth(k, rec)
    table = pd.DataFrame(done)
    return SbcResult(table, keys, population, s.evidence_set, time.perf_counter() - t0, relations)


def write_sbc(result: SbcResult, out: Path) -> None:
    """sbc.csv (one row per truth), sbc-coverage.csv and sbc.json."""
    out.mkdir(parents=True, exist_ok=True)
    safe_for_csv(result.table).to_csv(out / "sbc.csv", index=False)
    safe_for_csv(result.coverage()).to_csv(out / "sbc-coverage.csv", index=False)
    (out / "sbc.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
