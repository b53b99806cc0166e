"""The vectorised batch engine: many replications at once, equal to the SimPy engine.

Between two dealings with a shared resource nothing can disturb a ship (the SimPy engine's
ship clock, :mod:`sim.model.des`), so a replication is a sequence of *requests* for berths and
lock chambers, each followed by a hold whose length the drawn inputs fix. Resources are served
first come first served, ties at one instant in ship order, so a request is granted at
``max(request time, the earliest time a unit of the resource is free)`` when requests are
taken in the order (time, ship index). This engine takes them in that order in lockstep across
a block of replications: each step serves, in every replication at once, its earliest pending
request (``argmin`` over ships, which picks the lowest index on ties), computes the hold, the
release and the ship's next request with the same floating-point operations as the SimPy
engine (including how SimPy's clock reaches a ship's clock, :func:`fire_times`), and records
loadings and discharges that end inside the window.

It consumes the same drawn inputs (:mod:`sim.model.draws`) and produces the same
:class:`sim.model.results.Visits`, so on the same seed the two engines give the same results;
an equivalence test over random scenarios checks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.core.defaults import MAX_VOYAGE_SLOTS
from sim.core.errors import TooLargeError
from sim.model.draws import Compiled, VoyageDraws, draw_ships, draw_voyages
from sim.model.results import BlockMeta, Visits

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

LOCK_OUT, BERTH_T, LOCK_IN, BERTH_P = 0, 1, 2, 3
FIRST_VOYAGES = 8
"""Voyages drawn up front for every ship; then :data:`MORE_VOYAGES` at a time for the
replications that need them (the numbers do not depend on either)."""
MORE_VOYAGES = 8
"""The requests of a voyage, in order."""


def unsupported(c: Compiled) -> str | None:
    """Why this engine cannot run a scenario (None: it can)."""
    return None


def fire_times(now: F64, t: F64) -> F64:
    """When SimPy's clock, at ``now``, reaches a ship clock at ``t >= now``.

    The SimPy engine schedules ``now + d`` with ``d = t - now`` (one unit in the last place
    later when rounding makes ``t`` unreachable from ``now``): the same arithmetic here.
    """
    d = t - now
    f = now + d
    short = f < t
    if short.any():
        idx = np.flatnonzero(short)
        d2 = np.nextafter(t[idx], np.inf) - now[idx]
        f2 = now[idx] + d2
        while (f2 < t[idx]).any():  # pragma: no cover - one step at most in practice
            low = f2 < t[idx]
            d2[low] = np.nextafter(d2[low], np.inf)
            f2 = now[idx] + d2
        f[idx] = f2
    return f


class _Voyages:
    """Voyage draws of a block, voyage-major (voyage, replication, ship), drawn a block of
    voyages at a time for the replications that need them."""

    FIELDS = tuple(n for n in VoyageDraws.__dataclass_fields__ if n != "voyages")

    def __init__(self, c: Compiled, seed: int, ships: Any, fixed: Mapping[str, F64] | None):
        self.c, self.seed, self.ships, self.fixed = c, seed, ships, fixed
        _check_slots(len(ships.replications), c.n_ships, FIRST_VOYAGES)
        first = draw_voyages(c, seed, ships, 0, FIRST_VOYAGES, fixed)
        self.vd = SimpleNamespace(
            **{
                name: np.ascontiguousarray(np.moveaxis(getattr(first, name), 2, 0))
                for name in self.FIELDS
            }
        )
        self.n = FIRST_VOYAGES
        self.drawn = np.full(len(ships.replications), FIRST_VOYAGES, dtype=np.int64)

    def ensure(self, k: I64, rows: I64, voyage: I64) -> None:
        """Draw more voyages for the replications ``rows`` whose ships need voyage ``k``
        (row-wise pairs). Each replication keeps its own count of drawn voyages; the
        others are not drawn for it, and never read. Replications whose busiest ship (by
        ``voyage``, every ship's current voyage) is within a voyage of the end are extended at
        the same time, so that extensions come in few, large draws."""
        need = k >= self.drawn[rows]
        while need.any():
            close = np.flatnonzero(voyage.max(axis=1) + 2 >= self.drawn)
            todo = np.union1d(np.unique(rows[need]), close)
            for v0 in np.unique(self.drawn[todo]):
                group = todo[self.drawn[todo] == v0]
                v1 = int(v0) + MORE_VOYAGES
                self._grow(v1)
                sub = self.ships.take(group)
                fixed = None if self.fixed is None else {n: v[group] for n, v in self.fixed.items()}
                more = draw_voyages(self.c, self.seed, sub, int(v0), v1, fixed)
                for name in self.FIELDS:
                    getattr(self.vd, name)[int(v0) : v1, group] = np.moveaxis(
                        getattr(more, name), 2, 0
                    )
                self.drawn[group] = v1
            need = k >= self.drawn[rows]

    def _grow(self, v1: int) -> None:
        if v1 <= self.n:
            return
        cap = max(v1, 2 * self.n)  # geometric growth: few copies, each contiguous
        rows, ships = getattr(self.vd, self.FIELDS[0]).shape[1:3]
        _check_slots(rows, ships, v1)
        cap = min(cap, max(v1, MAX_VOYAGE_SLOTS // max(rows * ships, 1)))
        for name in self.FIELDS:
            old = getattr(self.vd, name)
            new = np.empty((cap, *old.shape[1:]), dtype=old.dtype)  # never read past drawn
            new[: old.shape[0]] = old
            setattr(self.vd, name, new)
        self.n = cap


def _check_slots(rows: int, ships: int, voyages: int) -> None:
    """Refuse to hold more than :data:`MAX_VOYAGE_SLOTS` voyage draws at once."""
    if voyages * rows * ships > MAX_VOYAGE_SLOTS:
        raise TooLargeError(
            f"too large to simulate: {rows:,} replications x {ships:,} ships x {voyages:,} "
            f"voyages in one block is more than {MAX_VOYAGE_SLOTS:,} voyage draws held at "
            "once; use a smaller --block-size, a shorter window, fewer ships or fewer berths"
        )


def simulate_block(
    c: Compiled,
    seed: int,
    replications: Sequence[int] | I64,
    fixed: Mapping[str, F64] | None = None,
) -> tuple[Visits, BlockMeta]:
    """Run replications ``replications`` at once; return their visits and their meta data.

    ``fixed`` sets fleet-level values per replication instead of drawing them (calibration).
    """
    reps = np.asarray(replications, dtype=np.int64)
    sd = draw_ships(c, seed, reps, fixed)
    vs = _Voyages(c, seed, sd, fixed)
    sc = c.scenario
    R, S = len(reps), c.n_ships
    window = c.window_h
    P = len(c.port_ids)
    # Resources: 0 the terminal's berths, 1..P the ports' berths, then the ports' locks.
    caps = [sc.terminal.berths] + [sc.discharge[p].berths for p in c.port_ids]
    lock_res = np.full(P + 1, -1, dtype=np.int64)
    for j, pid in enumerate(c.port_ids, start=1):
        lock = sc.discharge[pid].lock
        if lock is not None:
            lock_res[j] = len(caps)
            caps.append(lock.chambers)
    C = max(caps)
    free = np.zeros((R, len(caps), C))
    for j, cap in enumerate(caps):
        free[:, j, cap:] = np.inf
    has_lock = lock_res >= 0
    rows = np.arange(R)

    # ---- every ship's first request
    RS = R * S
    pos = sd.start_place.copy()
    k = np.zeros((R, S), dtype=np.int64)
    t0 = np.where(sd.start_offset_h > 0, 0.0 + sd.start_offset_h, 0.0)
    first_lock = has_lock[pos]
    t_sail = (
        t0 + np.take_along_axis(sd.ballast_h, pos[:, :, None], axis=2)[:, :, 0]
    ) + vs.vd.terminal_anchorage_h[0]
    stage = np.where(first_lock, LOCK_OUT, BERTH_T).astype(np.int64)
    treq = fire_times(np.zeros((R, S)), np.where(first_lock, t0, t_sail))
    # Flat views: ship (r, i) is r * S + i; its voyage k is k * RS + r * S + i.
    pos_f, k_f, stage_f, treq_f = (
        pos.reshape(-1),
        k.reshape(-1),
        stage.reshape(-1),
        treq.reshape(-1),
    )
    laden_f, ballast_f = sd.laden_h.reshape(-1), sd.ballast_h.reshape(-1)
    free_f = free.reshape(-1)
    NRES = len(caps)
    units = np.arange(C)

    def col(name: str) -> F64:
        return getattr(vs.vd, name).reshape(-1)

    loads: list[tuple[I64, F64]] = []  # (flat voyage index, end time)
    dischs: list[tuple[I64, F64]] = []

    live = rows  # replications that may still have a request inside the window
    while True:
        sub = treq[live] if len(live) < R else treq
        i_live = sub.argmin(axis=1)
        t_live = sub[np.arange(len(live)), i_live]
        active = t_live < window
        if not active.any():
            break
        if not active.all():
            live, i_live, t_live = live[active], i_live[active], t_live[active]
        r, i, t = live, i_live, t_live
        ship = r * S + i
        st = stage_f[ship]
        kk = k_f[ship]
        vs.ensure(kk + 1, r, k)
        vi = kk * RS + ship  # this voyage of this ship
        p_k = col("port")[vi]
        ps = pos_f[ship]
        res = np.where(
            st == BERTH_T,
            0,
            np.where(st == BERTH_P, p_k, np.where(st == LOCK_OUT, lock_res[ps], lock_res[p_k])),
        )
        slot0 = (r * NRES + res) * C
        cand = free_f[slot0[:, None] + units]
        u = cand.argmin(axis=1)
        unit = slot0 + u
        g = np.maximum(t, free_f[unit])
        late = g >= window
        if late.any():  # granted after the window: nothing more happens to these ships
            free_f[unit[late]] = np.inf
            treq_f[ship[late]] = np.inf
            ok = ~late
            ship, g, st, vi, p_k, ps, unit = (a[ok] for a in (ship, g, st, vi, p_k, ps, unit))
        nxt_t = np.empty(len(ship))
        nxt_stage = np.empty(len(ship), dtype=np.int64)
        sync = np.empty(len(ship))

        # -- lock out of the current port, then sail in ballast and anchor off the terminal
        m = st == LOCK_OUT
        if m.any():
            sh, v, gm = ship[m], vi[m], g[m]
            tr = fire_times(gm, gm + col("lock_out_h")[v])
            free_f[unit[m]] = tr
            sail = tr + ballast_f[sh * (P + 1) + ps[m]]
            nxt_t[m] = sail + col("terminal_anchorage_h")[v]
            nxt_stage[m] = BERTH_T
            sync[m] = tr
        # -- the terminal's berth: moor, load, unmoor
        m = st == BERTH_T
        if m.any():
            sh, v, gm = ship[m], vi[m], g[m]
            tt = gm + col("terminal_pre_h")[v]
            tt = tt + col("load_h")[v]
            inside = tt < window
            loads.append((v[inside], tt[inside]))
            tt = tt + col("terminal_post_h")[v]
            tr = fire_times(gm, tt)
            free_f[unit[m]] = tr
            pk = p_k[m]
            sail = tr + laden_f[sh * (P + 1) + pk]
            lock_in = has_lock[pk]
            nxt_t[m] = np.where(lock_in, sail, sail + col("port_anchorage_h")[v])
            nxt_stage[m] = np.where(lock_in, LOCK_IN, BERTH_P)
            sync[m] = tr
        # -- lock in to the discharge port, then anchor
        m = st == LOCK_IN
        if m.any():
            v, gm = vi[m], g[m]
            tr = fire_times(gm, gm + col("lock_in_h")[v])
            free_f[unit[m]] = tr
            nxt_t[m] = tr + col("port_anchorage_h")[v]
            nxt_stage[m] = BERTH_P
            sync[m] = tr
        # -- the port's berth: moor, discharge, unmoor; then turnaround and the next voyage
        m = st == BERTH_P
        if m.any():
            sh, v, gm = ship[m], vi[m], g[m]
            pk = p_k[m]
            tt = gm + col("port_pre_h")[v]
            tt = tt + col("discharge_h")[v]
            inside = tt < window
            dischs.append((v[inside], tt[inside]))
            tt = tt + col("port_post_h")[v]
            tr = fire_times(gm, tt)
            free_f[unit[m]] = tr
            turned = tr + col("turnaround_h")[v]
            k1 = k_f[sh] + 1
            k_f[sh] = k1
            pos_f[sh] = pk
            vs.ensure(k1, sh // S, k)
            sail = (turned + ballast_f[sh * (P + 1) + pk]) + col("terminal_anchorage_h")[
                k1 * RS + sh
            ]
            lock_out = has_lock[pk]
            nxt_t[m] = np.where(lock_out, turned, sail)
            nxt_stage[m] = np.where(lock_out, LOCK_OUT, BERTH_T)
            sync[m] = tr
        stage_f[ship] = nxt_stage
        treq_f[ship] = fire_times(sync, nxt_t)

    def gather(pairs: list[tuple[I64, F64]]) -> tuple[I64, F64]:
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])

    lv, lt = gather(loads)
    dv, dt = gather(dischs)
    visits = Visits(
        load_rep=(lv % RS) // S,
        load_t=lt,
        load_ship=lv % S,
        load_voyage=lv // RS,
        load_cargo=col("cargo_bbl")[lv],
        load_product=col("product")[lv].astype(np.int64),
        load_seen=col("seen")[lv].astype(bool),
        load_capacity=col("capacity_bbl")[lv],
        dis_rep=(dv % RS) // S,
        dis_t=dt,
        dis_ship=dv % S,
        dis_voyage=dv // RS,
        dis_cargo=col("cargo_bbl")[dv],
        dis_product=col("product")[dv].astype(np.int64),
        dis_port=col("port")[dv].astype(np.int64),
    )
    meta = BlockMeta(reps, sd.p_detect, sd.parameters(c))
    return visits, meta
