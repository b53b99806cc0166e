"""Every number the README and docs quote about the answer, written from runs.

``make numbers`` runs the commands below as a user runs them (subprocesses of the installed
``tankersim``, into ``out/numbers/``), gathers what they wrote into one snapshot,
``docs/results/answer.json`` (with the commands, the commit, the date and the machine), and
rewrites every *numbers block* of the README and the docs from it. A block is the text between

    <!-- numbers: NAME (written by make numbers from docs/results/answer.json) -->
    <!-- /numbers -->

and is never edited by hand: ``tests/test_docs.py`` renders every block again from the
committed snapshot and fails when the text differs, so a number in a block can only come from
the runs. The simulation-based calibration is slow (``benchmarks/bench_sbc.py``, about 25
minutes); its summary, ``benchmarks/results/sbc/sbc.json``, is read as it is.

    python tools/answer_numbers.py                 # run everything (about 15 minutes on 2 cores)
    python tools/answer_numbers.py --reuse          # the snapshot again from out/numbers
    python tools/answer_numbers.py --render        # rewrite the blocks from the committed snapshot
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "docs" / "results" / "answer.json"
SBC = ROOT / "benchmarks" / "results" / "sbc" / "sbc.json"
SBC_AS_USED = ROOT / "benchmarks" / "results" / "sbc-as-used" / "sbc.json"
OSC = "scenarios/osc-2024.toml"
DOCS = ("README.md", "docs/calibration.md", "docs/robustness.md", "docs/evidence.md",
        "docs/monte-carlo.md", "docs/sweeps.md")  # fmt: skip

COMMANDS: dict[str, list[str]] = {
    "calibrate": ["calibrate", OSC, "--out", "{out}/calibrate"],
    "robustness": ["robustness", OSC, "--out", "{out}/robustness"],
    "mc": ["mc", OSC, "--out", "{out}/mc"],
    "priors": ["calibrate", OSC, "--all-priors", "--out", "{out}/priors"],
    "sensitivity": ["sensitivity", OSC, "--samples", "256", "--out", "{out}/sensitivity"],
    "sweep": ["sweep", OSC, "--out", "{out}/sweep"],
    "claims": ["claims", OSC, "--json"],
}
"""The runs behind the numbers, as ``tankersim`` arguments."""

BLOCK = re.compile(
    r"(<!-- numbers: (?P<name>[a-z0-9-]+) \(written by make numbers from "
    r"docs/results/answer\.json\) -->\n)(?P<body>.*?)(<!-- /numbers -->)",
    re.DOTALL,
)


# --------------------------------------------------------------------------- numbers as text


def pct(p: float | None) -> str:
    """As the verdicts and the report write probabilities (``61 %``, ``0.2 %``, ``< 0.1 %``)."""
    from sim.core.fmt import pct as _pct

    return _pct(p)


def sig(x: float | None, digits: int = 3) -> str:
    from sim.core.fmt import sig as _sig

    return _sig(x, digits)


def pts(se: float) -> str:
    """A Monte Carlo standard error in percentage points."""
    return f"±{100 * se:.1f} points"


def _ci(iv: dict[str, float], digits: int = 3) -> str:
    return f"{sig(iv['median'], digits)} ({sig(iv['lo'], digits)}-{sig(iv['hi'], digits)})"


# --------------------------------------------------------------------------- the blocks


def _cal(d: dict[str, Any]) -> dict[str, Any]:
    return d["calibrate"]["verdict"]


def _settle_groups(settle: list[dict[str, Any]]) -> list[dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for x in settle:
        g = x["key"].split(":")[0]
        if g not in best or x["expected_change"] > best[g]["expected_change"]:
            best[g] = x
    return sorted(best.values(), key=lambda x: -x["expected_change"])


def block_readme_answer(d: dict[str, Any]) -> str:
    r, v = d["robustness"], _cal(d)
    lo, hi = r["range"]
    low, high = r["lowest"], r["highest"]
    alt = {a["evidence"]: a for a in v["alternatives"]}
    deciders = " and ".join(r["deciders"]) or "no single input"
    flagged = [h for h in v["held_out"] if h["flagged"]]
    lines = [
        f"> **Did the {v['claim_visits']} seen visits carry {v['claim_bbl']:,.0f} barrels? "
        f"Between {pct(lo)} and {pct(hi)}**, depending on what one assumes; what decides it: "
        f"{deciders}{_unclear(r)}. The answer is {pct(lo)} under {low['level_label']} and "
        f"{pct(hi)} under {high['level_label']} (`tankersim robustness`).",
        ">",
        f"> **Under the default** (only the evidence independent of the claim, and the fleet's "
        f"typical size from the ships of known size): **{v['word']}, {pct(v['seen']['p'])}**. "
        f"Counting the visits the imagery missed, the fleet loaded that much with probability "
        f"{pct(v['fleet']['p'])} ({v['fleet_word']}).",
    ]
    if "all" in alt:
        a = alt["all"]
        lines += [
            ">",
            f"> Fitting the claimants' own estimates too (the March barrels): "
            f"{pct(a['p_seen'])} ({a['word']}).",
        ]
    lines += [
        ">",
        f"> Monte Carlo error: {pts(v['seen']['mcse'])} on the default "
        f"({v['particles']:,} particles); on each answer of the audit ({r['population']} "
        f"particles each) {pts(r['mcse_median'])} (median), up to {pts(r['mcse_max'])} "
        f"({r['mcse_max_at']}).",
        "",
        "| what moves the answer | lowest | at | highest | at "
        "| Monte Carlo error of the swing (2 s.e.) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in r["swings"]:
        if s["input"] == "evidence x prior":
            continue
        lines.append(
            f"| {s['label']} | {pct(s['p_low'])} | {s['at_low']} | {pct(s['p_high'])} | "
            f"{s['at_high']} | ±{_mc2(s)} points |"
        )
    groups = _settle_groups(v["settle"])[:3]
    if groups:
        lines += [
            "",
            "What would settle it (how much learning each would move P(seen) on average):",
            "",
        ]
        lines += [
            f"{i}. {x['label']}: {100 * x['expected_change']:.1f} points "
            f"({pct(x['p_low'])} at its low end, {pct(x['p_high'])} at its high end)"
            for i, x in enumerate(groups, 1)
        ]
    lines += [
        "",
        f"Held-out checks (facts not fitted, against what the posterior predicts): "
        f"{len(v['held_out']) - len(flagged)} of {len(v['held_out'])} inside 5-95 %"
        + (
            "; outside: " + "; ".join(f"{h['label']} ({_where(h)})" for h in flagged) + "."
            if flagged
            else "."
        ),
    ]
    return "\n".join(lines) + "\n"


def _unclear(r: dict[str, Any]) -> str:
    """The inputs the audit cannot tell decisive or not, as the audit's headline words them."""
    from sim.runner.robustness import unclear_clause

    return unclear_clause(r["swings"], "; more particles would tell")


def _where(h: dict[str, Any]) -> str:
    if h["relation"] in ("=", "~") and h["kind"] != "event":
        return f"at the posterior's {pct(h['percentile'])} point"
    return f"reached in {pct(h['p_agree'])} of replications"


def block_cal_answer(d: dict[str, Any]) -> str:
    v, c = _cal(d), d["calibrate"]
    lines = [f"> {v['headline']}", "",
             "| unknown | prior | posterior median (90 % credible interval) |",
             "| --- | --- | --- |"]  # fmt: skip
    priors = {p["key"]: p["prior"] for p in c["parameters"]}
    for key, iv in v["parameters"].items():
        lines.append(f"| `{key}` | {_dist(priors.get(key, {}))} | {_ci(iv)} |")
    lines += [
        "",
        f"({c['particles']:,} particles, {c['generations']} generations, {c['simulated']:,} "
        f"simulations; evidence set '{v['evidence_set']}', fitted: "
        + ", ".join(f"`{x}`" for x in v["fitted"])
        + ".)",
    ]
    return "\n".join(lines) + "\n"


def _dist(p: dict[str, Any]) -> str:
    kind = p.get("dist", "")
    from sim.core.fmt import number

    if kind == "uniform":
        return f"uniform {number(p['low'])}-{number(p['high'])}"
    if kind == "lognormal":
        return f"log-normal, median {number(p['median'])}, sigma {p['sigma']:g}"
    if kind == "fixed":
        return f"fixed {number(p['value'])}"
    return kind or "-"


def block_cal_alternatives(d: dict[str, Any]) -> str:
    v = _cal(d)
    lines = ["| evidence set | rows fitted | P(seen visits carried 1 M) | P(fleet loaded 1 M) "
             "| word |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    rows = [(v["evidence_set"], v["fitted"], v["seen"]["p"], v["seen"]["mcse"], v["fleet"]["p"],
             v["fleet"]["mcse"], v["word"])]  # fmt: skip
    for a in v["alternatives"]:
        rows.append((a["evidence"], a["fitted"], a["p_seen"], a["mcse"], a["p_fleet"],
                     a["fleet_mcse"], a["word"]))  # fmt: skip
    for ev, fitted, p, se, pf, sef, word in rows:
        lines.append(
            f"| {ev} | {len(fitted)}: {', '.join(fitted)} | {pct(p)} ({pts(se)}) | "
            f"{pct(pf)} ({pts(sef)}) | {word} |"
        )
    return "\n".join(lines) + "\n"


def block_cal_predictive(d: dict[str, Any]) -> str:
    lines = ["| statistic | reported | fitted | posterior 5 % - 50 % - 95 % | agree: prior "
             "| agree: posterior |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in d["calibrate"]["predictive"]:
        lines.append(
            f"| {r['statistic']} | {r['reported']} | {'yes' if r['fitted'] else 'no'} | "
            f"{sig(r['p05'])} - {sig(r['median'])} - {sig(r['p95'])} | {pct(r['agree_prior'])} | "
            f"{pct(r['agree_posterior'])} |"
        )
    return "\n".join(lines) + "\n"


def block_cal_heldout(d: dict[str, Any]) -> str:
    lines = ["| check | reported | posterior 5 % - 50 % - 95 % | percentile | agree "
             "| outside 5-95 % |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for h in _cal(d)["held_out"]:
        lines.append(
            f"| {h['label']} | {h['reported']} | {sig(h['p05'])} - {sig(h['p50'])} - "
            f"{sig(h['p95'])} | {pct(h['percentile'])} | {pct(h['p_agree'])} | "
            f"{'**yes**' if h['flagged'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def block_cal_settle(d: dict[str, Any]) -> str:
    lines = ["| fact one could learn | E\\|dP\\| | noise floor | P(seen) if it turned out low "
             "| if high |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for x in _settle_groups(_cal(d)["settle"]):
        lines.append(
            f"| {x['label']} | {100 * x['expected_change']:.1f} points | "
            f"{100 * x['noise_floor']:.1f} | {pct(x['p_low'])} | {pct(x['p_high'])} |"
        )
    return "\n".join(lines) + "\n"


def block_cal_priors(d: dict[str, Any]) -> str:
    lines = ["| prior set | what it assumes | P(seen visits carried the claim) "
             "| P(fleet loaded it) | word |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in d["priors"]:
        lines.append(
            f"| {r['prior']} | {r['description']} | {pct(r['p_seen'])} ({pts(r['p_seen_mcse'])}) "
            f"| {pct(r['p_fleet'])} ({pts(r['p_fleet_mcse'])}) | {r['word']} |"
        )
    return "\n".join(lines) + "\n"


def block_size_prior(d: dict[str, Any]) -> str:
    sp = d["size_prior"]
    lines = [
        "| ship | deadweight the model uses | from | confidence |",
        "| --- | --- | --- | --- |",
    ]
    for s in sp["ships"]:
        lines.append(f"| {s['name']} | {s['dwt']:,.0f} t | {s['how']} | {s['confidence']} |")
    lo, hi = sp["interval_90_dwt"]
    lines += [
        "",
        f"Geometric mean {sp['median_dwt']:,.0f} dwt; the ships' spread around the typical size "
        f"(the scenario's log-normal sigma) {sp['ship_sigma']:g}; n = {sp['n']}; so the prior is "
        f"log-normal with median {sp['median_dwt']:,.0f} dwt and sigma {sp['ship_sigma']:g} / "
        f"sqrt({sp['n']}) = {sp['sigma']:.3f}: 90 % between {lo:,.0f} and {hi:,.0f} dwt.",
    ]
    return "\n".join(lines) + "\n"


def _coverage_table(s: dict[str, Any]) -> list[str]:
    lines = [
        "| quantity | 50 % intervals cover | 90 % intervals cover | rank histogram (10 bins) "
        "| chi-square p |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in s["coverage"]:
        lines.append(
            f"| {c['quantity']} | {pct(c['covered_50'])} ({pct(c['covered_50_lo'])}-"
            f"{pct(c['covered_50_hi'])}) | {pct(c['covered_90'])} ({pct(c['covered_90_lo'])}-"
            f"{pct(c['covered_90_hi'])}) | {c['rank_histogram']} | {c['chi2_p']:.2f} |"
        )
    return lines


def block_sbc(d: dict[str, Any]) -> str:
    s, u = d.get("sbc"), d.get("sbc_as_used")
    if not s:
        return "(not run yet: `python benchmarks/bench_sbc.py`)\n"
    lines = [
        f"{s['truths']} truths drawn from the prior, each calibrated with {s['population']} "
        f"particles on the evidence set '{s['evidence_set']}', each fitted row reporting the "
        f"truth's exact value (`{s['command'].strip()}`, commit {s['commit']}, {s['date']}):",
        "",
        *_coverage_table(s),
    ]
    if u:
        lines += [
            "",
            f"With the evidence file's relations as used ({u['truths']} truths; `>= 4 tankers` "
            "becomes `>=` the truth's count, a censored report; "
            f"`{u['command'].strip()}`, commit {u['commit']}):",
            "",
            *_coverage_table(u),
        ]
    seeds = (u or {}).get("seed_spread") or s.get("seed_spread")
    runs = (u or {}).get("seeds") or s.get("seeds") or []
    if seeds:
        lines += [
            "",
            f"The headline over {len(runs)} seeds (1,000 particles each, the default): P(seen) "
            f"{pct(seeds['p_seen_min'])} to {pct(seeds['p_seen_max'])} (standard deviation "
            f"{100 * seeds['p_seen_sd']:.1f} points, against a mean Monte Carlo error of "
            f"{100 * seeds['mcse_seen_mean']:.1f}); P(fleet) {pct(seeds['p_fleet_min'])} to "
            f"{pct(seeds['p_fleet_max'])}.",
        ]
    return "\n".join(lines) + "\n"


def block_rob_headline(d: dict[str, Any]) -> str:
    return "> " + d["robustness"]["headline"] + "\n"


def block_rob_swings(d: dict[str, Any]) -> str:
    lines = ["| input | lowest P(seen) | at | highest P(seen) | at | swing (± 2 s.e.) "
             "| decides it |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for s in d["robustness"]["swings"]:
        lines.append(
            f"| {s['label']} | {pct(s['p_low'])} | {s['at_low']} | {pct(s['p_high'])} | "
            f"{s['at_high']} | {_points(s['swing'])} (± {_mc2(s)}) | {_decides(s)} |"
        )
    return "\n".join(lines) + "\n"


def _mc2(s: dict[str, Any]) -> str:
    """The swing's Monte Carlo error as the audit bounds it (MC_Z standard errors), in points."""
    from sim.runner.robustness import MC_Z

    return f"{100 * MC_Z * s['swing_mcse']:.0f}"


def _decides(s: dict[str, Any]) -> str:
    from sim.runner.robustness import decides

    return f"**{decides(s)}**" if s["decisive"] else decides(s)


def _points(x: float) -> str:
    n = round(100 * x)
    return f"{n} point" if n == 1 else f"{n} points"


def block_rob_grid(d: dict[str, Any]) -> str:
    rows = [s for s in d["robustness"]["settings"]
            if s["input"] in ("default", "evidence", "prior", "evidence x prior")]  # fmt: skip
    evs = list(dict.fromkeys(s["evidence"] for s in rows))
    priors = list(dict.fromkeys(s["prior"] for s in rows))
    cell = {(s["evidence"], s["prior"]): s for s in rows}
    lines = ["| evidence set \\ prior set | " + " | ".join(priors) + " |",
             "| --- |" + " --- |" * len(priors)]  # fmt: skip
    for ev in evs:
        cells = []
        for p in priors:
            s = cell.get((ev, p))
            cells.append("-" if s is None else f"{pct(s['p_seen'])} ({s['word']})")
        lines.append(f"| {ev} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def block_mc_headline(d: dict[str, Any]) -> str:
    return "> " + d["mc"]["headline"] + "\n"


def block_mc_checks(d: dict[str, Any]) -> str:
    lines = ["| fact | reported | simulated 5 % / median / 95 % | agree (Wilson 95 %) |",
             "| --- | --- | --- | --- |"]  # fmt: skip
    for r in d["mc"]["checks"]:
        if r["status"] != "used":
            continue
        lines.append(
            f"| {r['id']} | {r['reported']} | {sig(r['simulated_p05'])} / "
            f"{sig(r['simulated_p50'])} / {sig(r['simulated_p95'])} | {pct(r['p_agrees'])} "
            f"({pct(r['p_agrees_lo'])}-"
            f"{pct(r['p_agrees_hi'])}) |"
        )
    return "\n".join(lines) + "\n"


def block_mc_method(d: dict[str, Any]) -> str:
    m, n = d["mc"]["method"], d["mc"]["verdict"]["replications"]
    r, rs = m["ratio_estimate_to_loaded"], m["ratio_estimate_to_seen_loaded"]
    text = (
        f"For the baseline ({n:,} prior replications), the estimate is a median {r['p50']:.2f} "
        f"times the barrels the fleet really loaded (90 % interval {r['p05']:.2f}-"
        f"{r['p95']:.2f}) and overstates them in {pct(m['p_overstates']['p'])} of "
        f"replications; against the barrels of the visits that were seen it is {rs['p50']:.2f} "
        f"times ({rs['p05']:.2f}-{rs['p95']:.2f})."
    )
    pe, pc = m.get("p_estimate_ge_claim"), m.get("p_loaded_ge_claim_given_estimate_ge_claim")
    if pe and pc:
        text += (
            f" Where the estimate reaches the claim ({pct(pe['p'])} of replications), the fleet "
            f"really loaded that much in {pct(pc['p'])}."
        )
    return text + "\n"


def block_sens_table(d: dict[str, Any]) -> str:
    rows = sorted((r for r in d["sensitivity"] if r["output"] == "observed_bbl"),
                  key=lambda r: r["rank"])  # fmt: skip
    lines = ["| factor | ST (95 % interval) | S1 |", "| --- | --- | --- |"]
    small = []
    for r in rows:
        if r["ST"] < 0.01:
            small.append(r["factor"])
            continue
        lines.append(f"| `{r['factor']}` | {r['ST']:.2f} (±{r['ST_conf']:.2f}) | {r['S1']:.2f} |")
    if small:
        lines.append(f"| {', '.join(small)} | < 0.01 each | |")
    return "\n".join(lines) + "\n"


def block_sweep_frontier(d: dict[str, Any]) -> str:
    rows = d["sweep"]
    head = "| detection probability | " + " | ".join(f"{r['observation.p_detect']:g}" for r in rows)
    lines = [head + " |", "| --- |" + " --- |" * len(rows)]
    lines.append(
        "| fleet's typical size needed [dwt] | "
        + " | ".join(sig(r["unknowns.fleet_dwt_at_p50"], 4) for r in rows)
        + " |"
    )
    return "\n".join(lines) + "\n"


def block_provenance(d: dict[str, Any]) -> str:
    g = d["generated"]
    return (
        f"Written by `make numbers` ({g['date']}, commit {g['commit']}, {g['machine']}) from: "
        + "; ".join(f"`tankersim {' '.join(c)}`" for c in g["commands"].values())
        + ".\n"
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "readme-answer": block_readme_answer,
    "cal-answer": block_cal_answer,
    "cal-alternatives": block_cal_alternatives,
    "cal-predictive": block_cal_predictive,
    "cal-heldout": block_cal_heldout,
    "cal-settle": block_cal_settle,
    "cal-priors": block_cal_priors,
    "size-prior": block_size_prior,
    "sbc": block_sbc,
    "rob-headline": block_rob_headline,
    "rob-swings": block_rob_swings,
    "rob-grid": block_rob_grid,
    "mc-headline": block_mc_headline,
    "mc-checks": block_mc_checks,
    "mc-method": block_mc_method,
    "sens-table": block_sens_table,
    "sweep-frontier": block_sweep_frontier,
    "provenance": block_provenance,
}


def render(text: str, data: dict[str, Any]) -> str:
    """``text`` with every numbers block written from ``data`` (an unknown block name is an
    error)."""

    def one(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in RENDERERS:
            raise KeyError(f"unknown numbers block {name!r}")
        return m.group(1) + RENDERERS[name](data) + m.group(4)

    return BLOCK.sub(one, text)


# --------------------------------------------------------------------------- the runs


def _run(args: list[str], out: Path) -> str:
    exe = str(Path(sys.executable).with_name("tankersim"))
    argv = [exe, *(a.format(out=out) for a in args)]
    print("$ tankersim " + " ".join(argv[1:]), file=sys.stderr, flush=True)
    res = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit(f"tankersim {' '.join(argv[1:])} failed ({res.returncode})")
    return res.stdout


def snapshot(out: Path, run: bool) -> dict[str, Any]:
    """Run the commands (unless ``run`` is false: reuse ``out``) and gather what they wrote."""
    import pandas as pd

    from sim.analysis.size_prior import known_ships_prior
    from sim.core.config import load_scenario

    claims_json = _run(COMMANDS["claims"], out)
    if run:
        import shutil

        shutil.rmtree(out, ignore_errors=True)  # every run fresh: nothing resumed
        for key in ("calibrate", "robustness", "mc", "priors", "sensitivity", "sweep"):
            _run(COMMANDS[key], out)
    cal = out / "calibrate"
    verdict = json.loads((cal / "verdict_posterior.json").read_text(encoding="utf-8"))
    meta = json.loads((cal / "calibration.json").read_text(encoding="utf-8"))
    predictive = pd.read_csv(cal / "predictive.csv").to_dict(orient="records")
    mc_v = json.loads((out / "mc" / "verdict.json").read_text(encoding="utf-8"))
    checks = pd.read_csv(out / "mc" / "checks.csv").to_dict(orient="records")
    priors = pd.read_csv(out / "priors" / "prior_sensitivity.csv").to_dict(orient="records")
    rob = json.loads((out / "robustness" / "robustness.json").read_text(encoding="utf-8"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    import os

    return {
        "generated": {
            "date": dt.date.today().isoformat(),
            "commit": commit,
            "machine": f"{_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "commands": {
                k: [a.replace("{out}", "out/numbers") for a in v] for k, v in COMMANDS.items()
            },
        },
        "calibrate": {
            "verdict": verdict,
            "parameters": meta["parameters"],
            "particles": int(verdict["particles"]),
            "generations": len(pd.read_csv(cal / "diagnostics.csv")),
            "simulated": int(meta["simulated"]),
            "predictive": predictive,
        },
        "robustness": rob,
        "mc": {
            "headline": mc_v["headline"]["text"],
            "verdict": mc_v,
            "checks": checks,
            "method": json.loads((out / "mc" / "method.json").read_text(encoding="utf-8")),
        },
        "priors": priors,
        "sensitivity": pd.read_csv(out / "sensitivity" / "indices.csv").to_dict(orient="records"),
        "sweep": pd.read_csv(out / "sweep" / "frontier.csv").to_dict(orient="records"),
        "claims": json.loads(claims_json),
        "size_prior": known_ships_prior(load_scenario(ROOT / OSC)).to_dict(),
        "sbc": json.loads(SBC.read_text(encoding="utf-8")) if SBC.is_file() else None,
        "sbc_as_used": (
            json.loads(SBC_AS_USED.read_text(encoding="utf-8")) if SBC_AS_USED.is_file() else None
        ),
    }


def _cpu() -> str:
    from sim.core.io import cpu_model

    return cpu_model()


def _clean(x: Any) -> Any:
    """JSON without NaN (as null)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def rewrite_docs(data: dict[str, Any]) -> list[str]:
    changed = []
    for rel in DOCS:
        p = ROOT / rel
        text = p.read_text(encoding="utf-8")
        new = render(text, data)
        if new != text:
            p.write_text(new, encoding="utf-8")
            changed.append(rel)
    return changed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "numbers")
    ap.add_argument("--reuse", action="store_true", help="Reuse the runs in --out.")
    ap.add_argument("--render", action="store_true", help="Only rewrite the blocks.")
    args = ap.parse_args()
    if not args.render:
        data = _clean(snapshot(args.out, run=not args.reuse))
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    changed = rewrite_docs(data)
    print("rewrote " + (", ".join(changed) if changed else "nothing"), file=sys.stderr)


if __name__ == "__main__":
    main()
