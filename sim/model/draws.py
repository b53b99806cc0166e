"""Drawn inputs: what the engines need from a scenario, and the random draws of replications.

:func:`compile_scenario` derives, once per scenario, the deterministic inputs (places, leg
distances, product tables, ship keys, registry sizes). :func:`draw_ships` and
:func:`draw_voyages` draw the random inputs of a block of replications at once, as arrays
(replication x ship [x voyage]), from the counter-based streams of :mod:`sim.core.rng`: each
input at its level (once per replication for the fleet or a class, per ship, per voyage),
multiplied by its ``scale`` unknown when it has one. Both engines consume these arrays, so on
the same seed they see the same inputs. :func:`plan_ships` turns one replication's arrays into
plain Python floats for the SimPy engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.core.config import Input, Scenario, scenario_inputs
from sim.core.errors import OptionError
from sim.core.registry import registry
from sim.core.rng import SLOT, SLOTS, entity_key, uniform_slots, uniforms
from sim.core.routes import RouteTable
from sim.core.units import BBL_PER_M3, CARGO_DWT_FRACTION, HOURS_PER_DAY
from sim.model.events import Voyage

F64 = NDArray[np.float64]
VOYAGE_BLOCK = 8
"""Voyages drawn at a time per ship by the SimPy engine (the numbers do not depend on it)."""


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
    ship_ids: tuple[str, ...]
    class_ids: tuple[str, ...]
    ship_class: np.ndarray
    """Index into ``class_ids`` of every ship [-]."""
    ship_keys: np.ndarray
    class_keys: np.ndarray
    known_dwt: np.ndarray
    """Registry deadweight of every ship [t]; NaN where the registry does not know it."""
    designated: np.ndarray
    """Whether each ship is UN-designated in the registry (False when unknown)."""
    inputs: tuple[Input, ...] = field(repr=False, default=())

    @property
    def n_ships(self) -> int:
        return len(self.ship_ids)

    def dist_by_port(self) -> F64:
        """Leg distance terminal-port by place index [nm] (index 0, the terminal, is 0)."""
        out = np.zeros(len(self.port_ids) + 1)
        for j, d in self.dist_nm.items():
            out[j] = d
        return out


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
    ids = scenario.ship_ids()
    class_ids = tuple(sorted(scenario.fleet))
    reg = registry()
    known = np.full(len(ids), np.nan)
    designated = np.zeros(len(ids), dtype=bool)
    for i, (cid, sid) in enumerate(ids):
        entry = reg.get(sid)
        if entry is None:
            continue
        designated[i] = bool(entry.un_designated)
        if scenario.fleet[cid].from_registry and entry.known_dwt is not None:
            known[i] = entry.known_dwt
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
        ship_ids=tuple(sid for _, sid in ids),
        class_ids=class_ids,
        ship_class=np.asarray([class_ids.index(cid) for cid, _ in ids], dtype=np.int64),
        ship_keys=np.asarray([entity_key(sid) for _, sid in ids], dtype=np.uint64),
        class_keys=np.asarray([entity_key(cid) for cid in class_ids], dtype=np.uint64),
        known_dwt=known,
        designated=designated,
        inputs=tuple(scenario_inputs(scenario)),
    )


# --------------------------------------------------------------------------- drawing


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


class _Drawer:
    """Draws inputs for replications ``reps`` (and voyages ``v0 .. v1``) at their levels."""

    def __init__(
        self,
        c: Compiled,
        seed: int,
        reps: NDArray[np.int64],
        fixed: Mapping[str, F64] | None = None,
    ) -> None:
        self.c, self.seed = c, seed
        self.reps = np.asarray(reps, dtype=np.int64)
        self.fixed = dict(fixed or {})
        self._unknowns: dict[str, F64] = {}
        self._cache: dict[tuple[str, bool, int], dict[str, F64]] = {}

    def unknown(self, name: str) -> F64:
        """A fleet-level unknown: one value per replication, shape (R,)."""
        if name not in self._unknowns:
            key = f"unknowns.{name}"
            if key in self.fixed:
                vals = np.asarray(self.fixed[key], dtype=float)
            else:
                u = uniforms(self.seed, self.reps, "unknown", entity_key(name), 0, "value")
                vals = np.asarray(self.c.scenario.unknowns[name].ppf(u), dtype=float)
            self._unknowns[name] = vals
        return self._unknowns[name]

    def spread(self, inp: Input) -> F64 | None:
        """The values of the unknown that multiplies the input's log-scale spread (one per
        replication), or None when its distribution has no ``spread``."""
        name = getattr(inp.dist, "spread", None)
        return None if name is None else self.unknown(name)

    def _u(self, level: str, slot: str, voyages: NDArray[np.int64] | None) -> F64:
        """Uniforms for an input drawn at ``level``, broadcastable to (R, S[, V]).

        Each Philox block (four consecutive slots) of a level is drawn once, when one of its
        slots is first asked for; blocks no input asks for are never drawn.
        """
        if level == "voyage" and voyages is None:
            level = "ship"
        block = SLOT[slot] // 4
        key = (level, voyages is not None, block)
        if key not in self._cache:
            R = self.reps[:, None]
            c = self.c
            names = [s for s in SLOTS if SLOT[s] // 4 == block]
            if level == "fleet":
                blocks = uniform_slots(self.seed, R, "fleet", 0, 0, names)
            elif level == "class":
                raw = uniform_slots(self.seed, R, "class", c.class_keys[None, :], 0, names)
                blocks = {k: v[:, c.ship_class] for k, v in raw.items()}
            elif level == "ship":
                blocks = uniform_slots(self.seed, R, "ship", c.ship_keys[None, :], 0, names)
            else:
                assert voyages is not None
                blocks = uniform_slots(
                    self.seed, R[:, :, None], "voyage", c.ship_keys[None, :, None],
                    voyages[None, None, :], names,
                )  # fmt: skip
            if voyages is not None and level != "voyage":
                blocks = {k: v[:, :, None] for k, v in blocks.items()}
            self._cache[key] = blocks
        return self._cache[key][slot]

    def value(self, inp: Input, voyages: NDArray[np.int64] | None = None) -> F64:
        """The input's values, shape (R, S) or (R, S, V) (broadcast from its level).

        A ``fixed`` value (one per replication) replaces the draw of the input's own
        distribution; its ``scale`` unknown still multiplies it.
        """
        if inp.key in self.fixed:
            vals = np.asarray(self.fixed[inp.key], dtype=float)[:, None]
            if voyages is not None:
                vals = vals[:, :, None]
        elif inp.dist.is_fixed:  # no random numbers needed (broadcastable)
            vals = np.full((1, 1) if voyages is None else (1, 1, 1), inp.dist.bounds[0])
        else:
            level = inp.level
            if voyages is None and level == "voyage":
                level = "ship"
            u = self._u(level, inp.slot, voyages)
            spread = self.spread(inp)
            if spread is not None:
                s = spread[:, None] if voyages is None else spread[:, None, None]
                vals = np.asarray(inp.dist.ppf_spread(u, s), dtype=float)  # type: ignore[union-attr]
            else:
                vals = np.asarray(inp.dist.ppf(u), dtype=float)
        if inp.dist.scale is not None:
            scale = self.unknown(inp.dist.scale)
            vals = vals * (scale[:, None] if voyages is None else scale[:, None, None])
        return vals

    def masked(
        self, inp: Input, voyages: NDArray[np.int64], shape: tuple[int, ...], mask: np.ndarray
    ) -> F64:
        """The input's values where ``mask`` (over ``shape``) is true: a 1-D array."""
        if inp.key in self.fixed:
            vals = np.broadcast_to(
                np.asarray(self.fixed[inp.key], dtype=float)[:, None, None], shape
            )[mask]
        elif inp.dist.is_fixed:
            vals = np.full(int(np.count_nonzero(mask)), inp.dist.bounds[0])
        else:
            u = np.broadcast_to(self._u(inp.level, inp.slot, voyages), shape)[mask]
            spread = self.spread(inp)
            if spread is not None:
                s = np.broadcast_to(spread[:, None, None], shape)[mask]
                vals = np.asarray(inp.dist.ppf_spread(u, s), dtype=float)  # type: ignore[union-attr]
            else:
                vals = np.asarray(inp.dist.ppf(u), dtype=float)
        if inp.dist.scale is not None:
            scale = self.unknown(inp.dist.scale)[:, None, None]
            vals = vals * np.broadcast_to(scale, shape)[mask]
        return vals

    def by_class(self, name: str, voyages: NDArray[np.int64] | None = None) -> F64:
        """A fleet-class input for every ship: each class's own distribution, (R, S[, V])."""
        c = self.c
        shape = (len(self.reps), c.n_ships) + (() if voyages is None else (len(voyages),))
        out = np.zeros(shape)
        for k, cid in enumerate(c.class_ids):
            inp = _input(c, f"fleet.{cid}.{name}")
            if inp is None:
                continue
            vals = np.broadcast_to(self.value(inp, voyages), shape)
            mask = c.ship_class == k
            out[:, mask] = vals[:, mask]
        return out

    def p_detect(self) -> F64:
        inp = _input(self.c, "observation.p_detect")
        assert inp is not None
        if inp.key in self.fixed:
            vals = np.asarray(self.fixed[inp.key], dtype=float)
        else:
            u = uniforms(self.seed, self.reps, "fleet", 0, 0, "p_detect")
            spread = self.spread(inp)
            if spread is not None:
                vals = np.asarray(inp.dist.ppf_spread(u, spread), dtype=float)  # type: ignore[union-attr]
            else:
                vals = np.asarray(inp.dist.ppf(u), dtype=float)
        if inp.dist.scale is not None:
            vals = vals * self.unknown(inp.dist.scale)
        return vals


def _input(c: Compiled, key: str) -> Input | None:
    for inp in c.inputs:
        if inp.key == key:
            return inp
    return None


@dataclass
class ShipDraws:
    """Per-replication and per-ship inputs of a block of replications (R replications, S ships)."""

    replications: NDArray[np.int64]
    p_detect: F64
    """Detection probability of each replication [-], shape (R,)."""
    unknowns: dict[str, F64]
    """Fleet-level unknowns [their units], each of shape (R,)."""
    start_place: NDArray[np.int64]
    start_offset_h: F64
    speed_laden_kn: F64
    speed_ballast_kn: F64
    capacity_dwt: F64
    """Deadweight [t] (NaN when capacity is not given in dwt), shape (R, S)."""
    cap_t: F64
    """Cargo capacity by weight [t] (inf when capacity does not depend on weight)."""
    cap_m3: F64
    """Cargo capacity by tank volume [m3] (inf when it does not depend on volume)."""
    cap_bbl: F64
    """Capacity in barrels whatever the product (NaN unless given in barrels)."""
    laden_h: F64
    """Laden passage terminal -> port by place index [h], shape (R, S, P+1)."""
    ballast_h: F64
    """Ballast passage port -> terminal by place index [h], shape (R, S, P+1)."""
    turnaround_factor: F64
    """Each ship's own factor on its turnaround [-], shape (R, S)."""

    def take(self, rows: NDArray[np.int64]) -> ShipDraws:
        """The same draws for a subset of the block's replications (by row)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = (
                {k: v[rows] for k, v in value.items()} if isinstance(value, dict) else value[rows]
            )
        return ShipDraws(**out)

    def parameters(self, c: Compiled) -> dict[str, F64]:
        """The fleet-level values of these replications, by key (unknowns and fleet inputs),
        then the drawn inputs of :meth:`inputs` under keys ``drawn:<column>``."""
        out = {f"unknowns.{k}": v for k, v in self.unknowns.items()}
        out["observation.p_detect"] = self.p_detect
        out.update({f"{DRAWN}{k}": v for k, v in self.inputs(c).items()})
        return out

    def cargo_capacity_t(self, c: Compiled) -> F64:
        """Cargo each ship can lift by weight, of the product mix's mean density [t], (R, S):
        its tonnes where capacity depends on weight, else its barrels (or tank volume) over
        the mix's mean barrels per tonne."""
        bpt = mix_bbl_per_t(c)
        vol_bbl = np.where(np.isnan(self.cap_bbl), self.cap_m3 * BBL_PER_M3, self.cap_bbl)
        return np.minimum(self.cap_t, vol_bbl / bpt)

    def capacity_mix_bbl(self, c: Compiled) -> F64:
        """A full load of each ship in barrels of the product mix's mean barrels per tonne
        [bbl], (R, S): the lesser of its tonnes and its tank volume, or its barrels."""
        cap = np.minimum(self.cap_t * mix_bbl_per_t(c), self.cap_m3 * BBL_PER_M3)
        return np.where(np.isnan(self.cap_bbl), cap, self.cap_bbl)

    def dwt_or_estimate(self, c: Compiled) -> tuple[F64, NDArray[np.bool_]]:
        """Each ship's deadweight [t], (R, S), and whether it is an estimate: a ship whose
        capacity is not given in deadweight gets its cargo tonnes over
        :data:`sim.core.units.CARGO_DWT_FRACTION`."""
        est = np.isnan(self.capacity_dwt)
        dwt = np.where(est, self.cargo_capacity_t(c) / CARGO_DWT_FRACTION, self.capacity_dwt)
        return dwt, est

    def inputs(self, c: Compiled) -> dict[str, F64]:
        """The drawn inputs of each replication an analyst needs beside its results, by
        column name (each of shape (R,)): per ship, ``dwt_t__<ship>`` (deadweight [t]; only for
        ships whose class gives its capacity in dwt) and ``capacity_bbl__<ship>`` (a full load
        in barrels of the mix's mean bbl/t); per replication, ``fleet_dwt_t_mean`` (the mean
        deadweight of those ships [t], when there are any), ``fleet_capacity_bbl`` (sum of the
        ships' full loads [bbl]) and, means over ships, ``fleet_capacity_bbl_mean`` [bbl],
        ``speed_laden_kn_mean``, ``speed_ballast_kn_mean`` [kn] and ``start_offset_days_mean``
        [d]. A fleet of more than :data:`SHIP_COLUMNS_MAX` ships gets the per-ship columns only
        of the ships its anchors name: the others are drawn again, exactly, by
        ``draw_ships(c, seed, [replication])``."""
        out: dict[str, F64] = {}
        cap = self.capacity_mix_bbl(c)
        in_dwt = np.asarray(
            [c.scenario.fleet[c.class_ids[k]].capacity_dwt is not None for k in c.ship_class],
            dtype=bool,
        ).reshape(-1)
        named = {a.quantity for a in (c.scenario.anchors or {}).values()}
        every = len(c.ship_ids) <= SHIP_COLUMNS_MAX
        for i, sid in enumerate(c.ship_ids):
            if in_dwt[i] and (every or f"dwt_t__{sid}" in named):
                out[f"dwt_t__{sid}"] = self.capacity_dwt[:, i]
            if every or f"capacity_bbl__{sid}" in named:
                out[f"capacity_bbl__{sid}"] = cap[:, i]
        if in_dwt.any():
            out["fleet_dwt_t_mean"] = _row_mean(self.capacity_dwt[:, in_dwt])
        out["fleet_capacity_bbl"] = _row_sum(cap)
        out["fleet_capacity_bbl_mean"] = _row_mean(cap)
        out["speed_laden_kn_mean"] = _row_mean(np.broadcast_to(self.speed_laden_kn, cap.shape))
        out["speed_ballast_kn_mean"] = _row_mean(np.broadcast_to(self.speed_ballast_kn, cap.shape))
        out["start_offset_days_mean"] = (
            _row_mean(np.broadcast_to(self.start_offset_h, cap.shape)) / HOURS_PER_DAY
        )
        return out


SHIP_COLUMNS_MAX = 1_000
"""The largest fleet whose every ship gets columns of its own (``capacity_bbl__<ship>``,
``dwt_t__<ship>``) in the per-replication table: a table of 100,000 such columns took most of
two minutes to write for two replications (docs/reliability.md)."""


def _row_sum(a: F64) -> F64:
    """Sum of each row, adding the columns one after the other: the same bits whatever the
    number of rows (numpy's reductions may group the additions differently)."""
    total = np.zeros(a.shape[0])
    for j in range(a.shape[1]):
        total = total + a[:, j]
    return total


def _row_mean(a: F64) -> F64:
    """Mean of each row (:func:`_row_sum` over the number of columns)."""
    return _row_sum(a) / max(a.shape[1], 1)


DRAWN = "drawn:"
"""Prefix of the drawn inputs among :meth:`ShipDraws.parameters` (columns of their own in the
per-replication table, not ``param:`` columns)."""


def mix_bbl_per_t(c: Compiled) -> float:
    """Mean barrels per tonne of the scenario's product mix [bbl/t], weighted by its shares."""
    weights = np.diff(np.r_[0.0, c.product_cum])
    return float(np.dot(weights, np.asarray(c.product_bbl_per_t, dtype=float)))


@dataclass
class VoyageDraws:
    """Per-voyage inputs for voyages ``voyages`` (shape (R, S, V) each; durations in hours)."""

    voyages: NDArray[np.int64]
    port: NDArray[np.int64]
    product: NDArray[np.int64]
    capacity_bbl: F64
    cargo_bbl: F64
    turnaround_h: F64
    terminal_anchorage_h: F64
    terminal_pre_h: F64
    load_h: F64
    terminal_post_h: F64
    port_anchorage_h: F64
    port_pre_h: F64
    discharge_h: F64
    port_post_h: F64
    lock_in_h: F64
    lock_out_h: F64
    seen: NDArray[np.bool_]


VOYAGE_FIELDS: tuple[str, ...] = tuple(Voyage._fields)


def check_fixed(c: Compiled, fixed: Mapping[str, Any], rows: int) -> None:
    """Refuse ``fixed`` values that would be ignored or misaligned (see :func:`draw_ships`)."""
    valid = {f"unknowns.{n}" for n in c.scenario.unknowns} | {inp.key for inp in c.inputs}
    for key, values in fixed.items():
        if key not in valid:
            raise OptionError(
                "fixed",
                key,
                f"not an unknown or input of this scenario ({', '.join(sorted(valid))})",
            )
        if np.shape(values) != (rows,):
            raise OptionError(
                "fixed", key, f"needs one value per row ({rows}), not {np.shape(values)}"
            )


def draw_ships(
    c: Compiled,
    seed: int,
    reps: NDArray[np.int64] | list[int],
    fixed: Mapping[str, F64] | None = None,
) -> ShipDraws:
    """The per-replication and per-ship inputs of replications ``reps``.

    ``reps`` may repeat a replication number (the same random numbers, e.g. at several design
    points). ``fixed`` sets values instead of drawing them, one per row of ``reps``, by key:
    ``unknowns.<name>`` for an unknown, or an input's dotted key for an input, which then takes
    that value for every ship and voyage of the replication (its ``scale`` still multiplies
    it). Calibration and sensitivity designs use it; a key that is neither, or a number of
    values other than one per row, is an :class:`~sim.core.errors.OptionError`.
    """
    d = _Drawer(c, seed, np.asarray(reps, dtype=np.int64), fixed)
    if fixed:
        check_fixed(c, fixed, len(d.reps))
    sc = c.scenario
    R, S = len(d.reps), c.n_ships
    home = np.zeros((R, S), dtype=np.int64)
    u_home = d._u("ship", "home_port", None)
    for k, cid in enumerate(c.class_ids):
        cls = sc.fleet[cid]
        mask = c.ship_class == k
        if cls.home_port is not None:
            home[:, mask] = c.port_ids.index(cls.home_port) + 1
        else:
            home[:, mask] = _pick(c.share_cum, u_home[:, mask]) + 1
    offset_h = d.by_class("start_offset_days") * HOURS_PER_DAY
    v_l = d.by_class("speed_laden_kn")
    v_b = d.by_class("speed_ballast_kn")
    nan = np.full((R, S), np.nan)
    inf = np.full((R, S), np.inf)
    dwt, cap_t, cap_m3, cap_bbl = nan.copy(), inf.copy(), inf.copy(), nan.copy()
    for k, cid in enumerate(c.class_ids):
        cls = sc.fleet[cid]
        mask = c.ship_class == k
        key = f"fleet.{cid}"
        if cls.capacity_bbl is not None:
            cap_bbl[:, mask] = _class_value(d, c, f"{key}.capacity_bbl", mask)
        if cls.capacity_t is not None:
            cap_t[:, mask] = _class_value(d, c, f"{key}.capacity_t", mask)
        if cls.capacity_m3 is not None:
            cap_m3[:, mask] = _class_value(d, c, f"{key}.capacity_m3", mask)
        if cls.capacity_dwt is not None:
            w = _class_value(d, c, f"{key}.capacity_dwt", mask)
            known = c.known_dwt[mask]
            w = np.where(np.isnan(known)[None, :], w, known[None, :])
            dwt[:, mask] = w
            cap_t[:, mask] = w * _class_value(d, c, f"{key}.cargo_dwt_fraction", mask)
            cap_m3[:, mask] = w * _class_value(d, c, f"{key}.tank_m3_per_dwt", mask)
    dist = c.dist_by_port()
    with np.errstate(divide="ignore"):
        laden = dist[None, None, :] / v_l[:, :, None]
        ballast = dist[None, None, :] / v_b[:, :, None]
    return ShipDraws(
        replications=d.reps,
        p_detect=d.p_detect(),
        unknowns={name: d.unknown(name) for name in sc.unknowns},
        start_place=home,
        start_offset_h=offset_h,
        speed_laden_kn=v_l,
        speed_ballast_kn=v_b,
        capacity_dwt=dwt,
        cap_t=cap_t,
        cap_m3=cap_m3,
        cap_bbl=cap_bbl,
        laden_h=laden,
        ballast_h=ballast,
        turnaround_factor=np.broadcast_to(d.by_class("turnaround_factor"), (R, S)).copy(),
    )


def _class_value(d: _Drawer, c: Compiled, key: str, mask: np.ndarray) -> F64:
    inp = _input(c, key)
    assert inp is not None
    vals = np.broadcast_to(d.value(inp), (len(d.reps), c.n_ships))
    return vals[:, mask]


def draw_voyages(
    c: Compiled,
    seed: int,
    ships: ShipDraws,
    v0: int,
    v1: int,
    fixed: Mapping[str, F64] | None = None,
) -> VoyageDraws:
    """The inputs of voyages ``v0 .. v1 - 1`` of every ship, for the replications of ``ships``.

    Voyage ``k`` of a ship draws the same numbers whatever block it is drawn in, and whatever
    other replications are drawn with it. ``fixed`` values are per replication of ``ships``.
    """
    d = _Drawer(c, seed, ships.replications, fixed)
    d._unknowns = dict(ships.unknowns)
    sc = c.scenario
    V = np.arange(v0, v1, dtype=np.int64)
    R, S = len(d.reps), c.n_ships
    shape = (R, S, len(V))
    prod = _pick(c.product_cum, d._u("voyage", "product", V))
    prod = np.broadcast_to(prod, shape).copy()
    port = np.zeros(shape, dtype=np.int64)
    u_port = np.broadcast_to(d._u("voyage", "discharge_port", V), shape)
    for k, cid in enumerate(c.class_ids):
        cls = sc.fleet[cid]
        mask = c.ship_class == k
        if cls.home_port is not None:
            port[:, mask] = c.port_ids.index(cls.home_port) + 1
        else:
            port[:, mask] = _pick(c.share_cum, u_port[:, mask]) + 1
    bpt = np.asarray(c.product_bbl_per_t)[prod]
    cap = np.minimum(ships.cap_t[:, :, None] * bpt, ships.cap_m3[:, :, None] * BBL_PER_M3)
    cap = np.where(np.isnan(ships.cap_bbl)[:, :, None], cap, ships.cap_bbl[:, :, None])
    cargo = d.by_class("load_factor", V) * cap
    turn_h = d.by_class("turnaround_days", V) * HOURS_PER_DAY * ships.turnaround_factor[:, :, None]

    def term(name: str) -> F64:
        inp = _input(c, f"terminal.{name}")
        return np.zeros(shape) if inp is None else np.broadcast_to(d.value(inp, V), shape)

    t = sc.terminal
    rate = term("load_rate_bbl_per_h") if t.load_rate_bbl_per_h is not None else (
        term("load_rate_m3_per_h") * BBL_PER_M3
    )  # fmt: skip
    load_h = cargo / rate
    cols = {n: np.zeros(shape) for n in ("anch", "pre", "dis", "post", "lock_in", "lock_out")}
    for j, pid in enumerate(c.port_ids, start=1):
        dp = sc.discharge[pid]
        mask = port == j
        if not mask.any():
            continue

        def val(name: str, slot: str | None = None, pid: str = pid, mask: Any = mask) -> F64:
            inp = _input(c, f"discharge.{pid}.{name}")
            assert inp is not None
            if slot is not None:
                inp = Input(inp.key, inp.dist, slot, inp.default, inp.allowed, inp.bound)
            return d.masked(inp, V, shape, mask)

        cols["anch"][mask] = val("anchorage_h")
        cols["pre"][mask] = val("pre_pump_h")
        prate = val("rate_bbl_per_h") if dp.rate_bbl_per_h is not None else (
            val("rate_m3_per_h") * BBL_PER_M3
        )  # fmt: skip
        cols["dis"][mask] = cargo[mask] / prate
        cols["post"][mask] = val("post_pump_h")
        if dp.lock is not None:
            cols["lock_in"][mask] = val("lock.transit_h")
            cols["lock_out"][mask] = val("lock.transit_h", "lock_out")
    p = ships.p_detect[:, None, None]
    seen = np.broadcast_to(d._u("voyage", "detect", V), shape) < p
    return VoyageDraws(
        voyages=V,
        port=port,
        product=prod,
        capacity_bbl=cap,
        cargo_bbl=cargo,
        turnaround_h=np.broadcast_to(turn_h, shape),
        terminal_anchorage_h=term("anchorage_h"),
        terminal_pre_h=term("pre_pump_h"),
        load_h=load_h,
        terminal_post_h=term("post_pump_h"),
        port_anchorage_h=cols["anch"],
        port_pre_h=cols["pre"],
        discharge_h=cols["dis"],
        port_post_h=cols["post"],
        lock_in_h=cols["lock_in"],
        lock_out_h=cols["lock_out"],
        seen=seen,
    )


# --------------------------------------------------------------------------- for the SimPy engine


@dataclass
class ShipPlan:
    """One ship's draws for one replication, as plain floats (for the SimPy engine)."""

    idx: int
    ship_id: str
    class_id: str
    start_place: int
    start_offset_h: float
    laden_h: dict[int, float]
    ballast_h: dict[int, float]
    voyages: list[Voyage] = field(default_factory=list)


@dataclass
class Plan:
    """One replication's draws: the ships' plans and the arrays they came from."""

    ships: list[ShipPlan]
    p_detect: float
    draws: ShipDraws
    c: Compiled
    seed: int
    fixed: Mapping[str, F64] | None = None
    capacity_bbl: list[list[float]] = field(default_factory=list)
    """Capacity [bbl] of every drawn voyage, per ship (for the claimants' method)."""

    def extend(self) -> None:
        """Draw the next block of voyages of every ship."""
        v0 = len(self.ships[0].voyages)
        vd = draw_voyages(self.c, self.seed, self.draws, v0, v0 + VOYAGE_BLOCK, self.fixed)
        _append(self, vd)


def _append(plan: Plan, vd: VoyageDraws) -> None:
    cols = [getattr(vd, name)[0] for name in VOYAGE_FIELDS]  # (S, V) each
    rows = [np.asarray(col).tolist() for col in cols]
    caps = vd.capacity_bbl[0].tolist()
    for i, ship in enumerate(plan.ships):
        ship.voyages.extend(
            Voyage._make(values) for values in zip(*(r[i] for r in rows), strict=True)
        )
        if len(plan.capacity_bbl) <= i:
            plan.capacity_bbl.append([])
        plan.capacity_bbl[i].extend(caps[i])


def plan_ships(
    c: Compiled, seed: int, replication: int, fixed: Mapping[str, F64] | None = None
) -> Plan:
    """One replication's draws as per-ship plans of plain floats."""
    one = None if fixed is None else {k: np.asarray(v, dtype=float)[:1] for k, v in fixed.items()}
    sd = draw_ships(c, seed, [replication], one)
    ships = [
        ShipPlan(
            idx=i,
            ship_id=c.ship_ids[i],
            class_id=c.class_ids[int(c.ship_class[i])],
            start_place=int(sd.start_place[0, i]),
            start_offset_h=float(sd.start_offset_h[0, i]),
            laden_h={j: float(sd.laden_h[0, i, j]) for j in c.dist_nm},
            ballast_h={j: float(sd.ballast_h[0, i, j]) for j in c.dist_nm},
        )
        for i in range(c.n_ships)
    ]
    plan = Plan(ships, float(sd.p_detect[0]), sd, c, seed, one)
    _append(plan, draw_voyages(c, seed, sd, 0, VOYAGE_BLOCK, one))
    return plan


def parameters_of(draws: ShipDraws, c: Compiled) -> dict[str, Any]:
    """The fleet-level values drawn for each replication, for the per-replication table."""
    return draws.parameters(c)
