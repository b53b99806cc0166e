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


class TextProgress:
    """Progress as plain lines on stderr, at most one every ``every_s`` seconds and one at the
    end: for notebooks without ipywidgets, logs and pipes, where a live bar cannot redraw.

    Lines read ``replications: 2,000 of 10,000 (20 %), 3.1 s``.
    """

    def __init__(self, description: str = "replications", every_s: float = 2.0) -> None:
        self.description = description
        self.every_s = every_s
        self.n: int | None = None
        self.done = 0
        self.t0 = time.perf_counter()
        self.last = self.t0

    def __enter__(self) -> TextProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.done and exc[0] is None:
            self._line()

    def total(self, n: int, description: str | None = None) -> None:
        self.n = n
        if description is not None:
            self.description = description

    def advance(self, k: int) -> None:
        self.done += k
        now = time.perf_counter()
        if now - self.last >= self.every_s:
            self.last = now
            self._line()

    def _line(self) -> None:
        import sys

        of = ""
        if self.n:
            of = f" of {self.n:,} ({100 * self.done / self.n:.0f} %)"
        elapsed = time.perf_counter() - self.t0
        print(f"{self.description}: {self.done:,}{of}, {elapsed:.1f} s", file=sys.stderr)


def auto_progress(description: str = "replications") -> LazyProgress | TextProgress:
    """A live rich bar on a terminal (or in Jupyter with ipywidgets), plain lines elsewhere."""
    from importlib.util import find_spec

    console = Console(stderr=True)
    if console.is_terminal or (console.is_jupyter and find_spec("ipywidgets") is not None):
        bar = LazyProgress(console=console)
        bar.progress.update(bar.task, description=description)
        return bar
    return TextProgress(description)
