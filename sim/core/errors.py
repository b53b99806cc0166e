"""Typed errors of the library.

Every error tankersim raises on bad input is a :class:`TankersimError` whose ``str()`` is one
line saying what is wrong in the library's own terms (a scenario key, a function parameter).
The command line maps them to its flags and exits with status 2; the library never names a
command-line flag.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


class TankersimError(Exception):
    """Base class of the errors tankersim raises on bad input or unusable state."""


def one_line(text: str, limit: int = 400) -> str:
    """Text on one line: control characters (newlines, tabs, bidirectional overrides...)
    shown as escapes, at most ``limit`` characters.

    >>> one_line("a\\nb\\tc")
    'a\\\\nb\\\\tc'
    """
    out = "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )
    return out if len(out) <= limit else out[: limit - 3] + "..."


def short_repr(value: Any, limit: int = 80) -> str:
    """A one-line, bounded representation of a value for error messages."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        try:
            text = json.dumps(value, default=str, sort_keys=True)
        except (TypeError, ValueError):  # pragma: no cover - exotic values
            text = repr(value)
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ScenarioError(TankersimError, ValueError):
    """A scenario (or evidence) file that cannot be used.

    ``str()`` is one line naming the file, the dotted key path and the offending value.
    """

    def __init__(self, file: str, key: str, value: Any, reason: str) -> None:
        self.file, self.key, self.value, self.reason = file, key, value, reason
        shown = "<missing>" if value is None else short_repr(value)
        where = f"{one_line(file)}: " if file else ""
        key, reason = one_line(key, 200), one_line(reason)
        if not key and value is None:  # about the file as a whole
            super().__init__(f"{where}{reason}")
        else:
            super().__init__(f"{where}{key or '<top level>'} = {shown}: {reason}")


class TooLargeError(TankersimError, ValueError):
    """A scenario too large to simulate within tankersim's memory bounds
    (:data:`sim.core.defaults.MAX_RUN_EVENTS`, :data:`~sim.core.defaults.MAX_VOYAGE_SLOTS`);
    ``str()`` is one line saying what to make smaller."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class OptionError(TankersimError, ValueError):
    """A bad argument of a library function: ``option`` is the parameter's name.

    The command line shows it under its own flag (see ``sim.cli.FLAGS``).
    """

    def __init__(self, option: str, value: Any, reason: str) -> None:
        self.option, self.value, self.reason = option, value, reason
        super().__init__(f"{option} = {short_repr(value)}: {one_line(reason)}")


class ResultsExistError(OptionError):
    """An output folder already holds results, and the call did not ask to resume."""

    def __init__(self, folder: str) -> None:
        super().__init__("out", folder, "holds results already: resume, or use another folder")


class ResultsMismatchError(OptionError):
    """Resuming into a folder whose results belong to another batch."""

    def __init__(self, folder: str, detail: str = "") -> None:
        reason = "results there come from another scenario, seed or design; use another folder"
        super().__init__("out", folder, reason + (f" ({detail})" if detail else ""))


class FolderBusyError(OptionError):
    """Another process holds an output folder's lock (:mod:`sim.core.lock`)."""

    def __init__(self, folder: str, holder: str, *, writing: bool = True) -> None:
        self.holder = holder
        if writing:
            reason = f"{holder} is writing there; wait for it to finish, or use another folder"
        else:
            reason = f"{holder} is writing there; wait for it to finish before reading it"
        super().__init__("out" if writing else "run_dir", folder, reason)


class MissingExtraError(TankersimError, ImportError):
    """An optional dependency is not installed; names the extra that brings it."""

    def __init__(self, module: str, extra: str, what: str) -> None:
        self.module, self.extra = module, extra
        super().__init__(
            f"{what} needs the optional package {module!r}: pip install 'tankersim[{extra}]'"
        )


class EngineFallbackWarning(UserWarning):
    """A batch asked for the fast engine on a scenario it does not support: the batch runs on
    the SimPy engine instead (same results, slower). The message names the feature."""
