"""Progress bars for long work, on stderr: they appear when the first work is done."""

from __future__ import annotations

import time

from rich.console import Console


class LazyProgress:
    """A rich progress bar that appears when the first work is done, so that errors found
    while preparing (a bad sweep point, a port on land) print alone on stderr."""

    def __init__(self, rate: bool = False, console: Console | None = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            *([TextColumn("{task.fields[rate]}")] if rate else []),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
        ]
        self.progress = Progress(*columns, console=console or Console(stderr=True))
        self.started = False
        self.rate = rate
        self.t0 = time.perf_counter()
        self.task = self.progress.add_task("replications", total=None, rate="")

    def __enter__(self) -> LazyProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.progress.stop()

    def total(self, n: int, description: str | None = None) -> None:
        if description is None:
            self.progress.update(self.task, total=n)
        else:
            self.progress.update(self.task, total=n, description=description)

    def advance(self, k: int) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        self.progress.advance(self.task, k)
        if self.rate:
            done = self.progress.tasks[0].completed
            rate = done / max(1e-9, time.perf_counter() - self.t0)
            self.progress.update(self.task, rate=f"{rate:,.0f}/s")
