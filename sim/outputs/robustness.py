"""The assumption audit's files and figures: robustness.csv, .json, .md and the tornado.

The tornado draws one bar per audited input, from the lowest to the highest P(seen visits
carried the claim) over its settings (the default included), largest swing first, with the
default's answer as a line; beside it, the answer over every evidence set x prior set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.io import atomic_write_text
from sim.outputs.plots import (
    CLAIM_COLOUR,
    FORMATS,
    MAIN,
    AxesArg,
    _new,
    flat_axes,
    given_axes,
    plain_text,
    save_figure,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from sim.runner.robustness import RobustnessResult

__all__ = ["robustness_markdown", "tornado_figure", "write_robustness"]


def write_robustness(
    result: RobustnessResult, out: Path, *, plots: bool = True, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write robustness.csv (one row per setting), robustness.json (range, deciders, swings,
    settings), robustness.md and (with ``plots``) plots/tornado; return the paths."""
    from sim.outputs.files import write_table

    out.mkdir(parents=True, exist_ok=True)
    write_table(result.table, out / "robustness.csv")
    atomic_write_text(out / "robustness.json", json.dumps(result.to_dict(), indent=2) + "\n")
    atomic_write_text(out / "robustness.md", robustness_markdown(result))
    paths = [out / "robustness.csv", out / "robustness.json", out / "robustness.md"]
    if plots:
        paths += save_figure(tornado_figure(result), out / "plots" / "tornado", formats)
    return paths


def robustness_markdown(result: RobustnessResult) -> str:
    """The audit as Markdown: the headline, the swings (tornado order) and every setting."""
    from sim.outputs.render import md_escape as md_cell
    from sim.runner.robustness import MC_Z, decides

    lines = [
        f"# Assumption audit: {md_cell(result.scenario.name)}",
        "",
        md_cell(result.headline()),
        "",
    ]
    lines += [
        "| input | lowest P(seen) | at | highest P(seen) | at | swing (± 2 s.e.) | decides |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for _, r in result.swings().iterrows():
        lines.append(
            f"| {md_cell(r['label'])} | {r['p_low']:.2f} | {md_cell(r['at_low'])} | "
            f"{r['p_high']:.2f} | {md_cell(r['at_high'])} | {r['swing']:.2f} "
            f"(± {MC_Z * r['swing_mcse']:.2f}) | {decides(r)} |"
        )
    lines += ["", "Every setting (± one Monte Carlo standard error):", ""]
    lines += [
        "| input | setting | evidence set | prior set | P(seen) | P(fleet) | word |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for _, r in result.table.iterrows():
        lines.append(
            f"| {md_cell(r['label'])} | {md_cell(r['level_label'])} | {r['evidence']} | "
            f"{md_cell(r['prior'])} | {r['p_seen']:.2f} ± {r['mcse']:.2f} | "
            f"{r['p_fleet']:.2f} ± {r['fleet_mcse']:.2f} | {r['word']} |"
        )
    return "\n".join(lines) + "\n"


@plain_text
def tornado_figure(result: RobustnessResult, *, ax: AxesArg = None) -> Figure:
    """The tornado (one bar per input, largest swing first) and the evidence set x prior set
    grid of P(seen visits carried the claim).

    ``ax``: one axes gets the tornado alone, two axes the tornado and the grid; None: a new
    figure of both."""
    from sim.runner.robustness import MC_Z

    sw = result.swings()
    sw = sw[sw["input"] != "evidence x prior"].reset_index(drop=True)
    t = result.table
    grid = t[t["input"].isin(["default", "evidence", "size prior", "evidence x prior"])]
    evs = list(dict.fromkeys(grid["evidence"]))
    priors = list(dict.fromkeys(grid["prior"]))
    gx: Any
    if ax is None:
        fig, (ax, gx) = _new(
            (11, 0.45 * len(sw) + 2.2), 1, 2, gridspec_kw={"width_ratios": [2.2, 1]}
        )
    else:
        given = flat_axes(ax)
        fig, (ax, *rest) = given_axes(given, max(1, min(len(given), 2)), "tornado")
        gx = rest[0] if rest else None
    c = float(result.centre["p_seen"])
    y = np.arange(len(sw))
    for i, r in sw.iterrows():
        colour = CLAIM_COLOUR if r["decisive"] else MAIN
        ax.barh(i, r["p_high"] - r["p_low"], left=r["p_low"], color=colour, alpha=0.75,
                hatch="//" if r["unclear"] else None)  # fmt: skip
        # each end +- MC_Z standard errors, within [0, 1]
        ends = np.array([r["p_low"], r["p_high"]])
        se2 = MC_Z * np.array([r["mcse_low"], r["mcse_high"]])
        lo, hi = np.maximum(0.0, ends - se2), np.minimum(1.0, ends + se2)
        ax.errorbar(ends, [i, i], xerr=[ends - lo, hi - ends], fmt="none", ecolor="black",
                    elinewidth=0.8, capsize=2)  # fmt: skip
        lo_x, hi_x = float(lo[0]), float(hi[1])
        ax.text(lo_x - 0.01, i, str(r["at_low"]), ha="right", va="center", fontsize=6.5)
        ax.text(hi_x + 0.01, i, str(r["at_high"]), ha="left", va="center", fontsize=6.5)
    ax.axvline(c, color="black", lw=1)
    ax.set_yticks(y, [str(x) for x in sw["label"]], fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(-0.45, 1.45)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("P(the seen visits carried the claim | evidence)")
    ax.set_title(
        f"What moves the answer (line: the default, {c:.0%}; red: decides it;\n"
        f"hatched: cannot tell within Monte Carlo error; whiskers: {MC_Z:g} standard errors)",
        fontsize=8,
    )
    ax.grid(alpha=0.3, axis="x")
    if gx is None:
        return fig
    m = np.full((len(evs), len(priors)), np.nan)
    for _, r in grid.iterrows():
        m[evs.index(r["evidence"]), priors.index(r["prior"])] = r["p_seen"]
    gx.imshow(m, vmin=0, vmax=1, cmap="RdBu_r", aspect="auto")
    for i in range(len(evs)):
        for j in range(len(priors)):
            if np.isfinite(m[i, j]):
                gx.text(j, i, f"{m[i, j]:.0%}", ha="center", va="center", fontsize=8)
    gx.set_xticks(range(len(priors)), priors, rotation=30, ha="right", fontsize=7)
    gx.set_yticks(range(len(evs)), [f"evidence: {e}" for e in evs], fontsize=7)
    gx.set_title("evidence set x prior set", fontsize=9)
    return fig
