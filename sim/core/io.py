"""Reading text files and writing files safely: one place for both.

:func:`decode_text` turns a file's bytes into text (UTF-8, or the encoding a byte-order mark
names), with a one-line :class:`~sim.core.errors.ScenarioError` otherwise; scenario and
evidence files both use it. :func:`atomic_path` and :func:`atomic_write_text` write through a
temporary file in the target's folder and a rename, so a reader (or a resumed run) never sees
half a file; the temporary name is ``.<name>.<pid>.tmp``. :func:`save_checked_npz` and
:func:`load_checked_npz` keep the route graphs' disk caches: ``.npz`` without pickles, written
atomically, with a SHA-256 of their arrays checked on reading.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.core.errors import ScenarioError

__all__ = [
    "BOMS",
    "arrays_checksum",
    "atomic_path",
    "atomic_write_text",
    "decode_text",
    "load_checked_npz",
    "save_checked_npz",
]

BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
"""Byte-order marks and the encodings they name (UTF-32 before UTF-16: they share a prefix)."""


def decode_text(data: bytes, file: str) -> str:
    """A file's bytes as text: decoded as its byte-order mark says, else as UTF-8; anything
    else is one line naming ``file``.

    >>> decode_text("été".encode("utf-16"), "f")
    'été'
    >>> decode_text(b"\\xc4x", "f")
    Traceback (most recent call last):
    ...
    sim.core.errors.ScenarioError: f: not UTF-8 (byte 0xc4 at offset 0): save it as UTF-8
    """
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                reason = f"not valid {encoding} after its byte-order mark: {exc.reason}"
                raise ScenarioError(file, "", None, reason) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            file,
            "",
            None,
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}): save it as UTF-8",
        ) from None


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write to; renamed to ``path`` when the block
    ends without an error (removed otherwise), so a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        code = exc.errno or _errno_in(str(exc))
        if exc.filename is None and code is not None:  # written through a handle (pandas,
            # pyarrow): name the file the user will look for
            raise OSError(code, os.strerror(code), str(path)) from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)


def _errno_in(message: str) -> int | None:
    """The error number in a message such as Arrow's "... [errno 28] No space left ..."."""
    import re

    m = re.search(r"\[errno (\d+)\]", message, re.IGNORECASE)
    return int(m.group(1)) if m else None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def arrays_checksum(arrays: Mapping[str, Any], names: Sequence[str]) -> str:
    """SHA-256 of the named arrays (dtype, shape and bytes of each, in order), so that a
    damaged or edited cache file is rebuilt rather than trusted. Not a signature: anyone who
    can write the cache folder can write a matching checksum."""
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for name in names:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_checked_npz(
    path: Path, arrays: Mapping[str, Any], names: Sequence[str], *, compressed: bool = False
) -> None:
    """Write ``arrays`` as ``.npz`` (no pickles) with a ``checksum`` entry over ``names``,
    atomically (:func:`atomic_path`); the folder is created when missing."""
    import numpy as np

    out = dict(arrays)
    out["checksum"] = np.array(arrays_checksum(out, names))
    path.parent.mkdir(parents=True, exist_ok=True)
    save = np.savez_compressed if compressed else np.savez
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        save(fh, allow_pickle=False, **out)


def load_checked_npz(
    path: Path, names: Sequence[str], *, expect: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The arrays of a ``.npz`` written by :func:`save_checked_npz`, or None when an entry of
    ``expect`` differs (another cache key or format) or the checksum does not match (a
    warning says so). Raises what numpy raises on a file that is not an ``.npz``."""
    import logging

    import numpy as np

    # Open the file here so that it is closed even when numpy rejects it.
    with path.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        for name, value in (expect or {}).items():
            if name not in npz.files or npz[name].item() != value:
                return None
        arrays = {name: npz[name] for name in npz.files}
    if "checksum" not in arrays or str(arrays["checksum"]) != arrays_checksum(arrays, names):
        logging.getLogger(__name__).warning(
            "cache %s does not match its checksum: rebuilding it", path
        )
        return None
    return arrays


def cpu_model() -> str:
    """This machine's CPU model (``/proc/cpuinfo``), for the records of measured runs."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
