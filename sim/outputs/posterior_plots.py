"""Plots of a calibration: posterior against prior, what one must believe, the diagnostics,
the posterior predictive check and the answer under several priors.

Like :mod:`sim.outputs.plots`, every ``*_figure`` function returns a matplotlib ``Figure`` on
its own Agg canvas (never pyplot) and computes nothing the analysis layer does not give it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.outputs.plots import (
    CLAIM_COLOUR,
    FORMATS,
    MAIN,
    AxesArg,
    _fig_ax,
    _new,
    _panels,
    given_axes,
    plain_text,
    save_figure,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.runner.calibrate import CalibrationResult

PRIOR_COLOUR = "#95a5a6"


def label_of(key: str) -> str:
    """A calibrated unknown's key in words, with its unit."""
    from sim.core.config import KEY_WORDS

    return KEY_WORDS.get(key, key)


@plain_text
def marginals_figure(result: CalibrationResult, *, ax: AxesArg = None) -> Figure:
    """Each calibrated unknown: its prior (the pilot's draws) and its weighted posterior,
    with the posterior median and 90 % credible interval.

    ``ax``: a sequence of one axes per calibrated unknown (``result.setup.parameters``), or
    None (a new figure, three panels a row)."""
    s = result.setup
    target = ax
    n = len(s.parameters)
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    fig, cells = _panels(target, n, "posterior", (4.4 * ncol, 3.3 * nrow), nrow, ncol)
    post, w = result.posterior, result.posterior["weight"].to_numpy()
    for p, ax in zip(s.parameters, cells, strict=True):
        prior = result.pilot[p.key].to_numpy(dtype=float)
        x = post[p.key].to_numpy(dtype=float)
        bins = np.linspace(min(prior.min(), x.min()), max(prior.max(), x.max()), 40)
        ax.hist(prior, bins=bins, density=True, color=PRIOR_COLOUR, alpha=0.6, label="prior")
        ax.hist(x, bins=bins, weights=w, density=True, color=MAIN, alpha=0.7, label="posterior")
        iv = result.verdict.parameters[p.key]
        for v, ls in ((iv.lo, ":"), (iv.median, "-"), (iv.hi, ":")):
            ax.axvline(v, color="black", lw=1, ls=ls)
        ax.set_title(f"{label_of(p.key)}\nmedian {iv.median:,.3g} (90%: {iv.lo:,.3g}-{iv.hi:,.3g})",
                     fontsize=8)  # fmt: skip
        ax.set_xlabel(label_of(p.key), fontsize=8)
        ax.set_ylabel("density", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    if target is None:
        fig.suptitle(f"{s.scenario.name}: the unknowns, before and after the evidence "
                     f"(prior set '{s.prior}')", fontsize=10)  # fmt: skip
    return fig


@plain_text
def pairs_figure(result: CalibrationResult, *, ax: AxesArg = None) -> Figure:
    """Pairs of calibrated unknowns: the posterior particles (size by weight) over the prior's
    draws.

    ``ax``: ``n x n`` axes for ``n`` calibrated unknowns (the array ``subplots(n, n)``
    gives, or a flat sequence row by row), or None (a new figure)."""
    s = result.setup
    keys = [p.key for p in s.parameters]
    n = len(keys)
    target = ax
    axes: Any
    if target is None:
        fig, axes = _new((2.8 * n + 0.6, 2.8 * n), n, n, squeeze=False)
    else:
        fig, flat = given_axes(target, n * n, "pairs")
        axes = [flat[i * n : (i + 1) * n] for i in range(n)]
    post, w = result.posterior, result.posterior["weight"].to_numpy()
    size = 4 + 60 * w / w.max()
    for i, ki in enumerate(keys):
        for j, kj in enumerate(keys):
            ax = axes[i][j]
            if i == j:
                ax.hist(post[ki], bins=30, weights=w, color=MAIN, alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(result.pilot[kj], result.pilot[ki], s=2, color=PRIOR_COLOUR,
                           alpha=0.3, lw=0, rasterized=True)  # fmt: skip
                ax.scatter(post[kj], post[ki], s=size, color=MAIN, alpha=0.4, lw=0,
                           rasterized=True)  # fmt: skip
            if i == n - 1:
                ax.set_xlabel(label_of(kj), fontsize=7)
            if j == 0 and i != j:
                ax.set_ylabel(label_of(ki), fontsize=7)
            ax.tick_params(labelsize=6)
    if target is None:
        fig.suptitle(f"{s.scenario.name}: posterior particles (blue) over the prior (grey)",
                     fontsize=10)  # fmt: skip
    return fig


@plain_text
def must_believe_figure(
    result: CalibrationResult, ships: pd.DataFrame | None = None, *, ax: Axes | None = None
) -> Figure:
    """Where the claim holds, in (mean parcel per seen visit, share of visits seen): to the
    right of the vertical line the seen visits alone carry the claim; right of the slanted line
    the fleet does, counting unseen visits. The posterior's replications are drawn over it;
    ``ships`` (``name``, ``parcel_bbl``) marks named ships' full-load parcels."""
    v = result.verdict
    runs = result.replications
    need = v.must.parcel_bbl
    fig, ax = _fig_ax(ax, (8.5, 5.2))
    x = (runs["observed_bbl"] / runs["observed_visits"]).to_numpy(dtype=float)
    y = (runs["observed_visits"] / runs["trips"]).to_numpy(dtype=float)
    w = runs["weight"].to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    top = float(np.nanmax(np.r_[x[ok], need * 1.6, 1.0]))
    xs = np.linspace(0, top * 1.05, 200)
    ax.fill_betweenx([0, 1.02], need, xs[-1], color=CLAIM_COLOUR, alpha=0.12,
                     label="seen visits carry the claim")  # fmt: skip
    ax.fill_between(xs, 0, np.clip(xs / need, 0, 1.02), where=xs < need, color=CLAIM_COLOUR,
                    alpha=0.05, label="the fleet carries it (with unseen visits)")  # fmt: skip
    ax.axvline(need, color=CLAIM_COLOUR, lw=1.5)
    ax.plot(xs[xs < need], xs[xs < need] / need, color=CLAIM_COLOUR, lw=1, ls="--")
    alpha = np.clip(w[ok] / w[ok].max(), 0.05, 1.0) * 0.5
    colours = np.tile(np.array([[0.17, 0.44, 0.73, 1.0]]), (int(ok.sum()), 1))
    colours[:, 3] = alpha
    ax.scatter(x[ok], y[ok], s=6, c=colours, lw=0, rasterized=True,
               label="posterior replications")  # fmt: skip
    if ships is not None and len(ships):
        for _, row in ships.iterrows():
            ax.axvline(row["parcel_bbl"], ymin=0.96, ymax=1.0, color="black", lw=1)
            ax.annotate(str(row["name"]).title(), (row["parcel_bbl"], 1.03), rotation=60,
                        fontsize=6, ha="left", va="bottom", annotation_clip=False)  # fmt: skip
    ax.set_xlim(0, xs[-1])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("mean parcel per seen visit [bbl]")
    ax.set_ylabel("share of visits seen")
    ax.set_title(
        f"What one must believe: {need:,.0f} bbl a seen visit (about {v.must.ship.dwt_approx:,.0f}"
        f" dwt); posterior P = {v.must.p_parcel.p:.0%}",
        fontsize=9,
        pad=48 if ships is not None and len(ships) else 6,
    )
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


@plain_text
def diagnostics_figure(result: CalibrationResult, *, ax: AxesArg = None) -> Figure:
    """Tolerance, acceptance rate and effective sample size by generation.

    ``ax``: a sequence of three axes, or None (a new figure of three panels)."""
    d = result.diagnostics
    fig, axes = _panels(ax, 3, "diagnostics", (11, 3.4), 1, 3)
    axes[0].plot(d["generation"], d["epsilon"], marker="o", color=MAIN)
    axes[0].set_ylabel("tolerance (distance)")
    axes[1].plot(d["generation"], d["acceptance_rate"], marker="o", color=MAIN)
    axes[1].set_ylabel("acceptance rate")
    axes[1].set_yscale("log")
    axes[2].plot(d["generation"], d["ess"], marker="o", color=MAIN)
    axes[2].set_ylabel("effective sample size [particles]")
    axes[2].set_ylim(0, None)
    for a in axes:
        a.set_xlabel("generation")
        a.grid(alpha=0.3)
    if ax is None:
        fig.suptitle(f"{result.setup.scenario.name}: ABC-SMC diagnostics "
                     f"({result.simulated:,} simulations)", fontsize=10)  # fmt: skip
    return fig


@plain_text
def predictive_figure(result: CalibrationResult, *, ax: AxesArg = None) -> Figure:
    """Each statistic of the evidence: prior and posterior predictive distributions against the
    reported number, with the share of replications that agree (fitted ones marked).

    ``ax``: a sequence of one axes per statistic (``result.setup.statistics``), or None (a
    new figure, three panels a row)."""
    stats = result.setup.statistics
    target = ax
    n = len(stats)
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    fig, cells = _panels(target, n, "predictive", (4.3 * ncol, 3.1 * nrow), nrow, ncol)
    w = result.replications["weight"].to_numpy()
    pc = result.predictive.set_index("statistic")
    for k, (st, ax) in enumerate(zip(stats, cells, strict=True)):
        prior = st.raw(result.pilot)
        post = st.raw(result.replications)
        both = np.r_[prior[np.isfinite(prior)], post[np.isfinite(post)], st.target]
        bins = np.linspace(both.min(), both.max() + 1e-9, 40)
        ax.hist(prior, bins=bins, density=True, color=PRIOR_COLOUR, alpha=0.6, label="prior")
        ax.hist(post, bins=bins, weights=w, density=True, color=MAIN, alpha=0.7,
                label="posterior")  # fmt: skip
        ax.axvline(st.target, color=CLAIM_COLOUR, lw=2, ls="--", label="reported")
        row = pc.loc[st.name]
        tag = "fitted" if st.fitted else "checked only"
        ax.set_title(f"{st.name} ({tag})\nagree: prior {row['agree_prior']:.0%}, "
                     f"posterior {row['agree_posterior']:.0%}", fontsize=8)  # fmt: skip
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=7)
    if target is None:
        fig.suptitle(f"{result.setup.scenario.name}: the evidence, predicted before and after "
                     "calibration", fontsize=10)  # fmt: skip
    return fig


@plain_text
def priors_figure(table: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """The answer under each prior set: P(seen visits carried the claim | evidence) and
    P(fleet loaded it | evidence), with two Monte Carlo standard errors."""
    fig, ax = _fig_ax(ax, (8, 0.55 * len(table) + 1.8))
    y = np.arange(len(table))
    ax.errorbar(table["p_seen"], y - 0.12, xerr=2 * table["p_seen_mcse"], fmt="o", color=MAIN,
                label="seen visits carried the claim")  # fmt: skip
    ax.errorbar(table["p_fleet"], y + 0.12, xerr=2 * table["p_fleet_mcse"], fmt="s",
                color=PRIOR_COLOUR, label="fleet loaded it (with unseen visits)")  # fmt: skip
    for t in (0.1, 0.5, 0.9):
        ax.axvline(t, color="black", lw=0.6, ls=":")
    ax.set_yticks(y, table["prior"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(claim | evidence) (bars: ±2 Monte Carlo standard errors)")
    ax.set_title("The answer under each prior", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return fig


def plot_calibration(
    result: CalibrationResult,
    out_dir: Path,
    *,
    ships: pd.DataFrame | None = None,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Draw and save every plot of a calibration into ``out_dir``."""
    figures: dict[str, Any] = {
        "posterior": marginals_figure(result),
        "pairs": pairs_figure(result),
        "must_believe": must_believe_figure(result, ships),
        "diagnostics": diagnostics_figure(result),
        "predictive": predictive_figure(result),
    }
    paths: list[Path] = []
    for name, fig in figures.items():
        paths += save_figure(fig, out_dir / name, formats)
    return paths
