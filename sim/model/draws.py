"""Drawn inputs: what the engines need from a scenario, and each replication's random draws.

:func:`compile_scenario` derives, once per scenario, the deterministic inputs (places, leg
distances, product tables); :func:`plan_ships` draws one replication's per-ship and per-voyage
inputs from the streams of :mod:`sim.core.rng` and turns them into plain floats
(:class:`sim.model.events.Voyage` records), so that an engine does list look-ups and
arithmetic only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.core.config import DischargePort, Scenario, ShipClass
from sim.core.rng import SHIP_COL, VOYAGE_COL, ShipStreams, generator
from sim.core.routes import RouteTable
from sim.core.units import BBL_PER_M3, HOURS_PER_DAY
from sim.model.events import Voyage

STREAM_GLOBAL = 0
"""Stream of replication-wide draws (entity 0): column 0 is the detection probability."""


@dataclass(frozen=True)
class Places:
    """Place ids by index: the terminal (0), discharge ports (1..n), then their locks."""

    names: tuple[str, ...]
    terminal: int
    ports: tuple[int, ...]
    lock_of_port: dict[int, int]


@dataclass(frozen=True)
class Compiled:
    """What an engine needs, derived once per scenario (no randomness)."""

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
    """Precompute the deterministic inputs of the engines."""
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
    voyages: list[Voyage] = field(default_factory=list)


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def _rate_bbl_per_h(bbl: Any, m3: Any, u: np.ndarray) -> np.ndarray:
    if bbl is not None:
        return np.asarray(bbl.ppf(u))
    return np.asarray(m3.ppf(u)) * BBL_PER_M3


def _voyages(
    c: Compiled, cls: ShipClass, u: np.ndarray, cap_u: np.ndarray, p_detect: float
) -> list[Voyage]:
    """Voyage records for rows of uniforms ``u`` (any mix of ships of one class).

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
    make = Voyage._make
    return [
        make(row)
        for row in zip(
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
    ]


def extend_voyages(c: Compiled, ship: ShipPlan, p_detect: float) -> None:
    """Draw the ship's next block of voyages (rare: only ships that sail more than a block)."""
    block = ship.streams.extend()
    cap_u = np.full(block.shape[0], ship.cap_u)
    ship.voyages.extend(_voyages(c, ship.cls, block, cap_u, p_detect))


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
        rows = _voyages(
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
