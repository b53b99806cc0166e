"""Golden files: the CLI's verdict and summary files stay byte-identical across refactors.

The golden files in ``tests/golden`` were written by ``tests/golden/make_golden.py``; a change
that alters them must regenerate them on purpose (and say why).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))

from make_golden import CASES, FILES, ROOT, produce  # noqa: E402

VERSION_KEYS = ("tankersim_version", "versions")


def _without_versions(text: str) -> str:
    data = json.loads(text)
    if isinstance(data, dict):
        for key in VERSION_KEYS:
            data.pop(key, None)
    return json.dumps(data, indent=2)


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_files_are_identical(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    produce(case, tmp_path / "out")
    for name in FILES[case]:
        got = (tmp_path / "out" / name).read_text(encoding="utf-8")
        want = (GOLDEN / f"{case}.{name}").read_text(encoding="utf-8")
        if got != want:  # show where, then fail on the exact bytes
            assert _without_versions(got) == _without_versions(want), f"{case}/{name} differs"
        assert got == want, f"{case}/{name} differs in formatting"
