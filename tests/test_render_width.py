"""Console tables at 80 and 60 columns (a piped command prints 80): every id and label shows
whole or wrapped onto more lines, never squeezed to a few characters, and no line is wider
than the console (sim.outputs.render.FitTable)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from sim.analysis.metrics import leg_table
from sim.api import McResult, RunResult, run, run_mc
from sim.outputs.render import (
    LABEL_MIN_WIDTH,
    FitTable,
    predicted_table,
    print_checks,
    print_route_table,
    print_run_summary,
    print_verdict,
)

WIDTHS = (80, 60)


def render(width: int, draw: Callable[[Console], None]) -> str:
    console = Console(record=True, width=width, color_system=None)
    draw(console)
    return console.export_text()


def column_text(text: str, header: str, index: int) -> tuple[str, int]:
    """The cells of column ``index`` (headed ``header``) joined in order, and the narrowest
    width any of its cells had, from a table printed either as a grid or stacked."""
    lines = text.splitlines()
    if any("┃" in line for line in lines):  # a grid
        top = next(line for line in lines if line.startswith("┏"))
        width = len(top[1:].split("┳")[index]) - 2  # less the padding
        body = [line for line in lines if line.startswith("│")]
        return "".join(line.split("│")[index + 1].strip() for line in body), width
    out: list[str] = []
    on, start, width = False, 0, 10**9
    for line in lines:
        if line.startswith(header + " "):
            rest = line[len(header) :]
            start = len(line) - len(rest.lstrip())
            width = min(width, len(text.splitlines()[0]) - start)
            out.append(line[start:].strip())
            on = True
        elif on and line.strip() and not line[:start].strip():
            out.append(line[start:].strip())
        else:
            on = False
    return "".join(out), width


def check(text: str, width: int, header: str, index: int, labels: list[str]) -> None:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    joined, narrowest = column_text(text, header, index)
    assert joined == "".join(labels)  # every label whole or wrapped, nothing cut or lost
    assert narrowest >= min(LABEL_MIN_WIDTH, max(len(x) for x in labels))


@pytest.fixture(scope="module")
def batch() -> McResult:
    return run_mc("scenarios/osc-2024.toml", n=40, options="serial", plots=False, progress=False)


def checks_of(batch: McResult) -> pd.DataFrame:
    assert batch.checks is not None  # the baseline has an evidence file
    return batch.checks


@pytest.fixture(scope="module")
def one_run() -> RunResult:
    return run("scenarios/osc-2024.toml")


def predictive(ids: list[str]) -> pd.DataFrame:
    """A calibration's predictive table, as :func:`print_calibration` gets it."""
    n = len(ids)
    rng = np.random.default_rng(1)
    p50 = rng.uniform(1.0, 2e6, n).round()
    return pd.DataFrame(
        {
            "statistic": ids,
            "reported": [f">= {x:,.0f}" for x in rng.uniform(1, 1e6, n)],
            "fitted": rng.uniform(size=n) > 0.3,
            "p05": p50 * 0.5,
            "median": p50,
            "p95": p50 * 1.7,
            "agree_prior": rng.uniform(size=n),
            "agree_posterior": rng.uniform(size=n),
        }
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_evidence_predicted_keeps_its_ids_readable(batch: McResult, width: int) -> None:
    ids = [*checks_of(batch)["id"], "a-statistic-id-longer-than-any-console-column-could-hold:all"]
    text = render(width, lambda c: c.print(predicted_table(predictive(ids))))
    check(text, width, "statistic", 0, ids)
    # At 80 columns the grid still fits (stacked only when it must).
    assert ("┃" in text) == (width == 80)


@pytest.mark.parametrize("width", WIDTHS)
def test_model_checks_keep_their_ids_readable(batch: McResult, width: int) -> None:
    checks = checks_of(batch)
    text = render(width, lambda c: print_checks(checks, batch.method, c))
    used = checks[checks["status"] == "used"]
    check(text, width, "id", 0, list(used["id"]))


@pytest.mark.parametrize("width", WIDTHS)
def test_verdict_table(batch: McResult, width: int) -> None:
    text = render(width, lambda c: print_verdict(batch.verdict, c))
    names = ["trips", "observed_visits", "loaded_bbl", "delivered_bbl", "observed_bbl"]
    check(text, width, "quantity", 0, [*names, "mean_parcel_bbl"])


@pytest.mark.parametrize("width", WIDTHS)
def test_run_summary_tables(one_run: RunResult, width: int) -> None:
    text = render(width, lambda c: print_run_summary(one_run, c))
    assert max(len(line) for line in text.splitlines()) <= width
    ships = text[text.index("Ships") :]
    shown = list(one_run.summary.ships["ship"].astype(str).head(20))
    check(ships[: ships.index("Berths")], width, "ship", 0, shown)


@pytest.mark.parametrize("width", WIDTHS)
def test_route_table(one_run: RunResult, width: int) -> None:
    table = leg_table(one_run.scenario, one_run.routes)
    text = render(width, lambda c: print_route_table(table, one_run.scenario, c))
    check(text, width, "from", 0, list(table["from"].astype(str)))


def test_a_table_too_wide_for_the_console_is_stacked() -> None:
    t = FitTable(title="Wide")
    t.add_column("label")
    for k in range(8):
        t.add_column(f"number {k}", justify="right")
    labels = ["first-label-of-the-table", "second"]
    for label in labels:
        t.add_row(label, *(f"{1_000_000 * (k + 1):,}" for k in range(8)))
    text = render(60, lambda c: c.print(t))
    assert "┃" not in text  # eight 9-digit numbers cannot share 60 columns
    check(text, 60, "label", 0, labels)
    for k in range(8):  # every number whole, on its own line
        assert text.count(f"number {k}") == 2
        assert f"{1_000_000 * (k + 1):,}" in text
    wide = render(160, lambda c: c.print(t))
    assert "┃" in wide and max(len(line) for line in wide.splitlines()) <= 160


@pytest.mark.parametrize("width", (40, 60, 70, 80, 100))
def test_numbers_are_never_cut(batch: McResult, width: int) -> None:
    table = predicted_table(predictive(list(checks_of(batch)["id"])))
    numbers = {w for col in table.columns[3:] for cell in col._cells for w in str(cell).split()}
    assert any(len(w) >= 9 for w in numbers)  # 1,234,567 and the like
    lines = render(width, lambda c: c.print(table)).splitlines()
    for w in numbers:
        assert any(w in line for line in lines), w
