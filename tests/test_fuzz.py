"""The fuzz suite: 2,000 mutated scenario and evidence files through the real command line.

See :mod:`tests.fuzzing` for the mutations and what a case must do. The case count and the
outcomes are printed (``pytest -s`` shows them; ``-rA`` lists them in the summary). The long
run (100,000 cases) is ``python tools/fuzz.py --cases 100000``; its figures are in
docs/reliability.md.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from tests.fuzzing import make_case, run_case

CASES = 2_000
CHUNKS = 8


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzz_cases_run_or_exit_2_with_one_line(
    chunk: int, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    per = CASES // CHUNKS
    counts, commands, failures = _cases(range(chunk * per, (chunk + 1) * per), tmp_path)
    print(f"fuzz cases {chunk * per}-{(chunk + 1) * per - 1}: {dict(counts)}")
    print(f"  commands run: {dict(commands)}")
    total = getattr(pytestconfig, "tankersim_fuzz", {})
    for status, k in counts.items():
        total[status] = total.get(status, 0) + k
    pytestconfig.tankersim_fuzz = total  # type: ignore[attr-defined]
    assert sum(counts.values()) == per
    assert failures == [], "\n".join(failures[:20])
    assert counts["refused"] > per // 3 and counts["ok"] > per // 10  # the mix is sane


def _cases(
    indices: range, tmp_path: Path, **shares: float
) -> tuple[collections.Counter[str], collections.Counter[str], list[str]]:
    counts: collections.Counter[str] = collections.Counter()
    commands: collections.Counter[str] = collections.Counter()
    failures = []
    for i in indices:
        case = make_case(i)
        folder = tmp_path / f"c{i}"
        folder.mkdir()
        outcome = run_case(case, folder, **shares)
        counts[outcome.status] += 1
        commands.update(outcome.commands)
        if outcome.status not in ("ok", "refused"):
            failures.append(f"case {i} ({case.kind}): {outcome.status}: {outcome.detail}")
    return counts, commands, failures


def test_a_fuzz_sample_runs_every_command(tmp_path: Path) -> None:
    """A sample of the fuzz cases in the fast suite: validate, claims, run, mc, sweep,
    sensitivity, evidence and calibrate all driven by mutated files, none with a traceback or
    a silent acceptance."""
    counts, commands, failures = _cases(
        range(0, 400, 5), tmp_path, run_share=0.5, mc_share=1.0, calibrate_share=0.5
    )
    print(f"fuzz sample: {dict(counts)}; commands run: {dict(commands)}")
    assert failures == [], "\n".join(failures[:20])
    every = {"validate", "claims", "run", "mc", "sweep", "sensitivity", "evidence", "calibrate"}
    assert every <= set(commands)


def test_fuzz_cases_are_reproducible() -> None:
    a, b = make_case(123, seed=7), make_case(123, seed=7)
    assert a.files == b.files and a.kind == b.kind
    assert make_case(124, seed=7).files != a.files


def test_fuzzer_catches_a_silent_default(tmp_path: Path) -> None:
    """The judge is not blind: a case that must be refused but is accepted fails it."""
    case = make_case(0)
    case.files = {"scenario.toml": (Path(__file__).parents[1] / "scenarios/minimal.toml")
                  .read_bytes()}  # fmt: skip
    case.base, case.must_refuse_key = "minimal.toml", "fleet.tanker.count"
    outcome = run_case(case, tmp_path)
    assert outcome.status == "silent"


def _arg_cases(
    indices: range, tmp_path: Path
) -> tuple[collections.Counter[tuple[str, str]], list[str]]:
    from tests.fuzz_args import make_arg_case, run_arg_case

    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    failures = []
    cache = tmp_path / "cache"
    cache.mkdir()
    for i in indices:
        case = make_arg_case(i)
        folder = tmp_path / f"a{i}"
        folder.mkdir()
        outcome = run_arg_case(case, folder, cache)
        counts[(case.command, outcome.status)] += 1
        if outcome.status not in ("ok", "refused"):
            shown = [a[:40] for a in case.args]
            failures.append(f"case {i} {case.command} {shown}: {outcome.status}: {outcome.detail}")
    return counts, failures


def test_an_argument_fuzz_sample_drives_route_routes_map_and_init(tmp_path: Path) -> None:
    """Hostile arguments to the commands a scenario mutation does not reach: each runs or
    refuses in one line (tests/fuzz_args.py)."""
    counts, failures = _arg_cases(range(32), tmp_path)
    print(f"argument fuzz sample: {dict(counts)}")
    assert failures == [], "\n".join(failures[:20])
    for command in ("route", "routes", "map", "init"):
        assert counts[(command, "ok")] + counts[(command, "refused")] == 8, command
    assert all(counts[(c, "refused")] > 0 for c in ("route", "map", "init")), counts


@pytest.mark.slow
def test_argument_fuzz(tmp_path: Path) -> None:
    counts, failures = _arg_cases(range(32, 432), tmp_path)
    print(f"argument fuzz cases 32-431: {dict(counts)}")
    assert failures == [], "\n".join(failures[:20])
