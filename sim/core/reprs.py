"""Short ``repr`` strings and small HTML summaries for notebooks (``_repr_html_``): a caption
and a two-column table, every string escaped.

Every result the API returns has a one-line ``repr`` under :data:`REPR_LIMIT` characters (the
detail is in its ``_repr_html_``); :func:`clip` keeps user-given names from stretching it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

REPR_LIMIT = 300
"""The longest ``repr`` of a result [characters]."""


def clip(text: object, limit: int = 60) -> str:
    """``text`` as a string of at most ``limit`` characters, cut with an ellipsis.

    >>> clip("osc-2024"), clip("x" * 10, 5)
    ('osc-2024', 'xxxx…')
    """
    s = str(text)
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


def clip_list(items: Iterable[object], limit: int = 3, each: int = 40) -> str:
    """The first ``limit`` items, each clipped to ``each`` characters, joined by commas, with
    how many more there are.

    >>> clip_list(["a", "b", "c", "d", "e"])
    'a, b, c (+2 more)'
    """
    texts = [clip(i, each) for i in items]
    more = f" (+{len(texts) - limit} more)" if len(texts) > limit else ""
    return ", ".join(texts[:limit]) + more


def plural(n: int, word: str, words: str | None = None) -> str:
    """``n`` and the word, plural unless ``n`` is 1.

    >>> plural(1, "class", "classes"), plural(3, "ship")
    ('1 class', '3 ships')
    """
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def short_repr(kind: str, name: object, detail: str) -> str:
    """``<kind 'name': detail>`` within :data:`REPR_LIMIT` characters (the name clipped to 60,
    the detail cut with an ellipsis where it would run over).

    >>> short_repr("McResult", "osc-2024", "200 replications")
    "<McResult 'osc-2024': 200 replications>"
    """
    head = f"<{kind} {clip(name)!r}: "
    return head + clip(detail, REPR_LIMIT - len(head) - 1) + ">"


def html_summary(caption: str, rows: Sequence[tuple[str, object]]) -> str:
    """A caption and a table of ``(label, value)`` rows as HTML, escaped.

    >>> html_summary("<x>", [("a", 1), ("b", "<b>")])
    '<table><caption>&lt;x&gt;</caption><tr><th>a</th><td>1</td></tr><tr><th>b</th><td>&lt;b&gt;</td></tr></table>'
    """
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"


def _claim_words(claims: Any) -> str:
    parts = []
    if claims.trips is not None:
        parts.append(f"{claims.trips} visits")
    if claims.barrels is not None:
        parts.append(f"{claims.barrels:,.0f} bbl")
    if claims.tonnes is not None:
        parts.append(f"{claims.tonnes:,.0f} t")
    return ", ".join(parts) or "none"


def scenario_repr(sc: Any) -> str:
    """The ``repr`` of a :class:`~sim.core.config.Scenario`: its name, window, fleet, ports
    and claim on one line."""
    return short_repr(
        "Scenario",
        sc.name,
        f"{sc.window.start} to {sc.window.end}, {plural(sc.n_ships, 'ship')} in "
        f"{plural(len(sc.fleet), 'class', 'classes')}, terminal {clip(sc.terminal.port, 30)}, "
        f"{plural(len(sc.discharge), 'discharge port')}; claim {_claim_words(sc.claims)}",
    )


def scenario_html(sc: Any) -> str:
    """The notebook summary of a :class:`~sim.core.config.Scenario`."""
    w = sc.window
    classes = plural(len(sc.fleet), "class", "classes")
    rows: list[tuple[str, object]] = [
        ("title", sc.title or sc.name),
        ("window", f"{w.start} to {w.end} ({w.days} days)"),
        ("terminal", sc.terminal.port),
        ("discharge ports", clip_list(sc.discharge, 6)),
        ("ships", f"{sc.n_ships:,} in {classes} ({clip_list(sc.fleet, 6)})"),
        ("claim", _claim_words(sc.claims)),
        ("claim's source", clip(sc.claims.source or "not given", 200)),
        ("routing", sc.routing.method),
        ("unknowns", len(sc.unknowns)),
        ("evidence", sc.evidence or "none"),
        ("prior sets", clip_list(sc.priors, 6) or "the scenario's own only"),
        ("seed", sc.seed),
    ]
    return html_summary(f"Scenario: {sc.name}", rows)


# ------------------------------------------------------------- results defined in sim.api etc.
# The classes call these (duck-typed here: sim.core imports nothing above it).


def _impossible_pairs(replay: Any) -> int:
    return int((~replay["feasible"].astype(bool)).sum()) if len(replay) else 0


def evidence_report_repr(report: Any) -> str:
    """The ``repr`` of :class:`sim.api.EvidenceReport`."""
    from pathlib import Path

    ran = "" if report.batch is None else f"; checks over {len(report.batch.table):,} replications"
    return short_repr(
        "EvidenceReport",
        Path(report.evidence.file).name,
        f"{plural(len(report.evidence), 'row')}, {len(report.unused)} the model cannot use; "
        f"{plural(len(report.replay), 'pair')} of sightings replayed, "
        f"{_impossible_pairs(report.replay)} impossible{ran}",
    )


def evidence_report_html(report: Any) -> str:
    """The notebook summary of :class:`sim.api.EvidenceReport`."""
    rows: list[tuple[str, object]] = [
        ("file", report.evidence.file),
        ("rows", len(report.evidence)),
        ("rows the model cannot use", len(report.unused)),
        ("pairs of sightings replayed", len(report.replay)),
        ("of them impossible", _impossible_pairs(report.replay)),
    ]
    rows += [(f"cannot use {clip(rid, 40)}", clip(why, 200)) for rid, why in report.unused[:20]]
    if len(report.unused) > 20:
        rows.append(("cannot use", f"... and {len(report.unused) - 20} more"))
    batch = report.batch
    if batch is not None:
        rows.append(("replications run", f"{len(batch.table):,}"))
        checks = batch.checks
        if checks is not None and "p_agrees" in checks and len(checks):
            rows.append(("model checks", f"{len(checks)} checks, median agreement "
                                         f"{float(checks['p_agrees'].median()):.0%}"))  # fmt: skip
    return html_summary(f"Evidence check: {report.evidence.file}", rows)


def prior_sensitivity_repr(ps: Any) -> str:
    """The ``repr`` of :class:`sim.api.PriorSensitivity`."""
    t = ps.table
    first = next(iter(ps.results.values()), None)
    name = first.setup.scenario.name if first is not None else "?"
    p = f", P(seen) {t['p_seen'].min():.2f}-{t['p_seen'].max():.2f}" if len(t) else ""
    same = "the word depends on the prior" if ps.depends_on_prior else "one word under all"
    return short_repr("PriorSensitivity", name, f"{plural(len(t), 'prior set')}{p}; {same}")


def prior_sensitivity_html(ps: Any) -> str:
    """The notebook summary of :class:`sim.api.PriorSensitivity`: a row per prior set."""
    rows: list[tuple[str, object]] = [("prior sets", len(ps.table))]
    rows += [
        (
            clip(r["prior"], 60),
            f"{r['word']}: P(seen) {r['p_seen']:.0%} ± {r['p_seen_mcse']:.1%}, "
            f"P(fleet) {r['p_fleet']:.0%} ± {r['p_fleet_mcse']:.1%}",
        )
        for r in ps.table.to_dict(orient="records")
    ]
    rows.append(("the word depends on the prior", "yes" if ps.depends_on_prior else "no"))
    return html_summary("The answer under each prior set", rows)


def global_route_html(route: Any) -> str:
    """The notebook summary of :class:`sim.core.global_routing.GlobalRoute`."""
    a, b = route.waypoints[0], route.waypoints[-1]
    rows: list[tuple[str, object]] = [
        ("from", f"{a.lat:.4f} N, {a.lon:.4f} E"),
        ("to", f"{b.lat:.4f} N, {b.lon:.4f} E"),
        ("length", f"{route.length_nm:,.1f} nm ({route.pilotage_nm:.1f} nm pilotage)"),
        ("via", ", ".join(route.passes) or "open sea only"),
        ("waypoints", len(route.waypoints)),
        ("clearance from land", f"{route.margin_nm:g} nm"),
        ("method", route.method),
        ("land data", route.land_version),
    ]
    return html_summary("Sea route", rows)
