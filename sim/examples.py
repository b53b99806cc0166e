"""The example scenarios, evidence and docs, wherever tankersim is installed.

In a wheel they are package data (``sim/_examples/``, from the repository's ``scenarios/`` and
``docs/``); in a source checkout (an editable install) they are read from the checkout.
:func:`init` copies them into a folder of the user's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["examples_root", "init"]


def examples_root() -> Path:
    """The folder holding ``scenarios/`` and ``docs/``: the package's data when installed
    from a wheel, else the source checkout."""
    packaged = Path(__file__).with_name("_examples")
    if (packaged / "scenarios").is_dir():
        return packaged
    return Path(__file__).resolve().parents[1]


def init(folder: str | Path = "tankersim-examples", *, force: bool = False) -> list[Path]:
    """Copy the example scenarios (with their evidence files) and the docs into ``folder``.

    Existing files are kept unless ``force``; returns the files written. Raises
    :class:`sim.core.errors.OptionError` (``folder``) when a file there would be overwritten
    or the folder cannot be written.
    """
    from sim.core.errors import OptionError

    root = examples_root()
    dest = Path(folder)
    pairs: list[tuple[Path, Path]] = []
    for sub in ("scenarios", "docs"):
        src = root / sub
        if not src.is_dir():  # pragma: no cover - a broken installation
            raise OptionError("folder", str(root), f"no {sub}/ shipped with tankersim here")
        for f in sorted(src.rglob("*")):
            if f.is_file() and "report" not in f.relative_to(src).parts[:1]:
                pairs.append((f, dest / sub / f.relative_to(src)))
    try:
        clash = [d for _, d in pairs if d.exists()]
    except OSError as exc:  # a name too long, a loop of links
        raise OptionError("folder", str(dest), f"not a usable folder ({exc.strerror})") from None
    if clash and not force:
        raise OptionError("folder", str(dest), f"{clash[0]} exists (force overwrites)")
    written = []
    try:
        for src, dst in pairs:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            written.append(dst)
    except OSError as exc:
        raise OptionError("folder", str(dest), f"cannot write there ({exc.strerror})") from None
    return written
