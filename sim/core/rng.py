"""Random streams addressed by (seed, replication, stream, entity).

Every source of randomness has its own stream, so that replications are independent, any
replication can be re-run alone, and sweep points share random numbers (common random
numbers). Ships are addressed by a stable hash of their id, not by position, so adding or
removing a ship does not shift the other ships' draws.

Each ship gets two generators per replication:

* ``SHIP`` draws one row of :data:`SHIP_COLUMNS` uniforms (per-ship inputs);
* ``VOYAGE`` draws rows of :data:`VOYAGE_COLUMNS` uniforms, one row per voyage, in blocks.

Columns are fixed slots: a new input takes a new slot and leaves the others' numbers alone.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAM_SHIP = 1
STREAM_VOYAGE = 2

SHIP_COLUMNS: tuple[str, ...] = (
    "capacity",
    "speed_laden",
    "speed_ballast",
    "start_offset",
    "home_port",
    "spare5",
    "spare6",
    "spare7",
)
VOYAGE_COLUMNS: tuple[str, ...] = (
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
    "spare15",
)
SHIP_COL = {name: i for i, name in enumerate(SHIP_COLUMNS)}
VOYAGE_COL = {name: i for i, name in enumerate(VOYAGE_COLUMNS)}
VOYAGE_BLOCK = 8
"""Voyages drawn at a time per ship (rows of the voyage matrix)."""


def entity_key(name: str) -> int:
    """A stable 32-bit key for an entity id (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def generator(seed: int, replication: int, stream: int, entity: int = 0) -> np.random.Generator:
    """The generator for one stream of one entity in one replication."""
    ss = np.random.SeedSequence(seed, spawn_key=(replication, stream, entity))
    return np.random.Generator(np.random.PCG64(ss))


class ShipStreams:
    """Uniform numbers for one ship in one replication."""

    __slots__ = ("_voyage_gen", "ship_u", "voyage_u")

    def __init__(self, seed: int, replication: int, ship_id: str) -> None:
        key = entity_key(ship_id)
        self.ship_u = generator(seed, replication, STREAM_SHIP, key).random(len(SHIP_COLUMNS))
        self._voyage_gen = generator(seed, replication, STREAM_VOYAGE, key)
        self.voyage_u = self._voyage_gen.random((VOYAGE_BLOCK, len(VOYAGE_COLUMNS)))

    def extend(self) -> np.ndarray:
        """Draw the next block of voyage rows; return only the new rows."""
        block = self._voyage_gen.random((VOYAGE_BLOCK, len(VOYAGE_COLUMNS)))
        self.voyage_u = np.vstack([self.voyage_u, block])
        return block
