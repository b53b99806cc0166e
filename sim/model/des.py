"""The SimPy model of the tanker shuttle.

Each ship cycles: (lock out) -> sail in ballast to the terminal -> anchor -> wait for a berth
-> moor -> load -> unmoor -> sail laden to a discharge port -> (lock in) -> anchor -> wait for a
berth -> moor -> discharge -> unmoor -> turnaround (idle) -> repeat. Berths and lock chambers
are shared :class:`simpy.Resource` objects. The clock starts at the window start (``t_h = 0``)
and stops at its end; work under way then is left open in the event log.

All random inputs are drawn before the clock runs, per ship and per voyage, from the streams of
:mod:`sim.core.rng`, and turned into plain Python floats: the per-event path does list look-ups and
arithmetic only.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.core.config import DischargePort, Scenario, ShipClass
from sim.core.rng import SHIP_COL, VOYAGE_COL, ShipStreams, generator
from sim.core.routes import RouteTable
from sim.core.units import BBL_PER_M3, HOURS_PER_DAY

ACTIVITIES: tuple[str, ...] = (
    "sail",
    "anchor",
    "wait",
    "moor",
    "load",
    "discharge",
    "unmoor",
    "lock",
    "idle",
)
"""Activities of a ship; each is logged as a ``<name>_start`` / ``<name>_end`` pair."""

EVENT_KINDS: tuple[str, ...] = (
    *(f"{a}_{e}" for a in ACTIVITIES for e in ("start", "end")),
    "visit_seen",
)
"""Every event kind, in code order. ``visit_seen`` marks a terminal visit that was observed."""

_K = {name: i for i, name in enumerate(EVENT_KINDS)}
SAIL_START, SAIL_END = _K["sail_start"], _K["sail_end"]
ANCHOR_START, ANCHOR_END = _K["anchor_start"], _K["anchor_end"]
WAIT_START, WAIT_END = _K["wait_start"], _K["wait_end"]
MOOR_START, MOOR_END = _K["moor_start"], _K["moor_end"]
LOAD_START, LOAD_END = _K["load_start"], _K["load_end"]
DISCHARGE_START, DISCHARGE_END = _K["discharge_start"], _K["discharge_end"]
UNMOOR_START, UNMOOR_END = _K["unmoor_start"], _K["unmoor_end"]
LOCK_START, LOCK_END = _K["lock_start"], _K["lock_end"]
IDLE_START, IDLE_END = _K["idle_start"], _K["idle_end"]
VISIT_SEEN = _K["visit_seen"]

STREAM_GLOBAL = 0
"""Stream of replication-wide draws (entity 0): column 0 is the detection probability."""

Record = tuple[float, int, int, int, int, float, int]
"""An event as logged: ``(t_h, ship, kind, place, voyage, cargo_bbl, product)``."""


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Places:
    """Place ids by index: the terminal (0), discharge ports (1..n), then their locks."""

    names: tuple[str, ...]
    terminal: int
    ports: tuple[int, ...]
    lock_of_port: dict[int, int]


@dataclass
class ShipPlan:
    """One ship's draws for one replication, as plain floats."""

    idx: int
    ship_id: str
    class_id: str
    start_place: int
    start_offset_h: float
    laden_h: dict[int, float]
    ballast_h: dict[int, float]
    cls: ShipClass
    streams: ShipStreams
    cap_u: float
    voyages: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Compiled:
    """What the SimPy layer needs, derived once per scenario (no randomness)."""

    scenario: Scenario
    places: Places
    port_ids: tuple[str, ...]
    dist_nm: dict[int, float]
    products: tuple[str, ...]
    product_bbl_per_t: tuple[float, ...]
    product_cum: np.ndarray
    share_cum: np.ndarray
    window_h: float


def compile_scenario(scenario: Scenario, routes: RouteTable) -> Compiled:
    """Precompute the deterministic inputs of the model."""
    port_ids = tuple(sorted(scenario.discharge))
    names = [scenario.terminal.port, *port_ids]
    lock_of_port: dict[int, int] = {}
    for j, pid in enumerate(port_ids, start=1):
        lock = scenario.discharge[pid].lock
        if lock is not None:
            lock_of_port[j] = len(names)
            names.append(f"{pid} {lock.name}")
    places = Places(tuple(names), 0, tuple(range(1, len(port_ids) + 1)), lock_of_port)
    dist = {j: routes.distance_nm(scenario.terminal.port, pid) for j, pid in enumerate(port_ids, 1)}
    products = tuple(sorted(p for p, w in scenario.product_mix.items() if w > 0))
    weights = np.array([scenario.product_mix[p] for p in products], dtype=float)
    shares = np.array(
        [
            scenario.discharge[p].share if scenario.discharge[p].share is not None else 1.0
            for p in port_ids
        ],
        dtype=float,
    )
    return Compiled(
        scenario=scenario,
        places=places,
        port_ids=port_ids,
        dist_nm=dist,
        products=products,
        product_bbl_per_t=tuple(scenario.bbl_per_t[p] for p in products),
        product_cum=np.cumsum(weights) / weights.sum(),
        share_cum=np.cumsum(shares) / shares.sum(),
        window_h=scenario.window.hours,
    )


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def _rate_bbl_per_h(bbl: Any, m3: Any, u: np.ndarray) -> np.ndarray:
    if bbl is not None:
        return np.asarray(bbl.ppf(u))
    return np.asarray(m3.ppf(u)) * BBL_PER_M3


def _voyage_rows(
    c: Compiled, cls: ShipClass, u: np.ndarray, cap_u: np.ndarray, p_detect: float
) -> list[tuple[Any, ...]]:
    """Voyage tuples for rows of uniforms ``u`` (any mix of ships of one class).

    ``cap_u`` holds, per row, the uniform that sets that row's ship's capacity. Working on
    many rows at once keeps the per-replication cost to a few numpy calls per input.
    """
    sc = c.scenario
    V = VOYAGE_COL
    n = u.shape[0]
    lf = cls.load_factor.ppf(u[:, V["load_factor"]])
    prod = _pick(c.product_cum, u[:, V["product"]])
    if cls.home_port is not None:
        port = np.full(n, c.port_ids.index(cls.home_port) + 1)
    else:
        port = _pick(c.share_cum, u[:, V["discharge_port"]]) + 1
    if cls.capacity_bbl is not None:
        cap_bbl = cls.capacity_bbl.ppf(cap_u)
    else:
        cap_bbl = np.full(n, np.inf)
        if cls.capacity_t is not None:
            bpt = np.asarray(c.product_bbl_per_t)[prod]
            cap_bbl = np.minimum(cap_bbl, cls.capacity_t.ppf(cap_u) * bpt)
        if cls.capacity_m3 is not None:
            cap_bbl = np.minimum(cap_bbl, cls.capacity_m3.ppf(cap_u) * BBL_PER_M3)
    cargo = lf * cap_bbl
    turn_h = cls.turnaround_days.ppf(u[:, V["turnaround"]]) * HOURS_PER_DAY
    t = sc.terminal
    t_anch = t.anchorage_h.ppf(u[:, V["terminal_anchorage"]])
    t_pre = t.pre_pump_h.ppf(u[:, V["terminal_pre"]])
    t_load = cargo / _rate_bbl_per_h(
        t.load_rate_bbl_per_h, t.load_rate_m3_per_h, u[:, V["terminal_rate"]]
    )
    t_post = t.post_pump_h.ppf(u[:, V["terminal_post"]])
    # Port-side draws: computed for the rows bound for each port.
    cols = np.zeros((6, n))
    for j, pid in enumerate(c.port_ids, start=1):
        d: DischargePort = sc.discharge[pid]
        mask = port == j
        if not mask.any():
            continue
        uj = u[mask]
        cols[0, mask] = d.anchorage_h.ppf(uj[:, V["port_anchorage"]])
        cols[1, mask] = d.pre_pump_h.ppf(uj[:, V["port_pre"]])
        cols[2, mask] = cargo[mask] / _rate_bbl_per_h(
            d.rate_bbl_per_h, d.rate_m3_per_h, uj[:, V["port_rate"]]
        )
        cols[3, mask] = d.post_pump_h.ppf(uj[:, V["port_post"]])
        if d.lock is not None:
            cols[4, mask] = d.lock.transit_h.ppf(uj[:, V["lock_in"]])
            cols[5, mask] = d.lock.transit_h.ppf(uj[:, V["lock_out"]])
    seen = u[:, V["detect"]] < p_detect
    return list(
        zip(
            port.tolist(),
            prod.tolist(),
            cargo.tolist(),
            turn_h.tolist(),
            t_anch.tolist(),
            t_pre.tolist(),
            t_load.tolist(),
            t_post.tolist(),
            *(cols[i].tolist() for i in range(6)),
            seen.tolist(),
            strict=True,
        )
    )


def _extend_voyages(c: Compiled, ship: ShipPlan, p_detect: float) -> None:
    """Draw the ship's next block of voyages (rare: only ships that sail more than a block)."""
    block = ship.streams.extend()
    cap_u = np.full(block.shape[0], ship.cap_u)
    ship.voyages.extend(_voyage_rows(c, ship.cls, block, cap_u, p_detect))


def plan_ships(c: Compiled, seed: int, replication: int) -> tuple[list[ShipPlan], float]:
    """Per-ship plans for one replication, and the replication's detection probability."""
    sc = c.scenario
    g = generator(seed, replication, STREAM_GLOBAL, 0).random(4)
    p_detect = float(sc.observation.p_detect.ppf(g[0:1])[0])
    ids = sc.ship_ids()
    streams = [ShipStreams(seed, replication, sid) for _, sid in ids]
    plans: list[ShipPlan | None] = [None] * len(ids)
    S = SHIP_COL
    for cid, cls in sc.fleet.items():
        members = [i for i, (k, _) in enumerate(ids) if k == cid]
        su = np.stack([streams[i].ship_u for i in members])
        v_l = cls.speed_laden_kn.ppf(su[:, S["speed_laden"]]).tolist()
        v_b = cls.speed_ballast_kn.ppf(su[:, S["speed_ballast"]]).tolist()
        off_h = (cls.start_offset_days.ppf(su[:, S["start_offset"]]) * HOURS_PER_DAY).tolist()
        if cls.home_port is not None:
            start = [c.port_ids.index(cls.home_port) + 1] * len(members)
        else:
            start = (_pick(c.share_cum, su[:, S["home_port"]]) + 1).tolist()
        cap_u = su[:, S["capacity"]]
        blocks = [streams[i].voyage_u for i in members]
        rows = _voyage_rows(
            c, cls, np.concatenate(blocks), np.repeat(cap_u, [len(b) for b in blocks]), p_detect
        )
        pos = 0
        for m, i in enumerate(members):
            plan = ShipPlan(
                idx=i,
                ship_id=ids[i][1],
                class_id=cid,
                start_place=int(start[m]),
                start_offset_h=off_h[m],
                laden_h={j: d / v_l[m] for j, d in c.dist_nm.items()},
                ballast_h={j: d / v_b[m] for j, d in c.dist_nm.items()},
                cls=cls,
                streams=streams[i],
                cap_u=float(cap_u[m]),
            )
            plan.voyages.extend(rows[pos : pos + len(blocks[m])])
            pos += len(blocks[m])
            plans[i] = plan
    return [p for p in plans if p is not None], p_detect


# --------------------------------------------------------------------------- SimPy layer


def _ship(
    env: simpy.Environment,
    c: Compiled,
    plan: ShipPlan,
    berths: list[simpy.Resource],
    locks: dict[int, simpy.Resource],
    log: list[Record],
    p_detect: float,
) -> Generator[simpy.Event, Any, None]:
    rec = log.append
    timeout = env.timeout
    i = plan.idx
    T = c.places.terminal
    lock_of = c.places.lock_of_port
    pos = plan.start_place
    if plan.start_offset_h > 0:
        rec((env.now, i, IDLE_START, pos, -1, 0.0, -1))
        yield timeout(plan.start_offset_h)
        rec((env.now, i, IDLE_END, pos, -1, 0.0, -1))
    k = 0
    voyages = plan.voyages
    while True:
        if k >= len(voyages):
            _extend_voyages(c, plan, p_detect)
        (
            port,
            prod,
            cargo,
            turn_h,
            t_anch,
            t_pre,
            t_load,
            t_post,
            p_anch,
            p_pre,
            p_dis,
            p_post,
            lock_in,
            lock_out,
            seen,
        ) = voyages[k]
        # ---- leave the current port (through its lock) and sail in ballast
        if pos in lock_of:
            yield from _lock(env, locks[pos], lock_of[pos], i, k, 0.0, -1, lock_out, rec)
        rec((env.now, i, SAIL_START, pos, k, 0.0, -1))
        yield timeout(plan.ballast_h[pos])
        rec((env.now, i, SAIL_END, T, k, 0.0, -1))
        # ---- terminal: anchor, berth, moor, load, unmoor
        if t_anch > 0:
            rec((env.now, i, ANCHOR_START, T, k, 0.0, -1))
            yield timeout(t_anch)
            rec((env.now, i, ANCHOR_END, T, k, 0.0, -1))
        req = berths[T].request()
        if not req.triggered:
            rec((env.now, i, WAIT_START, T, k, 0.0, -1))
            yield req
            rec((env.now, i, WAIT_END, T, k, 0.0, -1))
        else:
            yield req
        if t_pre > 0:
            rec((env.now, i, MOOR_START, T, k, 0.0, -1))
            yield timeout(t_pre)
            rec((env.now, i, MOOR_END, T, k, 0.0, -1))
        rec((env.now, i, LOAD_START, T, k, cargo, prod))
        yield timeout(t_load)
        rec((env.now, i, LOAD_END, T, k, cargo, prod))
        if seen:
            rec((env.now, i, VISIT_SEEN, T, k, cargo, prod))
        if t_post > 0:
            rec((env.now, i, UNMOOR_START, T, k, cargo, prod))
            yield timeout(t_post)
            rec((env.now, i, UNMOOR_END, T, k, cargo, prod))
        berths[T].release(req)
        # ---- laden passage to the discharge port (through its lock)
        rec((env.now, i, SAIL_START, T, k, cargo, prod))
        yield timeout(plan.laden_h[port])
        rec((env.now, i, SAIL_END, port, k, cargo, prod))
        if port in lock_of:
            yield from _lock(env, locks[port], lock_of[port], i, k, cargo, prod, lock_in, rec)
        if p_anch > 0:
            rec((env.now, i, ANCHOR_START, port, k, cargo, prod))
            yield timeout(p_anch)
            rec((env.now, i, ANCHOR_END, port, k, cargo, prod))
        req = berths[port].request()
        if not req.triggered:
            rec((env.now, i, WAIT_START, port, k, cargo, prod))
            yield req
            rec((env.now, i, WAIT_END, port, k, cargo, prod))
        else:
            yield req
        if p_pre > 0:
            rec((env.now, i, MOOR_START, port, k, cargo, prod))
            yield timeout(p_pre)
            rec((env.now, i, MOOR_END, port, k, cargo, prod))
        rec((env.now, i, DISCHARGE_START, port, k, cargo, prod))
        yield timeout(p_dis)
        rec((env.now, i, DISCHARGE_END, port, k, cargo, prod))
        if p_post > 0:
            rec((env.now, i, UNMOOR_START, port, k, 0.0, -1))
            yield timeout(p_post)
            rec((env.now, i, UNMOOR_END, port, k, 0.0, -1))
        berths[port].release(req)
        # ---- turnaround at the discharge port
        if turn_h > 0:
            rec((env.now, i, IDLE_START, port, k, 0.0, -1))
            yield timeout(turn_h)
            rec((env.now, i, IDLE_END, port, k, 0.0, -1))
        pos = port
        k += 1


def _lock(
    env: simpy.Environment,
    chambers: simpy.Resource,
    place: int,
    i: int,
    k: int,
    cargo: float,
    prod: int,
    transit_h: float,
    rec: Any,
) -> Generator[simpy.Event, Any, None]:
    req = chambers.request()
    if not req.triggered:
        rec((env.now, i, WAIT_START, place, k, cargo, prod))
        yield req
        rec((env.now, i, WAIT_END, place, k, cargo, prod))
    else:
        yield req
    rec((env.now, i, LOCK_START, place, k, cargo, prod))
    yield env.timeout(transit_h)
    rec((env.now, i, LOCK_END, place, k, cargo, prod))
    chambers.release(req)


@dataclass(frozen=True)
class Replication:
    """The raw outcome of one replication."""

    replication: int
    records: list[Record]
    ship_ids: tuple[str, ...]
    class_ids: tuple[str, ...]
    p_detect: float


def simulate(c: Compiled, seed: int, replication: int) -> Replication:
    """Run one replication and return its raw event records."""
    sc = c.scenario
    plans, p_detect = plan_ships(c, seed, replication)
    env = simpy.Environment()
    berths = [simpy.Resource(env, capacity=sc.terminal.berths)]
    berths += [simpy.Resource(env, capacity=sc.discharge[p].berths) for p in c.port_ids]
    locks: dict[int, simpy.Resource] = {}
    for j, pid in enumerate(c.port_ids, start=1):
        lock = sc.discharge[pid].lock
        if lock is not None:
            locks[j] = simpy.Resource(env, capacity=lock.chambers)
    log: list[Record] = []
    for plan in plans:  # ship_ids() is sorted: a stable start order
        env.process(_ship(env, c, plan, berths, locks, log, p_detect))
    env.run(until=c.window_h)
    return Replication(
        replication=replication,
        records=log,
        ship_ids=tuple(p.ship_id for p in plans),
        class_ids=tuple(p.class_id for p in plans),
        p_detect=p_detect,
    )
