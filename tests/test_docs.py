"""Every command shown in the README and docs runs, and prints what the docs say it prints."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(console|python)\n(.*?)```", re.S)


def _blocks(kind: str) -> list[tuple[str, str]]:
    out = []
    for path in DOCS:
        for lang, body in BLOCK.findall(path.read_text(encoding="utf-8")):
            if lang == kind:
                out.append((path.name, body))
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like a checkout: scenarios/, plus the README's bad.toml example."""
    wd = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "scenarios", wd / "scenarios")
    text = (ROOT / "scenarios" / "osc-2024.toml").read_text(encoding="utf-8")
    head, tail = text.split("[fleet.unnamed]")
    tail = re.sub(r"capacity_dwt = [^\n]*", "capacity_dwt = -1.0", tail, count=1)
    bad = head + "[fleet.unnamed]" + tail
    assert bad != text
    (wd / "bad.toml").write_text(bad, encoding="utf-8")
    shutil.copy(ROOT / "scenarios" / "osc-2024.evidence.csv", wd / "osc-2024.evidence.csv")
    return wd


CONSOLE = _blocks("console")


@pytest.mark.parametrize(
    ("doc", "block"), CONSOLE, ids=[f"{d}:{i}" for i, (d, _) in enumerate(CONSOLE)]
)
def test_console_blocks_run(doc: str, block: str, workdir: Path) -> None:
    lines = block.strip("\n").splitlines()
    i = 0
    while i < len(lines):
        assert lines[i].startswith("$ "), f"{doc}: expected a command, got {lines[i]!r}"
        cmd = shlex.split(lines[i][2:])
        expected = []
        i += 1
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        assert cmd[0] == "tankersim", cmd
        exe = Path(sys.executable).with_name("tankersim")
        env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
        res = subprocess.run(
            [str(exe), *cmd[1:]], cwd=workdir, capture_output=True, text=True, env=env, timeout=600
        )
        output = res.stdout + res.stderr
        want_error = any(e.startswith("tankersim: error:") for e in expected)
        assert (res.returncode == 2) if want_error else (res.returncode == 0), output
        for e in expected:
            assert e in output, f"{doc}: {e!r} not in output of {cmd}:\n{output}"


PYTHON = _blocks("python")


def _python_params() -> list[object]:
    """A block that calibrates (tens of seconds) runs with the slow tests (`make test-slow`)."""
    return [
        pytest.param(d, b, id=f"{d}:{i}", marks=[pytest.mark.slow] if "calibrate(" in b else [])
        for i, (d, b) in enumerate(PYTHON)
    ]


@pytest.mark.parametrize(("doc", "block"), _python_params())
def test_python_blocks_run(doc: str, block: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(block, f"<{doc}>", "exec"), namespace)


# --------------------------------------------------------------------------- numbers blocks


def _answer_numbers() -> object:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import answer_numbers
    finally:
        sys.path.pop(0)
    return answer_numbers


def test_numbers_blocks_are_written_from_the_snapshot() -> None:
    """Every number the README and docs quote about the answer sits in a block that
    tools/answer_numbers.py writes from docs/results/answer.json (a snapshot of runs, with
    their commands): rendered again, every block reads exactly as committed."""
    import json

    an = _answer_numbers()
    data = json.loads(an.SNAPSHOT.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    seen = set()
    for rel in an.DOCS:  # type: ignore[attr-defined]
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert an.render(text, data) == text, f"{rel}: run `make numbers` (or --render)"  # type: ignore[attr-defined]
        seen |= {m.group("name") for m in an.BLOCK.finditer(text)}  # type: ignore[attr-defined]
    assert seen == set(an.RENDERERS), set(an.RENDERERS) ^ seen  # type: ignore[attr-defined]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.index("<!-- numbers: readme-answer") < readme.index("## Installed as a package")
    # every command behind the numbers is recorded with the snapshot
    assert set(data["generated"]["commands"]) >= {"calibrate", "robustness", "mc", "priors"}


def test_the_snapshot_knows_the_registry_sizes() -> None:
    """The size prior quoted in the docs is what the registry gives now."""
    import json

    from sim.analysis.size_prior import known_ships_prior
    from sim.core.config import load_scenario

    an = _answer_numbers()
    data = json.loads(an.SNAPSHOT.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    now = known_ships_prior(load_scenario(ROOT / "scenarios" / "osc-2024.toml")).to_dict()
    assert data["size_prior"] == json.loads(json.dumps(now))
