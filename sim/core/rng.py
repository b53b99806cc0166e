"""Counter-based random numbers: every uniform is a pure function of where it is used.

A uniform number is addressed by ``(seed, replication, level, entity, voyage, slot)``:

* ``level`` says at what level the input is drawn (:data:`LEVELS`: once per replication for the
  whole fleet or a class, once per ship, or once per voyage);
* ``entity`` is a stable 32-bit key of what draws it: 0 for the fleet, the CRC-32 of a class
  id, a ship id or an unknown's name (:func:`entity_key`);
* ``voyage`` is the ship's voyage number (0 below the voyage level);
* ``slot`` is the input's fixed slot (:data:`SLOTS`): a new input takes a new slot and leaves
  the others' numbers alone.

The numbers come from Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers:
as easy as 1, 2, 3", SC11, 2011; the generator of the Random123 library), vectorised with
numpy: the key is the 64-bit seed, the 128-bit counter packs the address. So a whole block of
replications, ships and voyages is drawn in a few array operations, and the promises hold by
construction: replication ``r`` is the same alone or in a batch, adding a ship or an input
leaves every other number unchanged, sweep points see the same numbers (common random
numbers), and the number of workers changes nothing.

:data:`STREAM_VERSION` names this scheme in every manifest; it changes whenever the mapping
from addresses to numbers does.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

STREAM_VERSION = "philox4x32-10/v2"
"""The random-number scheme; recorded in manifests and batch identities."""

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)

LEVELS: tuple[str, ...] = ("fleet", "class", "ship", "voyage", "unknown")
"""Levels at which a number is drawn, in code order."""
LEVEL_CODE = {name: i + 1 for i, name in enumerate(LEVELS)}

SLOTS: tuple[str, ...] = (
    # per ship (or wider)
    "capacity",
    "speed_laden",
    "speed_ballast",
    "start_offset",
    "home_port",
    # per voyage (or wider)
    "load_factor",
    "product",
    "discharge_port",
    "turnaround",
    "terminal_anchorage",
    "terminal_pre",
    "terminal_rate",
    "terminal_post",
    "port_anchorage",
    "port_pre",
    "port_rate",
    "port_post",
    "lock_in",
    "lock_out",
    "detect",
    # replication-wide
    "p_detect",
    "value",
    # per ship (appended: the slots above keep their numbers)
    "turnaround_factor",
)
"""Fixed slots of the inputs (append only: a slot's number never changes)."""
SLOT = {name: i for i, name in enumerate(SLOTS)}


def philox4x32(counter: Any, key: tuple[int, int]) -> list[NDArray[np.uint64]]:
    """Philox4x32-10 of arrays of 128-bit counters (four uint32 words) under a 64-bit key.

    Returns the four output words, each an array of the counters' shape (uint64 holding
    32-bit values).

    >>> zero = np.zeros(4, dtype=np.uint32)
    >>> [hex(int(w)) for w in philox4x32(zero, (0, 0))]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    words = [np.array(w, dtype=np.uint64) for w in np.broadcast_arrays(*counter)]
    shape = words[0].shape
    flat = [w.reshape(-1) for w in words]
    n = flat[0].size
    p0 = np.empty(min(n, _CHUNK), dtype=np.uint64)
    p1 = np.empty_like(p0)
    for lo in range(0, n, _CHUNK):  # in cache-sized chunks, in place
        hi = min(n, lo + _CHUNK)
        c0, c1, c2, c3 = (w[lo:hi] for w in flat)
        _rounds(c0, c1, c2, c3, p0[: hi - lo], p1[: hi - lo], key)
    c0, c1, c2, c3 = (w.reshape(shape) for w in flat)
    return [c0, c1, c2, c3]


_CHUNK = 1 << 15


def _rounds(
    c0: NDArray[np.uint64],
    c1: NDArray[np.uint64],
    c2: NDArray[np.uint64],
    c3: NDArray[np.uint64],
    p0: NDArray[np.uint64],
    p1: NDArray[np.uint64],
    key: tuple[int, int],
) -> None:
    """Ten Philox rounds on counter words ``c0..c3``, in place (``p0``, ``p1``: scratch)."""
    k0, k1 = key[0] & 0xFFFFFFFF, key[1] & 0xFFFFFFFF
    for r in range(10):
        if r:
            k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
        np.multiply(c0, _M0, out=p0)
        np.multiply(c2, _M1, out=p1)
        # new c0 = hi(p1) ^ c1 ^ k0, c1 = lo(p1), c2 = hi(p0) ^ c3 ^ k1, c3 = lo(p0)
        np.right_shift(p1, _SHIFT, out=c0)
        np.bitwise_xor(c0, c1, out=c0)
        np.bitwise_xor(c0, np.uint64(k0), out=c0)
        np.bitwise_and(p1, _MASK, out=c1)
        np.right_shift(p0, _SHIFT, out=c2)
        np.bitwise_xor(c2, c3, out=c2)
        np.bitwise_xor(c2, np.uint64(k1), out=c2)
        np.bitwise_and(p0, _MASK, out=c3)


def entity_key(name: str) -> int:
    """A stable 32-bit key for an entity id (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def _seed_key(seed: int) -> tuple[int, int]:
    s = int(seed) & 0xFFFFFFFFFFFFFFFF
    return s & 0xFFFFFFFF, s >> 32


def uniform_slots(
    seed: int,
    replication: NDArray[np.integer] | int,
    level: str,
    entity: NDArray[np.integer] | int,
    voyage: NDArray[np.integer] | int,
    slots: tuple[str, ...] | list[str],
) -> dict[str, NDArray[np.float64]]:
    """:func:`uniforms` for several slots at once, computing each Philox block once."""
    blocks = sorted({SLOT[s] // 4 for s in slots})
    r, e, v = np.broadcast_arrays(
        np.asarray(replication, dtype=np.uint64),
        np.asarray(entity, dtype=np.uint64),
        np.asarray(voyage, dtype=np.uint64),
    )
    shape = r.shape
    n = len(blocks)
    c3 = (np.uint64(LEVEL_CODE[level] << 24) | np.asarray(blocks, dtype=np.uint64)).reshape(
        (n,) + (1,) * len(shape)
    )
    c0 = np.broadcast_to(r & _MASK, (n, *shape))
    c1 = np.broadcast_to(e & _MASK, (n, *shape))
    c2 = np.broadcast_to(v & _MASK, (n, *shape))
    words = philox4x32((c0, c1, c2, np.broadcast_to(c3, (n, *shape))), _seed_key(seed))
    out = {}
    for s in slots:
        b = blocks.index(SLOT[s] // 4)
        out[s] = (words[SLOT[s] % 4][b] + 0.5) * (1.0 / 4294967296.0)
    return out


def uniforms(
    seed: int,
    replication: NDArray[np.integer] | int,
    level: str,
    entity: NDArray[np.integer] | int,
    voyage: NDArray[np.integer] | int,
    slot: str,
) -> NDArray[np.float64]:
    """Uniform numbers in (0, 1) at the given addresses (arguments broadcast together).

    Each number uses one 32-bit word of a Philox block; the four words of a block serve four
    consecutive slots, so the slot's block and word are fixed by its index.

    >>> a = uniforms(7, np.arange(3), "voyage", 11, np.arange(2)[:, None], "turnaround")
    >>> a.shape, bool(((a > 0) & (a < 1)).all())
    ((2, 3), True)
    >>> float(uniforms(7, 2, "voyage", 11, 1, "turnaround")) == float(a[1, 2])
    True
    """
    s = SLOT[slot]
    r, e, v = np.broadcast_arrays(
        np.asarray(replication, dtype=np.uint64),
        np.asarray(entity, dtype=np.uint64),
        np.asarray(voyage, dtype=np.uint64),
    )
    c3 = np.full(r.shape, (LEVEL_CODE[level] << 24) | (s // 4), dtype=np.uint64)
    words = philox4x32((r & _MASK, e & _MASK, v & _MASK, c3), _seed_key(seed))
    return np.asarray((words[s % 4] + 0.5) * (1.0 / 4294967296.0), dtype=np.float64)
