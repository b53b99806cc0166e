"""Renderers: results as Markdown and as console tables, in one place.

Every function here reads a result object (a :class:`sim.analysis.verdict.Verdict`, a run
summary, a sweep or sensitivity result) and formats it; none computes a statistic. User
strings are escaped for Markdown where they reach it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape as rich_escape
from rich.table import Table
from rich.text import Text

from sim.analysis.method import MethodCheck
from sim.analysis.replay import replay_messages
from sim.analysis.verdict import WORDS, Proportion, Summary, Verdict, word_for
from sim.core.config import Scenario
from sim.core.defaults import MIN_MATCHES_WARN
from sim.core.evidence import Evidence
from sim.core.fmt import number

if TYPE_CHECKING:  # pragma: no cover
    from sim.analysis.claims import ClaimsCheck
    from sim.runner.calibrate import CalibrationResult
    from sim.runner.sensitivity import SensitivityResult
    from sim.runner.single import RunResult
    from sim.runner.sweep import SweepResult


_NUMBERISH = set("0123456789,.%-+±<>=~() /")
_NUMBER_PIECE = re.compile(r"\S+(?:\s+[-/](?=\s|$))?")
"""A number of a cell, with the separator after it (``5 -`` of ``5 - 7 - 9``): the pieces a
cell of numbers may wrap between, so that no line starts with a lone separator."""


def _numberish(text: str) -> bool:
    """A cell that is mostly a number (or numbers and intervals): it must never be cut."""
    core = text.replace("bbl", "").replace("dwt", "").replace("t/m3", "").strip()
    return (
        bool(core)
        and any(c.isdigit() for c in core)
        and (sum(c in _NUMBERISH for c in core) >= 0.8 * len(core))
    )


LABEL_MIN_WIDTH = 12
"""Narrowest a column of words (ids, labels) gets on the console [characters]: a longer label
wraps onto more lines, and a table whose columns cannot all get their minimum is printed
stacked (:class:`FitTable`)."""


def _plain(cell: Any) -> str:
    """The text a cell shows (markup removed)."""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)


def _longest_line(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def _fill(low: list[int], phases: list[dict[int, int]], room: int) -> list[int]:
    """Widths from ``low``, widened within ``room`` in all: phase by phase, each a map of
    column to the width it wants, one character at a time to the column furthest short."""
    widths = list(low)
    spare = room - sum(widths)
    for want in phases:
        while spare > 0:
            short = [i for i, w in want.items() if widths[i] < w]
            if not short:
                break
            i = max(short, key=lambda k: (want[k] - widths[k], -k))
            widths[i] += 1
            spare -= 1
    return widths


class FitTable(Table):
    """A table that fits narrow terminals (and pipes, which rich prints 80 columns wide)
    without cutting anything.

    Columns of numbers get at least the width of their longest number, so a number is never
    cut (a cell of several numbers, ``5 - 7 - 9``, may wrap between them); columns of words
    wrap between words, and an id or label longer than the column folds onto more lines, the
    column being at least :data:`LABEL_MIN_WIDTH` characters wide (or as wide as its longest
    word, if shorter); headers wrap. Width left over goes first to the words (up to twice
    :data:`LABEL_MIN_WIDTH`), then to the numbers, so that their cells stay on one line, then
    to the words again and last to the headers. When even the minimums do not fit, the table
    is printed stacked instead: each row as a block of ``header  value`` lines."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        low: list[int] = []
        cell_w: dict[int, int] = {}
        head_w: dict[int, int] = {}
        words: dict[int, int] = {}
        for i, col in enumerate(self.columns):
            cells = [_plain(c) for c in col._cells]
            header = _plain(col.header)
            head = _longest_line(header)
            head_word = min(max((cell_len(w) for w in header.split()), default=0), LABEL_MIN_WIDTH)
            longest = max((_longest_line(c) for c in cells), default=0)
            col.no_wrap = False
            col.overflow = "fold"
            if cells and all(_numberish(c) for c in cells if c.strip()):
                # Numbers are never cut: a cell of several ("5 - 7 - 9") may wrap between them.
                number = max(
                    (cell_len(w) for c in cells for w in _NUMBER_PIECE.findall(c)), default=1
                )
                low.append(max(number, head_word, 1))
                cell_w[i], head_w[i] = max(longest, 1), max(longest, head, 1)
            else:
                # An id (one word) wraps at LABEL_MIN_WIDTH or wider; words wrap between words.
                word = max((cell_len(w) for c in cells for w in c.split()), default=0)
                low.append(max(min(word, LABEL_MIN_WIDTH), head_word, 1))
                words[i] = max(longest, head, 1)
        padding = sum(self._get_padding_width(i) for i in range(len(self.columns)))
        room = options.max_width - self._extra_width - padding
        if sum(low) > room:
            yield from self._stacked(options.max_width)
            return
        ample = {i: min(w, 2 * LABEL_MIN_WIDTH) for i, w in words.items()}
        widths = _fill(low, [ample, cell_w, words, head_w], room)
        for col, width in zip(self.columns, widths, strict=True):
            col.width = width
        yield from super().__rich_console__(console, options)

    def _stacked(self, width: int) -> RenderResult:
        """Each row as a block of ``header  value`` lines, in ``width`` characters."""
        heads = [_longest_line(_plain(c.header)) for c in self.columns]
        key_w = max(1, min(max(heads, default=1), max(8, width // 3)))
        if self.title:
            title = self.title if isinstance(self.title, Text) else Text.from_markup(self.title)
            yield Text(title.plain, style="table.title", justify="left")
        for r in range(self.row_count):
            grid = Table.grid(padding=(0, 1))
            grid.add_column(width=key_w, overflow="fold", style="bold")
            grid.add_column(overflow="fold")
            for col in self.columns:
                grid.add_row(col.header, col._cells[r])
            yield grid
            if r + 1 < self.row_count:
                yield Text("")
        if self.caption:
            caption = (
                self.caption if isinstance(self.caption, Text) else Text.from_markup(self.caption)
            )
            yield Text(caption.plain, style="table.caption")


def md_escape(text: str) -> str:
    """Escape a user string for Markdown: HTML special characters and Markdown markup.

    >>> md_escape("<script>x</script> [a](javascript:b)")
    '&lt;script&gt;x&lt;/script&gt; \\\\[a\\\\](javascript:b)'
    """
    from sim.core.fmt import reveal_bidi

    out = reveal_bidi(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#":
        out = out.replace(ch, "\\" + ch)
    return out


def md_unescape(text: str) -> str:
    """Markdown written with :func:`md_escape` as plain text for a terminal: its backslash
    escapes and HTML entities undone (a cell's ``|`` then reads as a bar).

    >>> md_unescape(md_escape("< 0.1 % of activity_sigma [x|y]"))
    '< 0.1 % of activity_sigma [x|y]'
    """
    import html
    import re

    return html.unescape(re.sub(r"\\([\\`*_\[\]|#])", r"\1", text))


def fmt_number(v: Any) -> str:
    """A number for people: 20,000 rather than 2e+04.

    >>> fmt_number(20000.0), fmt_number(0.125), fmt_number(1234.5)
    ('20,000', '0.125', '1,234')
    """
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return str(v)
    if v == round(v) and abs(v) < 1e15:
        return f"{round(v):,}"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def _fmt(x: Any, digits: int = 0) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int | float):
        return f"{x:,.{digits}f}"
    return str(x)


# --------------------------------------------------------------------------- the verdict


def verdict_markdown(v: Verdict) -> str:
    """The verdict as a Markdown report."""
    lines = [
        f"# Verdict: {md_escape(v.scenario)}",
        "",
        f"**{v.headline.word}.** {md_escape(v.headline.text)}",
        "",
        f"The claimed barrels are compared with barrels **{v.basis}** in the window.",
        "",
    ]
    cl = v.claim
    lines += [
        "## The claim",
        "",
        f"- Source: {md_escape(cl.source) or '-'}",
        f"- Visits: {cl.trips}, barrels: {cl.barrels_bbl:,.0f}"
        if cl.barrels_bbl
        else "- Barrels: -",
        f"- Window: {v.window_days} days; replications: {v.replications}",
        "",
        "## Distributions across replications",
        "",
        "| quantity | mean (95% CI) | 5% | 25% | median | 75% | 95% |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, d in v.distributions.items():
        if d.n:
            lines.append(
                f"| {name} | {d.mean:,.1f} ({d.mean_lo:,.1f}-{d.mean_hi:,.1f}) | "
                + " | ".join(f"{x:,.1f}" for x in (d.p05, d.p25, d.p50, d.p75, d.p95))
                + " |"
            )
    lines += [
        "",
        "## Probabilities (Wilson 95% intervals: Monte Carlo error)",
        "",
        "| event | p | interval | k / n |",
        "| --- | --- | --- | --- |",
    ]
    labels = {
        "trips_ge_claimed": "trips >= claimed visits",
        "observed_ge_claimed": "observed visits >= claimed visits",
        "loaded_ge_claimed": "loaded >= claimed barrels",
        "delivered_ge_claimed": "delivered >= claimed barrels",
    }
    rows: list[tuple[str, Proportion]] = [(labels[k], p) for k, p in v.probabilities.items()]
    cond = v.conditional
    if cond is not None and cond.p_claim is not None and cond.p_seen is not None:
        rows.append((f"{v.basis} >= claimed barrels, given the claimed visits", cond.p_claim))
        rows.append(
            ("barrels in the observed visits >= claimed, given the claimed visits", cond.p_seen)
        )
    if v.needed is not None and v.needed.p_mean_parcel_ge_needed is not None:
        rows.append(
            ("mean parcel >= barrels per visit the claim needs", v.needed.p_mean_parcel_ge_needed)
        )
    if v.un_cap is not None:
        rows.append(("deliveries above the UN cap (per year)", v.un_cap.p_above_cap))
    for label, p in rows:
        lines.append(f"| {label} | {p.p:.3f} | {p.lo:.3f}-{p.hi:.3f} | {p.k} / {p.n} |")
    if cond is not None:
        lines += [
            "",
            "## Conditioning",
            "",
            f"{cond.method.capitalize()}: observed visits within {cond.target_visits} "
            f"± {cond.halfwidth_visits}, {cond.matches} replications ({cond.match_share:.1%}).",
        ]
        if not cond.reliable:
            lines.append(
                f"\n**Warning:** fewer than {MIN_MATCHES_WARN} replications match: run more."
            )
    if v.needed is not None:
        nd = v.needed
        lines += [
            "",
            "## What the claim needs",
            "",
            f"{nd.bbl_per_trip:,.0f} bbl per visit = {nd.capacity_bbl:,.0f} bbl of "
            f"capacity at a {nd.mean_load_factor:.0%} load factor = "
            f"{nd.capacity_m3:,.0f} m3, or "
            f"{nd.cargo_t:,.0f} t of cargo at {nd.mix_bbl_per_t:.2f} bbl/t "
            f"(about {nd.dwt_approx:,.0f} dwt if cargo is 92% of deadweight).",
        ]
    if v.tonnes_check is not None:
        tc = v.tonnes_check
        lo, hi = tc.product_table_bbl_per_t
        lines += [
            "",
            "## Barrels against tonnes",
            "",
            f"The claimed barrels and tonnes imply {tc.claimed_bbl_per_t:.1f} bbl/t "
            f"({tc.claimed_density_t_per_m3:.2f} t/m3), "
            + ("within" if tc.consistent else "outside")
            + f" the product table's {lo:g}-{hi:g} bbl/t.",
        ]
    if v.un_cap is not None:
        cap = v.un_cap
        lines += [
            "",
            "## UN cap",
            "",
            f"Cap {cap.cap_bbl_per_year:,.0f} bbl/yr ({cap.cap_pro_rata_bbl:,.0f} bbl pro "
            "rata for the window); simulated, a median "
            f"{cap.bbl_per_year.p50:,.0f} bbl/yr {v.basis}.",
        ]
    lines += [
        "",
        "Verdict words: "
        + ", ".join(f"p >= {t:g}: {w}" for t, w in WORDS[:-1])
        + f", else {WORDS[-1][1]}.",
        "",
    ]
    return "\n".join(lines)


def print_verdict(v: Verdict, console: Console) -> None:
    """Print the verdict's headline and its key numbers."""
    console.print(f"\n[bold]Verdict: {rich_escape(v.headline.word)}[/bold]")
    console.print(v.headline.text, highlight=False, markup=False)
    t = FitTable(title="Across replications", title_justify="left")
    for col in ("quantity", "5%", "median", "95%"):
        t.add_column(col, justify="left" if col == "quantity" else "right")
    names = ("trips", "observed_visits", "loaded_bbl", "delivered_bbl", "observed_bbl")
    for name in (*names, "mean_parcel_bbl"):
        d: Summary = v.distributions[name]
        t.add_row(name, f"{d.p05:,.0f}", f"{d.p50:,.0f}", f"{d.p95:,.0f}")
    console.print(t)


def evidence_markdown(
    checks: pd.DataFrame | None,
    method: MethodCheck | None,
    replay: pd.DataFrame | None,
    monthly: pd.DataFrame | None = None,
) -> str:
    """Markdown sections: model checks, the claim's own method, replay of named ships."""
    lines: list[str] = []
    if checks is not None and len(checks):
        lines += [
            "",
            "## Model checks against the evidence",
            "",
            "What the replications show for each reported fact (90% interval) and the share that"
            " agree with it (Wilson 95% interval: Monte Carlo error).",
            "",
            "| id | period | measured | reported | simulated (5%-median-95%) | agrees |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in checks.to_dict(orient="records"):
            if r["status"] != "used":
                continue
            lines.append(
                f"| {md_escape(str(r['id']))} | {r['period']} | {md_escape(str(r['measured']))} | "
                f"{md_escape(str(r['reported']))} | {_num3(r)} | {_agree(r)} |"
            )
        unused = [r for r in checks.to_dict(orient="records") if r["status"] != "used"]
        if unused:
            lines += ["", "Rows not used by the model:", ""]
            for r in unused:
                why = str(r["status"]).removeprefix("not used: ")
                lines.append(f"- {md_escape(str(r['id']))}: {md_escape(why)}")
    if monthly is not None and len(monthly):
        lines += ["", "Visits seen per month (5%, median, 95%):", ""]
        lines += ["| month | 5% | median | 95% |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {r['month']} | {r['p05']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} |"
            for r in monthly.to_dict(orient="records")
        ]
    if method is not None and method.ratio.n:
        m = method
        lines += [
            "",
            "## The claim's own method",
            "",
            f"Visits seen x each ship's full capacity x {m.load_factor:.0%} (the US 2018 "
            "practice), applied inside the model and set against the barrels the fleet really "
            "loaded in the "
            f"same replications: the estimate is a median {m.ratio.p50:.2f} times the truth "
            f"(90% interval {m.ratio.p05:.2f}-{m.ratio.p95:.2f}); it overstates in "
            f"{m.p_overstates.p:.0%} of replications. Against the barrels of the visits that "
            f"were seen it is {m.ratio_seen.p50:.2f} times.",
        ]
    if replay is not None and len(replay):
        lines += ["", "## Replay of named ships' sightings", ""]
        lines += [f"- {md_escape(t)}" for t in replay_messages(replay)]
    return "\n".join(lines) + ("\n" if lines else "")


def _num3(r: dict[str, Any]) -> str:
    vals = (r["simulated_p05"], r["simulated_p50"], r["simulated_p95"])
    if "share" in str(r["measured"]):
        return " - ".join(f"{x:.0%}" for x in vals)
    return " - ".join(f"{x:,.0f}" for x in vals)


def _agree(r: dict[str, Any]) -> str:
    return f"{r['p_agrees']:.0%} ({r['p_agrees_lo']:.0%}-{r['p_agrees_hi']:.0%})"


def print_checks(checks: pd.DataFrame | None, method: MethodCheck | None, console: Console) -> None:
    """Print the model checks and the claim's-method line."""
    if checks is not None and len(checks):
        used = checks[checks["status"] == "used"]
        t = FitTable(title="Evidence: reported against simulated", title_justify="left")
        for col in ("id", "reported", "simulated 5%-50%-95%", "agrees"):
            t.add_column(col, justify="left" if col in ("id", "reported") else "right")
        for r in used.to_dict(orient="records"):
            t.add_row(
                rich_escape(str(r["id"])), rich_escape(str(r["reported"])), _num3(r), _agree(r)
            )
        console.print(t)
    if method is not None and method.ratio.n:
        console.print(
            f"The claim's method (seen visits x capacity x {method.load_factor:.0%}) gives a "
            f"median {method.ratio.p50:.2f} x the barrels really loaded "
            f"(90% interval {method.ratio.p05:.2f}-{method.ratio.p95:.2f}).",
            highlight=False,
            markup=False,
        )


def print_evidence(
    evidence: Evidence, checks_unused: list[tuple[str, str]], replay: pd.DataFrame, console: Console
) -> None:
    """Print an evidence file's rows (with what the model does with them) and the replay."""
    t = FitTable(title=f"Evidence: {rich_escape(evidence.file)}", title_justify="left")
    for col in ("row", "id", "kind", "period", "reported", "used"):
        t.add_column(col, justify="right" if col == "row" else "left")
    reasons = dict(checks_unused)
    for r in evidence.rows:
        t.add_row(
            str(r.line),
            rich_escape(r.id),
            r.kind,
            r.period(),
            rich_escape(r.reported()),
            rich_escape(reasons.get(r.id, "yes")),
        )
    console.print(t)
    for line in replay_messages(replay):
        console.print(line, highlight=False, markup=False)


# --------------------------------------------------------------------------- a single run


def print_route_table(table: pd.DataFrame, scenario: Scenario, console: Console) -> None:
    """Print the legs of a scenario (:func:`sim.analysis.metrics.leg_table`)."""
    t = FitTable(
        title=f"Legs of {rich_escape(scenario.name)} ({scenario.routing.method} routing)",
        title_justify="left",
    )
    for col in ("from", "to", "nm", "pilot nm", "passes", "lock"):
        t.add_column(col, justify="right" if "nm" in col else "left")
    classes = list(scenario.fleet)
    for cid in classes:
        t.add_column(f"{rich_escape(cid)} h", justify="right")
    t.caption = "hours laden / in ballast at each class's mean speeds"
    for row in table.to_dict(orient="records"):
        t.add_row(
            rich_escape(str(row["from"])),
            rich_escape(str(row["to"])),
            f"{row['distance_nm']:,.1f}",
            f"{row['pilotage_nm']:,.1f}",
            rich_escape(str(row["passes"])) or "-",
            rich_escape(str(row["lock"])) or "-",
            *(f"{row[f'{c}_laden_h']:.1f} / {row[f'{c}_ballast_h']:.1f}" for c in classes),
        )
    console.print(t)


CONSOLE_ROWS = 20
"""Rows of a per-ship table printed on the terminal; the files hold every row."""


def print_run_summary(result: RunResult, console: Console) -> None:
    """Print the summary of one replication."""
    sc, s = result.scenario, result.summary
    k, c = s.kpis, s.claims
    console.print(
        f"[bold]{rich_escape(sc.title or sc.name)}[/bold]  seed {result.seed}, replication "
        f"{result.replication}, {sc.window.start} to {sc.window.end} ({sc.window.days} days), "
        f"{sc.n_ships} ships"
    )
    legs = ", ".join(
        f"{leg.origin}-{leg.destination} {leg.distance_nm:,.0f} nm"
        for leg in result.routes.unique_legs()
    )
    console.print(f"Routes ({sc.routing.method}): {legs}", highlight=False, markup=False)

    t = FitTable(title="Claim against this replication", title_justify="left")
    t.add_column("quantity")
    t.add_column("claimed", justify="right")
    t.add_column("simulated", justify="right")
    loaded = c.get("basis") == "loaded"
    t.add_row("trips (loadings in window)", "", _fmt(k["trips"]))
    t.add_row("observed visits", _fmt(c.get("claimed_trips")), _fmt(k["observed_visits"]))
    t.add_row("barrels loaded", _fmt(c.get("claimed_bbl")) if loaded else "", _fmt(k["loaded_bbl"]))
    t.add_row(
        "barrels delivered", "" if loaded else _fmt(c.get("claimed_bbl")), _fmt(k["delivered_bbl"])
    )
    t.add_row("barrels on board at the end", "", _fmt(k["on_board_bbl"]))
    t.add_row("tonnes delivered", _fmt(c.get("claimed_t")), _fmt(k["delivered_t"]))
    t.add_row(
        "barrels per trip",
        _fmt(c.get("needed_bbl_per_claimed_trip")),
        _fmt(k["mean_parcel_bbl"]),
    )
    if "un_cap_pro_rata_bbl" in c:
        t.add_row(
            f"UN cap pro rata ({c['window_days']} d)",
            _fmt(c["un_cap_pro_rata_bbl"]),
            f"{c['vs_cap_pro_rata']:.1f}x cap ({c['basis']})" if c["vs_cap_pro_rata"] else "-",
        )
    console.print(t)
    if "claim_implied_bbl_per_t" in c:
        console.print(
            f"Claimed barrels / claimed tonnes = {c['claim_implied_bbl_per_t']:.1f} bbl/t "
            f"(density {c['claim_implied_density_t_per_m3']:.2f} t/m3): "
            + ("consistent with" if c["claim_tonnes_consistent"] else "outside")
            + " the product table's range.",
            highlight=False,
        )

    n_ships = len(s.ships)
    shown = s.ships.head(CONSOLE_ROWS)
    title = (
        "Ships"
        if n_ships <= CONSOLE_ROWS
        else (f"Ships (the first {CONSOLE_ROWS} of {n_ships:,}; all in ships.csv)")
    )
    st = FitTable(title=title, title_justify="left")
    for col in ("ship", "trips", "delivered bbl", "sailing d", "in port d", "waiting d", "idle d"):
        st.add_column(col, justify="left" if col == "ship" else "right")
    for row in shown.itertuples(index=False):
        st.add_row(
            rich_escape(str(row.ship)),
            _fmt(row.trips),
            _fmt(row.delivered_bbl),
            _fmt(row.sailing_days, 1),
            _fmt(row.in_port_days, 1),
            _fmt(row.waiting_days, 1),
            _fmt(row.idle_days, 1),
        )
    console.print(st)

    bt = FitTable(title="Berths", title_justify="left")
    for col in ("port", "berths", "calls", "utilisation", "mean wait h", "max wait h"):
        bt.add_column(col, justify="left" if col == "port" else "right")
    for row in s.berths.itertuples(index=False):
        bt.add_row(
            rich_escape(str(row.place)),
            str(row.berths),
            str(row.calls),
            f"{row.berth_utilisation:.0%}",
            _fmt(row.mean_wait_h, 1),
            _fmt(row.max_wait_h, 1),
        )
    console.print(bt)


# --------------------------------------------------------------------------- sweeps, sensitivity


def print_sweep(result: SweepResult, console: Console) -> None:
    """Print a sweep's per-point table and its plausibility frontier."""
    summary = result.summary
    basis = result.base.claims.basis
    keys = [d.key for d in result.dimensions]
    t = FitTable(title="P(delivered >= claim | claimed visits) per point", title_justify="left")
    for k in keys:
        t.add_column(rich_escape(k.split(".")[-1] if len(keys) > 2 else k), justify="right")
    for col in ("P(claim)", "95% interval", "matches", "verdict", f"median bbl {basis}"):
        t.add_column(col, justify="right")
    rows = summary if len(summary) <= 40 else summary.head(40)
    for row in rows.to_dict(orient="records"):
        cells = [rich_escape(fmt_number(row[k])) for k in keys]
        if "p_claim" in row and row["matches"] == 0:
            cells += ["-", "-", "0", "no matches"]
        elif "p_claim" in row:
            cells += [
                f"{row['p_claim']:.0%}",
                f"{row['p_claim_lo']:.0%}-{row['p_claim_hi']:.0%}",
                f"{row['matches']} (±{row['halfwidth']})",
                str(row["verdict"]) + ("" if row.get("reliable", True) else " (too few)"),
            ]
        else:
            cells += ["-", "-", "-", "-"]
        cells.append(f"{row['barrels_p50']:,.0f}")
        t.add_row(*cells)
    console.print(t)
    if len(summary) > 40:
        console.print(f"(first 40 of {len(summary)} points; all in summary.csv)")
    if result.frontier is not None:
        fr = result.frontier
        x_col = next(c for c in fr.columns if c.endswith("_at_p50"))
        console.print("\n[bold]Plausibility frontier[/bold] (where P(claim) crosses 50 %):")
        for row in fr.to_dict(orient="records"):
            where = ", ".join(f"{k} = {fmt_number(row[k])}" for k in keys[1:])
            if row["status"] == "crosses":
                op = ">=" if row["direction"] == "rising" else "<="
                said = f"more likely than not for {keys[0]} {op} {fmt_number(row[x_col])}"
            elif row["status"] == "above everywhere":
                said = f"more likely than not at every {keys[0]} tried"
            elif row["status"] == "below everywhere":
                said = f"less likely than not at every {keys[0]} tried"
            else:
                said = "too few replications show the claimed visits to tell"
            console.print(f"  {where}: {said}", highlight=False, markup=False)


def print_sensitivity(result: SensitivityResult, console: Console) -> None:
    """Print the ranked indices of the main outputs."""
    method = result.method
    key, conf = ("ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf")
    for output in ("observed_bbl", "delivered_bbl"):
        d = result.indices[result.indices["output"] == output]
        if key not in d or d[key].isna().all():
            continue
        t = FitTable(title=f"Sensitivity of {output} ({method})", title_justify="left")
        t.add_column("rank", justify="right")
        t.add_column("factor")
        t.add_column(key, justify="right")
        t.add_column("95% interval", justify="right")
        if method == "sobol":
            t.add_column("S1", justify="right")
        for row in d.sort_values(key, ascending=False).to_dict(orient="records"):
            cells = [
                str(row["rank"]),
                rich_escape(str(row["factor"])),
                f"{row[key]:.3g}",
                f"±{row[conf]:.2g}",
            ]
            if method == "sobol":
                cells.append(f"{row['S1']:.3g}")
            t.add_row(*cells)
        console.print(t)
    conv = result.convergence
    if conv is not None and not conv.empty:
        from sim.analysis.sensitivity import stable_top

        sizes = sorted(conv["N"].unique())
        for output in ("observed_bbl", "delivered_bbl"):
            ok = stable_top(conv, output)
            if ok is None:
                continue
            said = "the same" if ok else "NOT the same: take more --samples"
            console.print(
                f"Convergence ({output}): the top three factors at N = {sizes[-2]} and "
                f"{sizes[-1]} are {said} (convergence.csv, plots/convergence).",
                highlight=False,
            )


# --------------------------------------------------------------------------- calibration

_QUANTITY_LABELS = {
    "seen_claim_bbl": "barrels the claimed visits carried (seen) [bbl]",
    "fleet_claim_bbl": "barrels the fleet loaded, on the claimed visits [bbl]",
    "mean_seen_parcel_bbl": "mean parcel per seen visit [bbl]",
    "share_seen": "share of visits seen [-]",
    "trips": "trips (loadings) [-]",
    "observed_visits": "visits seen [-]",
    "unseen_visits": "visits unseen [-]",
    "mean_parcel_bbl": "mean parcel, all visits [bbl]",
    "p_detect": "detection probability [-]",
}


def _iv(x: Any) -> str:
    whole = all(float(v).is_integer() for v in (x.median, x.lo, x.hi))
    small = abs(x.median) < 10 and not whole
    fmt = (lambda v: f"{v:,.2f}") if small else (lambda v: f"{v:,.0f}")
    return f"{fmt(x.median)} ({fmt(x.lo)}-{fmt(x.hi)})"


def posterior_markdown(result: CalibrationResult) -> str:
    """A calibration's answer as a Markdown report: the posterior verdict, what one must
    believe, the unknowns, the diagnostics and the predictive check."""
    v = result.verdict
    s = result.setup
    lines = [
        f"# Posterior verdict: {md_escape(s.scenario.name)} (prior set '{md_escape(s.prior)}')",
        "",
        md_escape(v.headline),
        "",
        "Probabilities are over the posterior (the unknowns given the evidence); ± is Monte "
        "Carlo error (two standard errors shown in the plots), not uncertainty about the world, "
        "which the credible intervals carry.",
        "",
        "| question | evidence set | P(yes \\| evidence) | Monte Carlo s.e. | word |",
        "| --- | --- | --- | --- | --- |",
        f"| the {v.claim_visits} seen visits carried >= {v.claim_bbl:,.0f} bbl | "
        f"{v.evidence_set} | {v.seen.p:.3f} | {v.seen.mcse:.3f} | {v.word} |",
        f"| the fleet {v.basis} >= {v.claim_bbl:,.0f} bbl, unseen visits included | "
        f"{v.evidence_set} | {v.fleet.p:.3f} | {v.fleet.mcse:.3f} | {v.fleet_word} |",
    ]
    for a in v.alternatives:
        lines += [
            f"| the {v.claim_visits} seen visits carried >= {v.claim_bbl:,.0f} bbl | "
            f"{a.evidence} | {a.p_seen:.3f} | {a.mcse:.3f} | {a.word} |",
            f"| the fleet {v.basis} >= {v.claim_bbl:,.0f} bbl, unseen visits included | "
            f"{a.evidence} | {a.p_fleet:.3f} | {a.fleet_mcse:.3f} | {word_for(a.p_fleet)} |",
        ]
    lines += evidence_fitted_markdown(result)
    lines += held_out_markdown(v.held_out)
    lines += settle_markdown(v.settle)
    lines += [
        "",
        "## What one must believe",
        "",
        md_escape(v.must.sentence),
        "",
        "## The unknowns (posterior median, 90 % credible interval)",
        "",
        "| unknown | prior | posterior |",
        "| --- | --- | --- |",
    ]
    for p in s.parameters:
        lines.append(
            f"| `{p.key}` | {md_escape(_dist_text(p.dist))} | {_iv(v.parameters[p.key])} |"
        )
    lines += ["", "## Quantities (posterior median, 90 % credible interval)", ""]
    lines += ["| quantity | posterior |", "| --- | --- |"]
    for name, iv in v.quantities.items():
        lines.append(f"| {_QUANTITY_LABELS.get(name, name)} | {_iv(iv)} |")
    d = result.diagnostics
    lines += [
        "",
        "## ABC-SMC",
        "",
        f"{len(result.posterior)} particles, {len(d)} generations, {result.simulated:,} "
        f"simulations, {result.elapsed_s:.1f} s; posterior runs: {v.replications:,} "
        f"replications ({v.replications // max(1, v.particles)} per particle).",
        "",
        "| generation | tolerance | simulations | acceptance rate | ESS |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in d.to_dict(orient="records"):
        lines.append(
            f"| {r['generation']} | {r['epsilon']:.3g} | {r['simulations']:,} | "
            f"{r['acceptance_rate']:.3f} | {r['ess']:.0f} |"
        )
    lines += [
        "",
        "## The evidence, predicted",
        "",
        "| statistic | reported | fitted | posterior 5%-50%-95% | agree: prior "
        "| agree: posterior |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in result.predictive.to_dict(orient="records"):
        lines.append(
            f"| {md_escape(r['statistic'])} | {md_escape(r['reported'])} | "
            f"{'yes' if r['fitted'] else 'no'} | {fmt_number(r['p05'])} - "
            f"{fmt_number(r['median'])} - {fmt_number(r['p95'])} | {r['agree_prior']:.0%} | "
            f"{r['agree_posterior']:.0%} |"
        )
    return "\n".join(lines) + "\n"


def evidence_fitted_markdown(result: CalibrationResult) -> list[str]:
    """The evidence rows fitted and those held out, with each row's provenance."""
    lines = [
        "",
        f"## The evidence fitted (evidence set '{result.setup.evidence_set}')",
        "",
        "| statistic | reported | basis | independence | fitted | why not |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for st in result.setup.statistics:
        lines.append(
            f"| {md_escape(st.name)} | {md_escape(f'{st.relation} {number(st.target)}')} | "
            f"{st.basis} | {md_escape(st.independence)} | {'yes' if st.fitted else 'no'} | "
            f"{md_escape(st.why)} |"
        )
    return lines


def held_out_markdown(checks: Sequence[Any]) -> list[str]:
    """Held-out checks as a Markdown table (:mod:`sim.analysis.heldout`)."""
    if not checks:
        return []
    lines = [
        "",
        "## Held-out checks",
        "",
        "What the posterior predicts for facts it was not fitted to; percentile: where the "
        "report lies in the posterior predictive distribution; flagged: outside 5-95 % (a "
        "bound or an event reached in under 5 % of replications).",
        "",
        "| check | reported | posterior 5%-50%-95% | percentile | agree | flagged |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for h in checks:
        lines.append(
            f"| {md_escape(h.label)} | {md_escape(h.reported)} | {fmt_number(h.p05)} - "
            f"{fmt_number(h.p50)} - {fmt_number(h.p95)} | {_pct_or_dash(h.percentile)} | "
            f"{_pct_or_dash(h.p_agree)} | {'**yes**' if h.flagged else 'no'} |"
        )
    return lines


def _pct_or_dash(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{100 * x:.1f} %"


def settle_groups(found: Sequence[Any]) -> list[Any]:
    """The best candidate of each kind (a named ship's size, a month's visits, a month's
    barrels, ...), largest expected change first."""
    best: dict[str, Any] = {}
    for x in found:
        group = x.key.split(":")[0]
        if group not in best or x.expected_change > best[group].expected_change:
            best[group] = x
    return sorted(best.values(), key=lambda x: -x.expected_change)


def settle_markdown(found: Sequence[Any], top: int = 3) -> list[str]:
    """What would settle it: the candidates that would move the answer most."""
    if not found:
        return []
    lines = [
        "",
        "## What would settle it",
        "",
        "How much learning each fact would move P(seen visits carried the claim) on average "
        "(E|dP|, less the noise floor of a shuffled fact), best of each kind first:",
        "",
        "| fact | E\\|dP\\| | noise floor | P(seen) if low | if high |",
        "| --- | --- | --- | --- | --- |",
    ]
    for x in settle_groups(found)[: max(top, 1) * 3]:
        lines.append(
            f"| {md_escape(x.label)} | {100 * x.expected_change:.1f} points | "
            f"{100 * x.noise_floor:.1f} | {x.p_low:.0%} | {x.p_high:.0%} |"
        )
    return lines


def _dist_text(d: Any) -> str:
    data = d.model_dump(exclude_none=True)
    kind = data.pop("dist", "")
    data.pop("level", None)
    return kind + "(" + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in data.items()) + ")"  # fmt: skip


def print_calibration(result: CalibrationResult, console: Console) -> None:
    """Print a calibration's answer: the headline, the unknowns, the predictive check."""
    v = result.verdict
    console.print(f"\n[bold]Posterior verdict ({rich_escape(result.setup.prior)} prior): "
                  f"{rich_escape(v.word)}[/bold]")  # fmt: skip
    console.print(rich_escape(v.headline), highlight=False)
    console.print(rich_escape(v.must.sentence), highlight=False)
    flagged = [h for h in v.held_out if h.flagged]
    if v.held_out:
        console.print(
            f"Held-out checks: {len(v.held_out) - len(flagged)} of {len(v.held_out)} inside "
            "what the posterior predicts"
            + (
                "; outside 5-95 %: "
                + "; ".join(rich_escape(f"{h.id}, {h.verdict()}") for h in flagged)
                if flagged
                else "."
            ),
            highlight=False,
        )
    groups = settle_groups(v.settle)[:3]
    if groups:
        console.print("What would settle it, most first:", highlight=False)
        for x in groups:
            console.print("  - " + rich_escape(x.sentence()), highlight=False)
    t = FitTable(title="The unknowns, given the evidence", title_justify="left")
    t.add_column("unknown")
    t.add_column("prior")
    t.add_column("posterior median (90% CI)", justify="right")
    for p in result.setup.parameters:
        t.add_row(p.key, rich_escape(_dist_text(p.dist)), _iv(v.parameters[p.key]))
    console.print(t)
    console.print(predicted_table(result.predictive))


def predicted_table(predictive: pd.DataFrame) -> FitTable:
    """The table "The evidence, predicted": one row per calibration statistic (the
    ``predictive`` frame of a :class:`~sim.runner.calibrate.CalibrationResult`)."""
    t = FitTable(title="The evidence, predicted", title_justify="left")
    for name, just in (("statistic", "left"), ("reported", "left"), ("fitted", "left"),
                       ("posterior 5-50-95%", "right"), ("agree: prior", "right"),
                       ("posterior", "right")):  # fmt: skip
        t.add_column(name, justify=just)  # type: ignore[arg-type]
    for r in predictive.to_dict(orient="records"):
        t.add_row(
            rich_escape(str(r["statistic"])),
            rich_escape(str(r["reported"])),
            "yes" if r["fitted"] else "no",
            f"{fmt_number(r['p05'])} - {fmt_number(r['median'])} - {fmt_number(r['p95'])}",
            f"{r['agree_prior']:.0%}",
            f"{r['agree_posterior']:.0%}",
        )
    return t


def priors_markdown(table: pd.DataFrame) -> str:
    """The answer under each prior set, as Markdown."""
    words = set(table["word"])
    if len(words) > 1:
        head = (
            "**The answer depends on the prior**: the verdict's word changes between "
            f"reasonable priors ({', '.join(sorted(words))})."
        )
    else:
        head = f"**The answer does not change word between these priors**: {words.pop()}."
    lines = [
        "# The answer under each prior",
        "",
        head,
        "",
        "| prior set | what it assumes | P(seen visits carried the claim) | P(fleet loaded it) "
        "| word |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in table.to_dict(orient="records"):
        lines.append(
            f"| {md_escape(r['prior'])} | {md_escape(r['description'])} | "
            f"{r['p_seen']:.2f} ± {r['p_seen_mcse']:.2f} | {r['p_fleet']:.2f} ± "
            f"{r['p_fleet_mcse']:.2f} | {r['word']} |"
        )
    lines += ["", "± is one Monte Carlo standard error."]
    return "\n".join(lines) + "\n"


def print_claims(check: ClaimsCheck, console: Console) -> None:
    """Print the claims check: each finding as a sentence, then the product table."""

    console.print(f"\n[bold]Claims check: {rich_escape(check.scenario)}[/bold]")
    if check.source:
        console.print(f"Claim: {rich_escape(check.source)}", highlight=False)
    tb = check.tonnes_vs_barrels
    findings = []
    if tb is not None:
        colour = "red" if tb.impossible else "green"
        findings.append(
            f"[{colour}]barrels vs tonnes: {tb.status}[/{colour}]. " + rich_escape(tb.sentence)
        )
    if check.per_visit is not None:
        findings.append("per visit: " + rich_escape(check.per_visit.sentence))
    if check.un_cap is not None:
        findings.append("UN cap: " + rich_escape(check.un_cap.sentence))
    for f in findings:
        console.print("- " + f, highlight=False)
    if tb is not None:
        table = FitTable(title="The claim in each product (BP factors)", title_justify="left")
        table.add_column("product")
        table.add_column("bbl/t", justify="right")
        table.add_column("t/m3", justify="right")
        table.add_column(f"{tb.tonnes:,.0f} t in bbl", justify="right")
        table.add_column(f"{tb.barrels:,.0f} bbl in t", justify="right")
        for p in tb.products:
            table.add_row(
                rich_escape(p.product),
                f"{p.bbl_per_t:.2f}",
                f"{p.density_t_per_m3:.3f}",
                f"{p.claimed_t_as_bbl:,.0f}",
                f"{p.claimed_bbl_as_t:,.0f}",
            )
        table.add_row(
            "[red]the claim[/red]",
            f"{tb.implied_bbl_per_t:.2f}",
            f"{tb.implied_density_t_per_m3:.3f}",
            "",
            "",
        )
        console.print(table)
