"""The SimPy model of the tanker shuttle (the discrete-event reference engine).

Each ship cycles: (lock out) -> sail in ballast to the terminal -> anchor -> take a berth ->
moor -> load -> unmoor -> give the berth back -> sail laden to a discharge port -> (lock in) ->
anchor -> take a berth -> moor -> discharge -> unmoor -> give the berth back -> turnaround
(idle) -> repeat. Berths and lock chambers are shared :class:`simpy.Resource` objects,
served first come first served. The clock starts at the window start (``t_h = 0``) and stops
at its end; work under way then is left open in the event log.

All random inputs are drawn before the clock runs (:mod:`sim.model.draws`). Between two
dealings with a shared resource a ship's activities cannot be disturbed, so each ship keeps
its own clock (:class:`_Ship`): activities advance it and log their start and end at their own
times, and the ship meets SimPy's clock only when it asks for or gives back a berth or a lock
chamber. The log is sorted by time at the end and cut at the window's end.

Ties: when several ships deal with resources at the same instant, they do so in the order of
their index in the fleet (their wake-ups carry the index as SimPy priority), so a resource is
granted in the order (time of request, ship index). The vectorised engine follows the same
rule.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, Literal

import simpy
from simpy.events import Event

from sim.core.defaults import MAX_RUN_EVENTS
from sim.core.errors import TooLargeError
from sim.core.units import HOURS_PER_DAY
from sim.model.draws import Compiled, Plan, ShipPlan, plan_ships
from sim.model.events import (
    ANCHOR_END,
    ANCHOR_START,
    DISCHARGE_END,
    DISCHARGE_START,
    IDLE_END,
    IDLE_START,
    LOAD_END,
    LOAD_START,
    LOCK_END,
    LOCK_START,
    MOOR_END,
    MOOR_START,
    RELEASE,
    SAIL_END,
    SAIL_START,
    SEIZE,
    UNMOOR_END,
    UNMOOR_START,
    VISIT_SEEN,
    WAIT_END,
    WAIT_START,
    Record,
    Replication,
)

Steps = Generator[Event, Any, Any]


class _Wake(Event):
    """A timeout carrying a priority: ships waking at the same instant wake in index order."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int) -> None:
        self.env = env
        self.callbacks = []
        self._value = None
        self._ok = True
        env.schedule(self, priority, delay)  # type: ignore[arg-type]


def _delay_to(now: float, t: float) -> float:
    """A delay ``d`` with ``now + d >= t`` in floating point (``t >= now``).

    Almost always ``now + d == t`` exactly; when rounding makes ``t`` unreachable from
    ``now``, the ship wakes one unit in the last place late.
    """
    d = t - now
    if now + d >= t:
        return d
    d = math.nextafter(t, math.inf) - now
    while now + d < t:  # pragma: no cover - one step at most in practice
        d = math.nextafter(d, math.inf)
    return d


class _Ship:
    """One ship's clock and log: its sub-steps, as methods.

    ``t`` runs ahead of SimPy's clock while the ship does things nobody can disturb;
    :meth:`catch_up` makes SimPy wait until then, before any dealing with a shared resource.
    """

    __slots__ = ("env", "i", "priority", "rec", "t")

    def __init__(self, env: simpy.Environment, i: int, log: list[Record]) -> None:
        self.env, self.i, self.priority, self.rec = env, i, 1 + i, log.append
        self.t = env.now

    def act(
        self, start: int, end: int, place: int, k: int, cargo: float, prod: int, h: float
    ) -> None:
        """An activity of ``h`` hours at ``place`` from the ship's clock, start and end logged."""
        self.rec((self.t, self.i, start, place, k, cargo, prod, -1))
        self.t = self.t + h
        self.rec((self.t, self.i, end, place, k, cargo, prod, -1))

    def sail(self, origin: int, dest: int, k: int, cargo: float, prod: int, h: float) -> None:
        """A passage of ``h`` hours; both records carry the destination."""
        self.rec((self.t, self.i, SAIL_START, origin, k, cargo, prod, dest))
        self.t = self.t + h
        self.rec((self.t, self.i, SAIL_END, dest, k, cargo, prod, dest))

    def mark(self, kind: int, place: int, k: int, cargo: float, prod: int) -> None:
        """An instantaneous event at the ship's clock."""
        self.rec((self.t, self.i, kind, place, k, cargo, prod, -1))

    def catch_up(self) -> Steps:
        """Let SimPy's clock reach the ship's."""
        now = self.env.now
        # A wake-up even at no delay, so that ships meeting a resource at one instant do so
        # in index order.
        yield _Wake(self.env, _delay_to(now, self.t) if self.t > now else 0.0, self.priority)
        self.t = self.env.now

    def seize(self, res: simpy.Resource, place: int, k: int, cargo: float, prod: int) -> Steps:
        """Take a berth or lock chamber, waiting (logged) when none is free; returns the
        request, to give back with :meth:`release`."""
        yield from self.catch_up()
        req = res.request()
        if not req.triggered:
            self.mark(WAIT_START, place, k, cargo, prod)
            yield req
            self.t = self.env.now
            self.mark(WAIT_END, place, k, cargo, prod)
        self.mark(SEIZE, place, k, cargo, prod)
        return req

    def release(
        self, res: simpy.Resource, req: Any, place: int, k: int, cargo: float, prod: int
    ) -> Steps:
        """Give a berth or lock chamber back, once the ship's clock has been reached."""
        yield from self.catch_up()
        self.mark(RELEASE, place, k, cargo, prod)
        res.release(req)

    def lock(
        self, res: simpy.Resource, place: int, k: int, cargo: float, prod: int, h: float
    ) -> Steps:
        """Pass a lock: take a chamber, transit, give it back."""
        req = yield from self.seize(res, place, k, cargo, prod)
        self.act(LOCK_START, LOCK_END, place, k, cargo, prod, h)
        yield from self.release(res, req, place, k, cargo, prod)


class _VisitsOnly(_Ship):
    """A ship that records only what batch metrics read (loadings, discharges, sightings):
    the same clock and the same dealings with resources, a fraction of the records."""

    __slots__ = ()

    def act(
        self, start: int, end: int, place: int, k: int, cargo: float, prod: int, h: float
    ) -> None:
        self.t = t = self.t + h
        if end in (LOAD_END, DISCHARGE_END):
            self.rec((t, self.i, end, place, k, cargo, prod, -1))

    def sail(self, origin: int, dest: int, k: int, cargo: float, prod: int, h: float) -> None:
        self.t = self.t + h

    def mark(self, kind: int, place: int, k: int, cargo: float, prod: int) -> None:
        if kind == VISIT_SEEN:
            self.rec((self.t, self.i, kind, place, k, cargo, prod, -1))


RecordKind = Literal["all", "visits"]


def _voyages(
    env: simpy.Environment,
    c: Compiled,
    everyone: Plan,
    plan: ShipPlan,
    berths: list[simpy.Resource],
    locks: dict[int, simpy.Resource],
    log: list[Record],
    record: RecordKind = "all",
) -> Steps:
    """One ship's process: its voyages, one after the other, until the clock stops."""
    s = (_Ship if record == "all" else _VisitsOnly)(env, plan.idx, log)
    T = c.places.terminal
    lock_of = c.places.lock_of_port
    pos = plan.start_place
    if plan.start_offset_h > 0:
        s.act(IDLE_START, IDLE_END, pos, -1, 0.0, -1, plan.start_offset_h)
    k = 0
    while True:
        if k >= len(plan.voyages):
            everyone.extend()
        v = plan.voyages[k]
        port, cargo, prod = v.port, v.cargo_bbl, v.product
        # ---- leave the current port (through its lock) and sail in ballast to the terminal
        if pos in lock_of:
            yield from s.lock(locks[pos], lock_of[pos], k, 0.0, -1, v.lock_out_h)
        s.sail(pos, T, k, 0.0, -1, plan.ballast_h[pos])
        # ---- terminal: anchor, take the berth, moor, load, unmoor, give the berth back
        if v.terminal_anchorage_h > 0:
            s.act(ANCHOR_START, ANCHOR_END, T, k, 0.0, -1, v.terminal_anchorage_h)
        berth = yield from s.seize(berths[T], T, k, 0.0, -1)
        if v.terminal_pre_h > 0:
            s.act(MOOR_START, MOOR_END, T, k, 0.0, -1, v.terminal_pre_h)
        s.act(LOAD_START, LOAD_END, T, k, cargo, prod, v.load_h)
        if v.seen:
            s.mark(VISIT_SEEN, T, k, cargo, prod)
        if v.terminal_post_h > 0:
            s.act(UNMOOR_START, UNMOOR_END, T, k, cargo, prod, v.terminal_post_h)
        yield from s.release(berths[T], berth, T, k, cargo, prod)
        # ---- laden passage to the discharge port (through its lock)
        s.sail(T, port, k, cargo, prod, plan.laden_h[port])
        if port in lock_of:
            yield from s.lock(locks[port], lock_of[port], k, cargo, prod, v.lock_in_h)
        # ---- discharge port: anchor, take a berth, moor, discharge, unmoor, give it back
        if v.port_anchorage_h > 0:
            s.act(ANCHOR_START, ANCHOR_END, port, k, cargo, prod, v.port_anchorage_h)
        berth = yield from s.seize(berths[port], port, k, cargo, prod)
        if v.port_pre_h > 0:
            s.act(MOOR_START, MOOR_END, port, k, cargo, prod, v.port_pre_h)
        s.act(DISCHARGE_START, DISCHARGE_END, port, k, cargo, prod, v.discharge_h)
        if v.port_post_h > 0:
            s.act(UNMOOR_START, UNMOOR_END, port, k, 0.0, -1, v.port_post_h)
        yield from s.release(berths[port], berth, port, k, 0.0, -1)
        # ---- turnaround at the discharge port
        if v.turnaround_h > 0:
            s.act(IDLE_START, IDLE_END, port, k, 0.0, -1, v.turnaround_h)
        pos = port
        k += 1


COLLECT_DURING_RUN = False
"""Whether Python's cyclic garbage collector runs while a replication runs.

A replication allocates millions of small objects that live until it ends and makes few
reference cycles (some thousands at 1,000 ships, freed once the collector runs again after the
replication); with the collector on, it walks the live objects again and again, which
``benchmarks/bench_scale.py`` measures at up to 60 % of a 10,000-ship run. Peak memory is
the same either way."""


@contextmanager
def _collector() -> Iterator[None]:
    if COLLECT_DURING_RUN or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


RUN_CHUNKS = 64
"""The window is run in this many steps, the log's length checked after each (SimPy's clock
stops between steps; the order of events does not change)."""


def _run_bounded(env: simpy.Environment, c: Compiled, log: list[Record]) -> None:
    """Run ``env`` to the window's end, stopping with a :class:`TooLargeError` once the log
    holds more than :data:`MAX_RUN_EVENTS` records."""
    for k in range(1, RUN_CHUNKS + 1):
        env.run(until=c.window_h * k / RUN_CHUNKS)
        if len(log) > MAX_RUN_EVENTS:
            days = c.window_h / HOURS_PER_DAY
            raise TooLargeError(
                f"too large to simulate: {c.n_ships:,} ships logged more than "
                f"{MAX_RUN_EVENTS:,} events in the first {days * k / RUN_CHUNKS:,.0f} of "
                f"{days:,.0f} days; use a shorter window, fewer ships or fewer berths"
            )


def simulate(
    c: Compiled,
    seed: int,
    replication: int,
    fixed: Mapping[str, Any] | None = None,
    *,
    record: RecordKind = "all",
) -> Replication:
    """Run one replication and return its raw event records, in time order.

    ``fixed`` sets fleet-level values instead of drawing them (see
    :func:`sim.model.draws.draw_ships`). ``record="visits"`` keeps only the records batch
    metrics read (``load_end``, ``discharge_end``, ``visit_seen``): the same simulation, about
    a third cheaper; ``"all"`` keeps the whole event log.
    """
    sc = c.scenario
    everyone = plan_ships(c, seed, replication, fixed)
    env = simpy.Environment()
    berths = [simpy.Resource(env, capacity=sc.terminal.berths)]
    berths += [simpy.Resource(env, capacity=sc.discharge[p].berths) for p in c.port_ids]
    locks: dict[int, simpy.Resource] = {}
    for j, pid in enumerate(c.port_ids, start=1):
        lock = sc.discharge[pid].lock
        if lock is not None:
            locks[j] = simpy.Resource(env, capacity=lock.chambers)
    log: list[Record] = []
    for plan in everyone.ships:  # ship_ids() is sorted: a stable start order
        env.process(_voyages(env, c, everyone, plan, berths, locks, log, record))
    with _collector():
        _run_bounded(env, c, log)
    # Ships log ahead of SimPy's clock: order by time (stable: a ship's own order is kept) and
    # keep what happened before the window's end.
    log.sort(key=itemgetter(0))
    end = c.window_h
    cut = len(log)
    while cut and log[cut - 1][0] >= end:
        cut -= 1
    return Replication(
        replication=replication,
        records=log[:cut],
        ship_ids=tuple(p.ship_id for p in everyone.ships),
        class_ids=tuple(p.class_id for p in everyone.ships),
        p_detect=everyone.p_detect,
        capacity_bbl=tuple(tuple(x) for x in everyone.capacity_bbl),
        parameters={k: float(v[0]) for k, v in everyone.draws.parameters(c).items()},
    )
