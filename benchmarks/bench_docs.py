"""Every command whose run time the README and docs quote, timed as a user runs it.

Each command runs once, as a subprocess of the installed ``tankersim`` in a fresh temporary
folder (its ``--out`` is new, so nothing is resumed), one after the other on an otherwise idle
machine. The first command builds the route graph if it is not cached; the others find it
cached, as a user's second command does. The result is written to ``docs/timings.md``: one
table with the wall time of every command, the machine (CPU model, cores, memory), the Python
and package versions, the commit and the date. The docs quote that table, not their own
figures.

    python benchmarks/bench_docs.py            # about 20 minutes on 2 cores
    python benchmarks/bench_docs.py --quick    # leaves out make priors and the audit
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).with_name("tankersim"))
OSC = "scenarios/osc-2024.toml"
MINIMAL = "scenarios/minimal.toml"


@dataclass(frozen=True)
class Command:
    """A documented command: its arguments after ``tankersim``, where the docs quote it, and
    whether it writes into an ``--out`` folder (given a fresh one) or a report file."""

    key: str
    args: tuple[str, ...]
    docs: str
    out: str | None = "--out"
    long: bool = False
    status: int = 0


COMMANDS = (
    Command("version", ("--version",), "start-up and imports", out=None),
    Command("claims", ("claims", OSC), "docs/report.md", out=None),
    Command("run-minimal", ("run", MINIMAL), "docs/model.md"),
    Command("mc-minimal", ("mc", MINIMAL, "-n", "50", "--no-plots"), "docs/monte-carlo.md"),
    Command(
        "calibrate",
        ("calibrate", OSC),
        "README, docs/calibration.md (make demo, step 1: the default and every row)",
    ),
    Command(
        "robustness",
        ("robustness", OSC),
        "README, docs/robustness.md (make demo, step 2)",
        long=True,
    ),
    Command("mc", ("mc", OSC), "README, docs/monte-carlo.md (make demo, step 3)"),
    Command(
        "report",
        ("report", "{robustness}", "{calibrate}", "{mc}"),
        "docs/report.md (make demo, step 4)",
    ),
    Command("evidence", ("evidence", OSC), "docs/evidence.md", out=None),
    Command(
        "sweep-minimal",
        (
            "sweep",
            MINIMAL,
            "--vary",
            "fleet.tanker.capacity_bbl=10000:30000:3",
            "--vary",
            "fleet.tanker.turnaround_days=0,2",
            "-n",
            "20",
        ),
        "docs/sweeps.md",
    ),
    Command("sweep-stored", ("sweep", OSC), "docs/sweeps.md (the scenario's [sweep])"),
    Command(
        "sensitivity-minimal",
        ("sensitivity", MINIMAL),
        "docs/sweeps.md (an error: no uncertain inputs)",
        status=2,
    ),
    Command("sensitivity-osc", ("sensitivity", OSC, "--samples", "256"), "docs/sweeps.md"),
    Command(
        "priors",
        ("calibrate", OSC, "--all-priors"),
        "README, docs/calibration.md (make priors)",
        long=True,
    ),
)


def machine() -> dict[str, str]:
    """What the timings were measured on."""
    from sim.core.io import cpu_model

    cpu = cpu_model()
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.0f} GiB"
                break
    except OSError:
        pass
    import numpy
    import pandas

    import sim

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": f"tankersim {sim.__version__}, numpy {numpy.__version__}, "
        f"pandas {pandas.__version__}",
        "commit": commit or "unknown",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="leave out make priors and the audit")
    ap.add_argument("--write", type=Path, default=ROOT / "docs" / "timings.md")
    args = ap.parse_args()
    rows: list[tuple[Command, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        outs: dict[str, str] = {}
        for c in COMMANDS:
            if c.long and args.quick:
                continue
            argv = [  # a folder of a command left out (--quick) is left out too
                a.format(**outs)
                for a in c.args
                if not (a.startswith("{") and a.strip("{}") not in outs)
            ]
            if c.out is not None:
                outs[c.key] = str(Path(tmp) / c.key)
                target = outs[c.key] + (".html" if c.key == "report" else "")
                argv += [c.out, target]
            t0 = time.perf_counter()
            done = subprocess.run([EXE, *argv], capture_output=True, cwd=ROOT, text=True)
            wall = time.perf_counter() - t0
            if done.returncode != c.status:
                sys.exit(f"{' '.join(argv)}: exit status {done.returncode}\n{done.stderr}")
            shown = " ".join(
                a if not a.startswith(tmp) else "OUT/" + Path(a).name for a in ["tankersim", *argv]
            )
            rows.append((c, shown, wall))
            print(f"{wall:8.1f} s  {shown}", flush=True)
    m = machine()
    demo = sum(w for c, _, w in rows if c.key in ("calibrate", "robustness", "mc", "report"))
    lines = [
        "# Run times",
        "",
        "Written by `python benchmarks/bench_docs.py` (do not edit by hand): every command whose",
        "run time the README and the docs quote, run once each as a user runs it (a subprocess,",
        "a fresh `--out`, the route graph already cached), one after the other on an otherwise",
        "idle machine. Single runs on a shared machine vary by 10-20 %.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} of memory, {m['os']}; "
        f"Python {m['python']}; {m['versions']}; commit {m['commit']}; {m['date']}.",
        "",
        "| command | wall time | quoted in |",
        "| --- | ---: | --- |",
    ]
    for c, shown, wall in rows:
        lines.append(f"| `{shown}` | {_fmt(wall)} | {c.docs} |")
    lines += [
        "",
        f"`make demo`'s four commands (calibrate, robustness, mc, report) add up to "
        f"{_fmt(demo)}; the",
        "`make` target itself adds a check that the virtual environment is installed.",
        "",
    ]
    args.write.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.write}")


def _fmt(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


if __name__ == "__main__":
    main()
