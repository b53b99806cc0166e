"""A mutation fuzzer for scenario and evidence files, run through the real command line.

Each case starts from a valid scenario shipped in ``scenarios/`` (``minimal.toml``, which
runs in a fraction of a second, and the baseline ``osc-2024.toml`` with its evidence file) and
applies one mutation, chosen by a seeded random generator so that case ``i`` of seed ``s`` is
always the same file:

- **structure-aware** (on the parsed TOML, written back with tomli-w): a leaf replaced by a
  hostile value (wrong types, NaN and infinities, huge and tiny numbers, long strings, markup,
  paths, ``$...$``, dates, nested arrays), a key removed, an unknown or misspelt key added, an
  impossible distribution, duplicate ship names, a window end before its start or ten
  thousand years long, counts of ships in the millions;
- **byte-level**: the file truncated, bytes flipped or inserted, re-encoded (UTF-16, UTF-32,
  Latin-1, with and without a byte-order mark), deeply nested arrays appended;
- **evidence**: a cell of the evidence CSV replaced by a hostile value, a column removed or
  added, the file re-encoded or truncated.

A case passes when ``tankersim validate`` (and, for a valid ``minimal`` case, on one case in
six, ``tankersim run``) either succeeds or exits with status 2 and **one line** that names the
file; never a traceback, never a hang (each command has a 20 s alarm), and never a silent
default: a number replaced by a boolean or a numeric string, or an unknown key, must be
refused, naming the key path.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import math
import random
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

HOSTILE: tuple[Any, ...] = (
    True, False, "2", "1e3", "", " ", "nan", 0, -1, 1, 2**63 - 1, -(2**63), 10**9,
    1e308, -1e308, 1e-308, 5e-324, math.nan, math.inf, -math.inf, 0.0, -0.0, 0.5, 1.5,
    "x" * 30_000, "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
    "[a](javascript:alert(1))", "$\\frac{1}{0}$", "$x", "../../etc/passwd", "/tmp/abs",
    "C:\\\\x", "ünïcødé ☃", "a\nb", "\t", "\u202e", dt.date(1, 1, 1), dt.date(9999, 12, 31),
    dt.datetime(2024, 3, 7, 12, 0), [], [1, 2], ["a", "a"], {}, {"dist": "nope"},
    {"dist": "uniform", "low": 5.0, "high": 1.0}, {"dist": "triangular", "low": 1.0,
    "mode": 9.0, "high": 2.0}, {"dist": "lognormal", "median": -1.0, "sigma": 0.2},
    {"dist": "choice", "values": []}, {"dist": "truncnormal", "mean": 1.0, "sd": 0.0},
    [[[[[[[[]]]]]]]],
)  # fmt: skip
"""Values a careless or hostile hand might write anywhere."""

CELLS: tuple[str, ...] = (
    "", "-1", "nan", "inf", "1e400", "2024-02-30", "9999-99-99", "NOT A SHIP", "sighting",
    "visits", ">=", "<script>x</script>", "$a$", "0.5", "43", "1,000", "x" * 5000,
    "2023-01-01", "ATLANTIS", "loading",
)  # fmt: skip
"""Values for a cell of the evidence file."""

TYPOS = ("capacity_bbl_", "speeed_laden_kn", "Count", "berth", "unknown_key", "load_rate")


@dataclass
class Case:
    """One fuzz case: the files to write and what the commands must do."""

    index: int
    base: str
    kind: str
    files: dict[str, bytes]
    must_refuse_key: str | None = None
    """A dotted key the error must name (a silent default is a failure)."""
    runnable: bool = False


@dataclass
class Outcome:
    index: int
    kind: str
    status: str
    """``ok``, ``refused``, ``traceback``, ``hang``, ``bad-message`` or ``silent``."""
    detail: str = ""
    seconds: float = 0.0
    commands: list[str] = field(default_factory=list)


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    else:
        yield path, obj


def _tables(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict]]:
    if isinstance(obj, dict):
        yield path, obj
        for k, v in obj.items():
            yield from _tables(v, (*path, k))


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _dotted(path: tuple[Any, ...]) -> str | None:
    return None if any(isinstance(p, int) for p in path) else ".".join(map(str, path))


def _toml(raw: dict[str, Any]) -> bytes | None:
    try:
        return tomli_w.dumps(raw).encode("utf-8")
    except (TypeError, ValueError):  # e.g. a value tomli-w cannot write
        return None


def _structural(raw: dict[str, Any], rng: random.Random) -> tuple[str, dict, str | None]:
    """One structure-aware mutation; the key path the error must name, when one must."""
    raw = copy.deepcopy(raw)
    op = rng.choice(("replace", "replace", "replace", "delete", "unknown", "typo",
                     "dist", "dupes", "window", "ships"))  # fmt: skip
    leaves = [(p, v) for p, v in _leaves(raw) if p]
    if op in ("replace", "delete") and leaves:
        path, old = rng.choice(leaves)
        parent = _get(raw, path[:-1])
        if op == "delete":
            del parent[path[-1]]
            return f"delete {path}", raw, None
        new = rng.choice(HOSTILE)
        parent[path[-1]] = copy.deepcopy(new)
        key = _dotted(path)
        numeric = isinstance(old, int | float) and not isinstance(old, bool)
        wrong_type = isinstance(new, bool) or (isinstance(new, str) and new.strip() != "")
        must = key if numeric and wrong_type and key and path[0] != "sweep" else None
        return f"replace {path} with {short(new)}", raw, must
    if op in ("unknown", "typo"):
        tables = [(p, t) for p, t in _tables(raw) if not (p and p[0] in ("sources", "priors"))]
        tables = [
            (p, t)
            for p, t in tables
            if not (p and p[-1] in ("unknowns", "discharge", "fleet", "ports", "vary"))
        ]
        path, table = rng.choice(tables)
        name = rng.choice(TYPOS)
        if name in table:
            return "noop", raw, None
        table[name] = rng.choice((1, 1.5, "x", True))
        return f"add {(*path, name)}", raw, _dotted((*path, name))
    if op == "dist":
        dists = [(p, v) for p, v in _tables(raw) if "dist" in v]
        if dists:
            path, _ = rng.choice(dists)
            _get(raw, path[:-1])[path[-1]] = copy.deepcopy(
                rng.choice([h for h in HOSTILE if isinstance(h, dict)] + [{"dist": "fixed"}])
            )
            return f"distribution at {path}", raw, None
        return "noop", raw, None
    if op == "dupes":
        for cls in raw.get("fleet", {}).values():
            cls.pop("count", None)
            cls.pop("from_registry", None)
            cls["names"] = ["SAME", "SAME"] if rng.random() < 0.5 else ["X"] * 50_000
            return "duplicate names", raw, None
    if op == "window":
        w = raw.setdefault("window", {})
        if rng.random() < 0.5:
            w["start"], w["end"] = dt.date(2024, 5, 1), dt.date(2024, 4, 1)
        else:
            w["start"], w["end"] = dt.date(1, 1, 1), dt.date(9999, 1, 1)
        return f"window {w['start']}..{w['end']}", raw, "window"
    if op == "ships":
        for cls in raw.get("fleet", {}).values():
            cls.pop("names", None)
            cls.pop("from_registry", None)
            cls["count"] = rng.choice((0, -3, 10**6, 10**9, 10**18))
            return f"count {cls['count']}", raw, None
    return "noop", raw, None


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bytes(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One byte-level mutation of a file."""
    op = rng.choice(("truncate", "flip", "insert", "utf16", "utf16bom", "utf32", "latin1",
                     "bom8", "nest", "nul", "crlf"))  # fmt: skip
    text = data.decode("utf-8")
    if op == "truncate":
        at = rng.randrange(len(data))
        return f"truncate at {at}", data[:at]
    if op == "flip":
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return "flip bytes", bytes(b)
    if op == "insert":
        at = rng.randrange(len(data))
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        return "insert bytes", data[:at] + junk + data[at:]
    if op == "utf16":
        return "utf-16 without BOM", text.encode("utf-16-le")
    if op == "utf16bom":
        return "utf-16 with BOM", text.encode("utf-16")
    if op == "utf32":
        return "utf-32 with BOM", text.encode("utf-32")
    if op == "latin1":
        return "latin-1", text.replace('title = "', 'title = "Ä').encode("latin-1", "replace")
    if op == "bom8":
        return "utf-8 BOM", b"\xef\xbb\xbf" + data
    if op == "nest":
        depth = rng.choice((20, 500, 5000))
        return f"nesting {depth}", data + f"\nzz = {'[' * depth}{']' * depth}\n".encode()
    if op == "nul":
        at = rng.randrange(len(data))
        return "NUL byte", data[:at] + b"\x00" + data[at:]
    return "CRLF", data.replace(b"\n", b"\r\n")


def _evidence(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One mutation of an evidence CSV."""
    import csv

    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    op = rng.choice(("cell", "cell", "cell", "drop-column", "add-column", "bytes"))
    if op == "bytes":
        return _bytes(data, rng)
    if op == "drop-column":
        j = rng.randrange(len(rows[0]))
        rows = [r[:j] + r[j + 1 :] for r in rows]
        what = f"evidence without column {j}"
    elif op == "add-column":
        rows = [[*r, "x"] for r in rows]
        rows[0][-1] = rng.choice(("extra", "id", ""))
        what = "evidence with an extra column"
    else:
        i, j = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
        value = rng.choice(CELLS)
        rows[i][j] = value
        what = f"evidence cell ({i}, {rows[0][j] if j < len(rows[0]) else j}) = {short(value)}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return what, out.getvalue().encode("utf-8")


def make_case(index: int, seed: int = 0) -> Case:
    """Case ``index`` of the fuzz run with ``seed``: the same files every time."""
    import tomllib

    rng = random.Random(seed * 1_000_003 + index)
    base = "minimal.toml" if rng.random() < 0.6 else "osc-2024.toml"
    data = (SCENARIOS / base).read_bytes()
    files = {"scenario.toml": data}
    evidence = b""
    if base == "osc-2024.toml":
        evidence = (SCENARIOS / "osc-2024.evidence.csv").read_bytes()
        files["osc-2024.evidence.csv"] = evidence
    family = rng.random()
    if base == "osc-2024.toml" and family < 0.25:
        what, files["osc-2024.evidence.csv"] = _evidence(evidence, rng)
        return Case(index, base, what, files, runnable=True)  # evidence reaches every command
    if family < 0.55:
        what, files["scenario.toml"] = _bytes(data, rng)
        return Case(index, base, what, files)
    raw = tomllib.loads(data.decode("utf-8"))
    what, mutated, must = _structural(raw, rng)
    encoded = _toml(mutated)
    if encoded is None:
        what, files["scenario.toml"] = _bytes(data, rng)
        return Case(index, base, what, files)
    files["scenario.toml"] = encoded
    return Case(index, base, what, files, must_refuse_key=must, runnable=True)


class _Alarm(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Alarm


def run_case(
    case: Case,
    folder: Path,
    *,
    timeout_s: int = 20,
    run_share: float = 1 / 6,
    mc_share: float = 1 / 10,
    calibrate_share: float = 1 / 40,
) -> Outcome:
    """Write the case's files into ``folder`` and run the commands; judge the outcome."""
    from typer.testing import CliRunner

    from sim.cli import app

    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    path = folder / "scenario.toml"
    commands = [["validate", "--no-routes" if case.base != "minimal.toml" else "--routes",
                 str(path)]]  # fmt: skip
    pick = random.Random(case.index)
    draw = pick.random()
    if case.runnable:
        # Every command that reads a scenario, each on a share of the cases (the costly ones
        # on fewer): what validate accepts, the others must run or refuse in one line too.
        commands.append(["claims", str(path)])
        if draw < run_share:
            commands.append(
                ["run", str(path), "--no-map", "--no-tracks", "--out", str(folder / "o")]
            )
        serial = ["--executor", "serial", "--no-plots"]
        if pick.random() < mc_share:
            commands.append(["mc", str(path), "-n", "3", *serial, "--out", str(folder / "mc")])
        if pick.random() < mc_share:
            commands.append(
                ["sweep", str(path), "--vary", "claims.trips=40,43", "-n", "2", *serial,
                 "--out", str(folder / "sweep")]
            )  # fmt: skip
        if pick.random() < mc_share:
            commands.append(
                ["sensitivity", str(path), "--samples", "4", "-n", "1", *serial,
                 "--out", str(folder / "sens")]
            )  # fmt: skip
        has_evidence = any(n.endswith(".evidence.csv") for n in case.files)
        if has_evidence and pick.random() < mc_share:
            commands.append(["evidence", str(path)])
        if has_evidence and pick.random() < calibrate_share:
            commands.append(
                ["calibrate", str(path), "--population", "20", "--generations", "1", "-n", "1",
                 "--no-compare", *serial, "--out", str(folder / "cal")]
            )  # fmt: skip
    runner = CliRunner()
    out = Outcome(case.index, case.kind, "ok")
    t0 = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for k, args in enumerate(commands):
            out.commands.append(" ".join(args[:1]))
            r, status, detail = invoke(runner, app, args, timeout_s)
            if status is not None:
                return _done(out, status, detail, t0)
            if r.exit_code == 2:
                lines = [ln for ln in r.output.splitlines() if ln.strip()]
                errors = [ln for ln in lines if ln.startswith("tankersim: error: ")]
                if len(errors) != 1 or (k == 0 and len(lines) != 1):
                    return _done(out, "bad-message", f"{args[0]}: {r.output[:300]!r}", t0)
                named = any(str(folder / name) in errors[0] for name in case.files)
                if k == 0 and not named:
                    return _done(out, "bad-message", f"file not named: {errors[0][:200]}", t0)
                if k == 0 and case.must_refuse_key and case.must_refuse_key not in errors[0]:
                    return _done(
                        out, "bad-message", f"{case.must_refuse_key} not named: {errors[0]}", t0
                    )
                return _done(out, "refused", errors[0][:300], t0)
            if k == 0 and case.must_refuse_key:
                return _done(out, "silent", f"accepted: {case.kind}", t0)
        return _done(out, "ok", "", t0)
    finally:
        signal.signal(signal.SIGALRM, old)


def invoke(runner: Any, app: Any, args: list[str], timeout_s: int) -> tuple[Any, str | None, str]:
    """Run the command line ``args`` under an alarm of ``timeout_s``: ``(result, None, "")``
    when it exited 0 or 2 without a traceback, else ``(result, "hang" or "traceback",
    detail)``. The caller judges the message of an exit 2."""
    signal.alarm(timeout_s)
    try:
        r = runner.invoke(app, args)
    except _Alarm:
        return None, "hang", f"{args[0]} ran past {timeout_s} s"
    finally:
        signal.alarm(0)
    if isinstance(r.exception, _Alarm):
        return r, "hang", f"{args[0]} ran past {timeout_s} s"
    if r.exit_code not in (0, 2) or (
        r.exception is not None and not isinstance(r.exception, SystemExit)
    ):
        exc = r.exception
        return r, "traceback", f"{args[0]}: exit {r.exit_code}: {type(exc).__name__}: {exc}"[:300]
    return r, None, ""


def _done(out: Outcome, status: str, detail: str, t0: float) -> Outcome:
    out.status, out.detail, out.seconds = status, detail, time.perf_counter() - t0
    return out


DAMAGES = ("truncate", "empty", "{}", "[]", "null", "NaN", "delete", "cut", "flip")
"""What a damaged run folder's file went through: cut in half, emptied, replaced by a JSON
value, deleted, cut at a random byte (``cut``) or with random bytes changed (``flip``)."""


def damage(path: Path, how: str, rng: random.Random | None = None) -> None:
    """Damage one file of a run folder as ``how`` says (:data:`DAMAGES`)."""
    rng = rng or random.Random(0)
    data = path.read_bytes() if path.exists() else b""
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "cut":
        path.write_bytes(data[: rng.randrange(max(1, len(data)))])
    elif how == "flip":
        buf = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        path.write_bytes(bytes(buf))
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.write_text(how, encoding="utf-8")
