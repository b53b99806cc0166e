"""Calibration: the fleet-level unknowns fitted to the evidence by ABC-SMC (pyabc).

Approximate Bayesian computation needs no likelihood: it proposes values of the unknowns,
simulates the evidence they would have produced, and keeps the proposals whose simulated
evidence lies within a tolerance of the reported one. Sequential Monte Carlo (SMC) does this in
generations: each proposes around the particles the last one kept, with a tighter tolerance,
and weights them so that the kept particles are draws from the posterior (Beaumont et al.,
Biometrika 2009; Toni et al., J. R. Soc. Interface 2009). pyabc (Schaelte et al., JOSS 2022)
provides the algorithm: the adaptive tolerance (the median of the last generation's
distances), the proposal kernel (a multivariate normal fitted to the weighted particles), the
importance weights. tankersim provides:

* the **parameters**: every uncertain fleet-level value of the scenario (the ``[unknowns]`` and
  the inputs drawn once per replication for the whole fleet, such as the detection
  probability), each searched on its prior's quantile scale (a value ``q`` in (0, 1) stands for
  the prior's ``q``-quantile), so that the prior is uniform whatever its shape;
* the **statistics**: one per counted evidence row (visits seen, distinct tankers seen, volumes
  by period, the share by designated ships, tankers unloading), and one for the named ships'
  dated sightings together (how many of them a replication reproduces). Each is compared with
  the report by its relation (``=``, ``>=``, ``~`` within 20 %) and scaled by its spread under
  the prior (the median absolute deviation over a pilot of prior draws), so that no statistic
  dominates by its unit; the distance is the Euclidean norm of the scaled shortfalls;
* a **sampler** that simulates a generation's proposals in blocks of the vectorised engine
  (pyabc's own samplers run one simulation per call), streamed: proposals are drawn
  :data:`DRAW` at a time as jobs ask for them, enough jobs are kept submitted to reach the
  population, their verdicts are taken in proposal order, and what was drawn or simulated
  beyond the last needed row is dropped without a trace (:class:`Proposals`). Each simulated
  row is a replication with its own number, so its random numbers depend on that number
  alone: the result is the same whether blocks run here, in a process pool or on a Dask
  cluster, and however they are cut. The worker that simulates
  a block also judges it (:func:`judge_rows`: summary statistics, distances, acceptance, and
  the proposal density of the accepted rows), so the parent's serial work per generation is
  pyabc's own (the kernel fit, the tolerance, the weights' normalisation). On a pool the
  first generation's first jobs (and a companion calibration's pilot and first jobs) run
  while the parent imports pyabc (:func:`_start_first`, :func:`_start_ahead`);
* a **driver** that checkpoints the whole state after each generation, so an interrupted
  calibration resumes to the same result, bit for bit. It uses pyabc's public interface; what
  an exact resume needs beyond it is in :mod:`sim.runner.abc_adapter`.

The posterior is then run forward: every particle's values for ``calibration.replications``
replications, which give the posterior verdict (:mod:`sim.analysis.posterior`) and the
posterior predictive check.
"""

from __future__ import annotations

import bisect
import concurrent.futures as cf
import dataclasses
import gc
import json
import logging
import math
import os
import pickle
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.posterior import (
    Alternative,
    PosteriorVerdict,
    claim_quantities,
    ess,
    posterior_verdict,
    predictive_check,
    with_context,
)
from sim.core.config import Scenario, apply_overrides, fleet_level_keys, read_source, validate_dict
from sim.core.errors import MissingExtraError, OptionError, ScenarioError
from sim.core.evidence import APPROX, scenario_evidence
from sim.core.io import atomic_path, atomic_write_text
from sim.core.routes import RouteTable
from sim.model.observables import Observable
from sim.model.prepared import Model, batch_identity, prepare
from sim.runner import abc_adapter
from sim.runner.abc_history import Generations
from sim.runner.pipeline import (
    ExecOptions,
    Job,
    open_executor,
    output_folder,
    run_jobs,
)

log = logging.getLogger(__name__)

PILOT = 2000
"""Prior draws that set the statistics' scales (and give the prior predictive check)."""
CHUNK = 2500
"""Most rows in one job."""
DRAW = 1000
"""Proposals drawn at a time. A generation's proposals are the sequence of these draws, so
which proposals it makes does not depend on how they are cut into jobs, on how many workers
run them, or on how far ahead of need they are simulated (:class:`Proposals`)."""
MIN_JOB = 250
"""Fewest rows in a generation's job (a job of the vectorised engine costs about 50 ms
whatever its size)."""
MARGIN = 1.1
"""A generation keeps submitted the rows expected to give this many times the acceptances
still needed (at the acceptance rate seen so far)."""
FIRST_RATE = 0.5
"""The acceptance rate the first generation is expected to have: its tolerance is the median
distance of the prior draws (pyabc's ``QuantileEpsilon(alpha=0.5)``), and its proposals are
prior draws too."""
POSTERIOR_REPLICATION0 = 3_000_000_000
"""First replication number of the posterior runs (calibration uses 0, 1, 2, ...)."""
LATENT: tuple[str, ...] = (
    "trips",
    "observed_visits",
    "loaded_bbl",
    "delivered_bbl",
    "observed_bbl",
    "mean_parcel_bbl",
    "p_detect",
)
"""Per-replication quantities kept with every simulated particle (not fitted)."""
STALL = 1e-9
"""A calibration stops once its tolerance no longer shrinks (by more than this, in scaled
distance): the statistics are then matched as closely as their discreteness allows."""
SIGHTINGS = "named-sightings"
"""The statistic that counts the named ships' dated sightings a replication reproduces."""

ProgressFn = Callable[[dict[str, Any]], None]


# --------------------------------------------------------------------------- what is fitted


@dataclass(frozen=True)
class Parameter:
    """A calibrated unknown: pyabc's name for it, its scenario key and its prior."""

    name: str
    key: str
    dist: Any

    def value(self, q: np.ndarray) -> np.ndarray:
        """The unknown's values at prior quantiles ``q``."""
        return np.asarray(self.dist.ppf(np.clip(q, 1e-12, 1 - 1e-12)), dtype=float)


@dataclass(frozen=True)
class Statistic:
    """A summary statistic of the evidence: the sum of ``columns`` of the per-replication
    table, compared with ``target`` by ``relation``, in units of ``scale``."""

    name: str
    label: str
    columns: tuple[str, ...]
    relation: str
    target: float
    fitted: bool = True
    scale: float = 1.0
    source: str = ""
    basis: str = ""
    independence: str = ""
    why: str = ""
    """Why the statistic is not fitted (empty when it is)."""

    def raw(self, table: pd.DataFrame) -> np.ndarray:
        """The statistic in every row of ``table``."""
        values = table[list(self.columns)].to_numpy(dtype=float)
        return values.sum(axis=1)

    def gap(self, x: np.ndarray) -> np.ndarray:
        """How far ``x`` falls from agreeing with the report (0 where it agrees), signed; a
        statistic that cannot be computed (no seen visit to take a share of) counts as 0."""
        t = self.target
        x = np.where(np.isfinite(x), x, 0.0)
        d = x - t
        if self.relation == ">=":
            return np.minimum(d, 0.0)
        if self.relation == "<=":
            return np.maximum(d, 0.0)
        if self.relation == "~":
            return np.sign(d) * np.maximum(np.abs(d) - APPROX * abs(t), 0.0)
        return d

    def agrees(self, x: np.ndarray) -> np.ndarray:
        return self.gap(x) == 0

    def discrepancy(self, x: np.ndarray) -> np.ndarray:
        return self.gap(x) / self.scale

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "columns": list(self.columns),
            "relation": self.relation,
            "target": self.target,
            "fitted": self.fitted,
            "scale": self.scale,
            "source": self.source,
            "basis": self.basis,
            "independence": self.independence,
            "why": self.why,
        }


def calibration_parameters(scenario: Scenario) -> list[Parameter]:
    """Every uncertain fleet-level value of the scenario, in a stable order."""
    out = []
    for key, dist in fleet_level_keys(scenario).items():
        if dist.is_fixed:
            continue
        name = key.removeprefix("unknowns.").replace(".", "_")
        out.append(Parameter(name, key, dist))
    return out


def _why_not(ob: Observable, exclude: Sequence[str], evidence_set: str) -> str:
    """Why an observable's statistic is not fitted, or an empty string when it is."""
    if ob.suffix == ":all":
        return "another reading of a volume (all visits, seen or not): checked, not fitted"
    if ob.suffix == ":cycle":
        return "a named ship's cycle between two dated loadings: checked, not fitted"
    if ob.row.id in exclude:
        return "excluded by [calibration] exclude"
    if not ob.row.in_set(evidence_set):
        what = {"same-method": "made by the claim's own method", "claimants": "from the claimants"}
        return (
            f"{ob.row.basis} and {what.get(ob.row.independence, ob.row.independence)}: left "
            f"out by the evidence set '{evidence_set}'"
        )
    return ""


def calibration_statistics(
    observables: Sequence[Observable], exclude: Sequence[str] = (), evidence_set: str = "all"
) -> list[Statistic]:
    """The statistics of a scenario's evidence (see the module docstring). Rows in
    ``exclude``, rows the evidence set ``evidence_set`` leaves out
    (:data:`sim.core.evidence.EVIDENCE_SETS`), the alternative readings of volumes (all
    visits, ``:all``) and the named ships' cycles (``:cycle``) are kept for the predictive
    and held-out checks but not fitted."""
    out: list[Statistic] = []
    sightings: list[Observable] = []
    for ob in observables:
        if ob.measure == "ship_seen":
            sightings.append(ob)
            continue
        why = _why_not(ob, exclude, evidence_set)
        out.append(
            Statistic(
                name=ob.row.id + ob.suffix,
                label=f"{ob.row.id}{ob.suffix}: {ob.reported()}",
                columns=(ob.column,),
                relation=ob.relation,
                target=ob.target,
                fitted=not why,
                source=ob.row.source,
                basis=ob.row.basis,
                independence=ob.row.independence,
                why=why,
            )
        )
    if sightings:
        if SIGHTINGS in exclude:
            why = "excluded by [calibration] exclude"
        elif not any(ob.row.in_set(evidence_set) for ob in sightings):
            why = f"left out by the evidence set '{evidence_set}'"
        else:
            why = ""
        out.append(
            Statistic(
                name=SIGHTINGS,
                label=f"named ships seen on their reported dates: all {len(sightings)}",
                columns=tuple(ob.column for ob in sightings),
                relation="=",
                target=float(len(sightings)),
                fitted=not why,
                source="; ".join(sorted({ob.row.source.split(" via ")[0] for ob in sightings})),
                basis="counted",
                independence=", ".join(sorted({ob.row.independence for ob in sightings})),
                why=why,
            )
        )
    return out


def scaled(statistics: Sequence[Statistic], pilot: pd.DataFrame) -> list[Statistic]:
    """The statistics with their scales: the median absolute deviation (x 1.4826) of each
    over the pilot, else its standard deviation, else 1."""
    out = []
    for st in statistics:
        x = st.raw(pilot)
        x = x[np.isfinite(x)]
        s = 1.4826 * float(np.median(np.abs(x - np.median(x)))) if len(x) else 0.0
        if not s > 0:
            s = float(np.std(x)) if len(x) else 0.0
        if not s > 0:
            s = 1.0
        out.append(dataclasses.replace(st, scale=s))
    return out


# --------------------------------------------------------------------------- the set-up


@dataclass
class Setup:
    """Everything a calibration needs, built once from the scenario (and a prior set)."""

    scenario: Scenario
    routes: RouteTable
    observables: tuple[Observable, ...]
    parameters: list[Parameter]
    statistics: list[Statistic]
    prior: str
    seed: int
    engine: str = "fast"
    candidates: tuple[Observable, ...] = ()
    """Candidate evidence measured in the posterior runs (what would settle it)."""
    model: Model | None = None
    """The prepared scenario (what the jobs carry)."""

    @property
    def prepared(self) -> Model:
        """The prepared scenario (prepared now for a set-up made without one)."""
        if self.model is None:
            self.model = prepare(self.scenario, routes=self.routes)
        return self.model

    @property
    def fitted(self) -> list[Statistic]:
        return [s for s in self.statistics if s.fitted]

    @property
    def evidence_set(self) -> str:
        return self.scenario.calibration.evidence


def with_prior(raw: Mapping[str, Any], scenario: Scenario, prior: str, file: str) -> Scenario:
    """The scenario under one of its ``[priors.<name>]`` sets (``"scenario"``: its own)."""
    if prior == "scenario":
        return scenario
    if prior not in scenario.priors:
        names = ", ".join(["scenario", *scenario.priors])
        raise OptionError("prior", prior, f"no such prior set (choose one of {names})")
    overrides = {k: v.model_dump(exclude_none=True) for k, v in scenario.priors[prior].set.items()}
    try:
        sc = validate_dict(apply_overrides(raw, overrides, file=file), file=file)
    except ScenarioError as exc:
        raise ScenarioError(file, f"priors.{prior}: {exc.key}", exc.value, exc.reason) from None
    return sc.with_source(scenario._source_dir)


def setup(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    *,
    prior: str = "scenario",
    seed: int | None = None,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    evidence: str | None = None,
) -> Setup:
    """Validate the scenario (under ``prior``, with dotted-key ``overrides`` as ``--set``),
    its evidence and what will be fitted (the evidence set ``evidence``, default the
    scenario's ``[calibration] evidence``)."""
    if evidence is not None:
        from sim.core.evidence import EVIDENCE_SETS

        if evidence not in EVIDENCE_SETS:
            raise OptionError(
                "evidence",
                evidence,
                f"no such evidence set (choose one of {', '.join(EVIDENCE_SETS)})",
            )
        overrides = {**(overrides or {}), "calibration.evidence": evidence}
    if isinstance(scenario, Scenario):
        dumped = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
        file, raw = read_source(dumped, overrides)
        base = scenario
        if overrides:
            base = validate_dict(raw, file=file).with_source(scenario._source_dir)
    else:
        file, raw = read_source(scenario, overrides)
        base = validate_dict(raw, file=file)
        if not isinstance(scenario, Mapping):
            base = base.with_source(Path(scenario).parent)
    sc = with_prior(raw, base, prior, file)
    ev = scenario_evidence(sc)
    if ev is None:
        raise ScenarioError(file, "evidence", None, "calibration needs an evidence file")
    cl = sc.claims
    if cl.trips is None or cl.barrels is None:
        raise ScenarioError(file, "claims", None, "calibration needs claims.trips and barrels")
    model = prepare(sc, cache_dir=cache_dir, file=file)
    sc, routes, c, observables = model.scenario, model.routes, model.compiled, model.observables
    ids = {ob.row.id for ob in observables} | {SIGHTINGS}
    for i, row_id in enumerate(sc.calibration.exclude):
        if row_id not in ids:
            raise ScenarioError(
                file, f"calibration.exclude.{i}", row_id, "no evidence row the model uses"
            )
    params = calibration_parameters(sc)
    if not params:
        raise ScenarioError(
            file, "unknowns", None, "nothing to calibrate: no uncertain fleet-level value"
        )
    stats = calibration_statistics(observables, sc.calibration.exclude, sc.calibration.evidence)
    if not any(s.fitted for s in stats):
        raise ScenarioError(
            file,
            "calibration.evidence",
            sc.calibration.evidence,
            "no evidence row left to fit (see each row's basis and independence, and exclude)",
        )
    from sim.model.observables import month_observables

    return Setup(
        sc, routes, observables, params, stats, prior, sc.seed if seed is None else seed,
        candidates=month_observables(c), model=model,
    )  # fmt: skip


# --------------------------------------------------------------------------- simulation


class Simulator:
    """Runs rows of (parameter quantiles, replication number) through the engine, in jobs of
    :data:`CHUNK` rows on an executor, and returns their per-replication table."""

    def __init__(self, s: Setup, options: ExecOptions) -> None:
        self.s = s
        self.options = options
        self.executor: Any = None
        self.rows_run = 0
        self.accepted: dict[tuple[float, ...], list[float]] = {}
        """The last generation's accepted statistics (see :func:`run_abc`)."""
        self.finished_before = False
        """Whether :func:`run_abc` found the calibration already finished (a resume)."""
        self.prior_sample: tuple[np.ndarray, np.ndarray] | None = None
        """The pilot's quantiles and statistics (:func:`stat_names` order), which serve
        pyabc's draw from the prior (see :func:`_calibrate_one`)."""
        self.early: Early | None = None
        """The first generation's first jobs, submitted with the pilot (:func:`_start_first`)."""

    def __getstate__(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["executor"] = None  # reattached on resume
        d["prior_sample"] = None  # served before the first checkpoint
        d["early"] = None  # taken by the first generation, before its checkpoint
        return d

    def _job(self, q: np.ndarray, reps: np.ndarray, extra: tuple[Observable, ...] = ()) -> Job:
        """The job of rows ``q`` (n x parameters) and replications ``reps``."""
        s = self.s
        return Job(
            s.prepared,
            s.seed,
            0,
            tuple(np.asarray(reps, dtype=np.int64).tolist()),
            daily=False,
            observables=s.observables + extra,
            engine=s.engine,  # type: ignore[arg-type]
            fixed={
                p.key: tuple(np.asarray(p.value(q[:, j]), dtype=float).tolist())
                for j, p in enumerate(s.parameters)
            },
        )

    def _jobs(
        self, q: np.ndarray, reps: np.ndarray, extra: tuple[Observable, ...] = ()
    ) -> list[Job]:
        """The jobs of rows ``q`` and replications ``reps``, an even share for every
        worker (:func:`_spread`)."""
        return [
            self._job(q[a:b], reps[a:b], extra)
            for a, b in _spread(len(reps), self.options.n_workers)
        ]

    def table_later(
        self, q: np.ndarray, reps: np.ndarray, extra: tuple[Observable, ...] = ()
    ) -> Callable[[], pd.DataFrame]:
        """:meth:`table`, its jobs submitted now and their results gathered when the returned
        function is called (in this process, with no executor, run now)."""
        jobs = self._jobs(q, reps, extra)
        if self.executor is None:
            done = [run_jobs([job])[0] for job in jobs]
        else:
            futures = [self.executor.submit(run_jobs, [job]) for job in jobs]

        def gather() -> pd.DataFrame:
            parts = done if self.executor is None else [f.result()[0] for f in futures]
            self.rows_run += len(reps)
            return pd.concat(parts, ignore_index=True)  # in submission order

        return gather

    def table(
        self,
        q: np.ndarray,
        reps: np.ndarray,
        extra: tuple[Observable, ...] = (),
        *,
        meanwhile: Callable[[], Any] = lambda: None,
    ) -> pd.DataFrame:
        """The per-replication table of rows ``q`` (n x parameters) and replications ``reps``
        (with the columns of ``extra`` observables too). ``meanwhile`` runs here while the
        workers simulate (after the simulation, in this process)."""
        gather = self.table_later(q, reps, extra)
        meanwhile()
        return gather()

    def capacity(self) -> tuple[int, int]:
        """How many jobs run at once, and how many a caller may keep submitted (queued
        behind the running ones, so that no worker waits for the parent): (1, 1) in this
        process."""
        if self.executor is None:
            return 1, 1
        w = self.options.n_workers
        return w, 2 * w

    def submit(self, q: np.ndarray, reps: np.ndarray, judge: Judge) -> cf.Future[Judged]:
        """Rows ``q`` (replications ``reps``) simulated and judged by ``judge`` as one job
        (:func:`judge_rows`), in a worker; in this process (no executor) at once."""
        job = self._job(q, reps)
        if self.executor is None:
            fut: cf.Future[Judged] = cf.Future()
            fut.set_result(judge_rows(job, q, judge))
            return fut
        future: cf.Future[Judged] = self.executor.submit(judge_rows, job, q, judge)
        return future


@dataclass(frozen=True)
class Judge:
    """How a generation's rows are judged where they are simulated: the statistics (fitted
    first in the distance), the tolerance (None: pyabc's draw from the prior, which accepts
    every row at an infinite distance) and the proposal kernel whose density weighs the
    accepted rows (None: weight 1)."""

    statistics: tuple[Statistic, ...]
    eps: float | None
    kernel: abc_adapter.Kernel | None
    names: tuple[str, ...]
    """The parameters' names, in the order of the rows' columns."""


@dataclass(frozen=True)
class Judged:
    """The verdicts on a block of rows: every row's distance and acceptance, and the summary
    statistics (:func:`stat_names` order) and kernel density of the accepted rows only (in
    row order; density empty without a kernel), so that a worker sends back little."""

    distance: np.ndarray
    accepted: np.ndarray
    statistics: np.ndarray
    density: np.ndarray


def judge_rows(job: Job, q: np.ndarray, judge: Judge) -> Judged:
    """Simulate ``job`` (the rows ``q``) and judge its rows (in a worker): summary
    statistics, distance, acceptance and, for the accepted rows, the proposal density. Each
    row's numbers are those the parent would compute from the whole block, bit for bit."""
    return judge_table(run_jobs([job])[0], q, judge)


def judge_table(table: pd.DataFrame, q: np.ndarray, judge: Judge) -> Judged:
    """The verdicts on rows ``q`` whose per-replication table is ``table`` (see
    :func:`judge_rows`, which simulates the table first)."""
    S = statistics_matrix(judge.statistics, table)
    if judge.eps is None:
        dist = np.full(len(S), np.inf)
        accepted = np.ones(len(S), dtype=bool)
    else:
        k_d = sum(1 for st in judge.statistics if st.fitted)
        dist = np.sqrt(np.sum(S[:, :k_d] ** 2, axis=1))
        accepted = dist <= judge.eps
    density = np.empty(0)
    if judge.kernel is not None:
        cols = [judge.names.index(c) for c in judge.kernel.columns]
        density = judge.kernel.density(q[accepted][:, cols])
    return Judged(dist, accepted, S[accepted], density)


class Proposals:
    """A generation's proposals, drawn :data:`DRAW` at a time as jobs ask for rows (``draw``
    gives the rows of one draw that lie inside the prior's support), with numpy's global
    random state after every draw, so that the generation can leave that state as it was
    after the draw that made its last needed row, however many rows were drawn beyond it."""

    def __init__(self, draw: Callable[[int], np.ndarray]) -> None:
        self._draw = draw
        self._parts: list[np.ndarray] = []
        self._q: np.ndarray | None = None
        self.ends: list[int] = []
        """The rows drawn after each draw."""
        self._states: list[Any] = []

    def rows(self, a: int, b: int) -> np.ndarray:
        """Rows ``a`` to ``b`` (exclusive) of the sequence, drawn as needed."""
        while not self.ends or self.ends[-1] < b:
            q = self._draw(DRAW)
            self._parts.append(q)
            self.ends.append((self.ends[-1] if self.ends else 0) + len(q))
            self._states.append(np.random.get_state())  # noqa: NPY002 - pyabc's state
            self._q = None
        if self._q is None:
            self._q = np.concatenate(self._parts)
        return self._q[a:b]

    def rewind(self, row: int) -> int:
        """Give numpy's global random state what it was after the draw that made row
        ``row``; return the rows drawn up to that draw."""
        d = bisect.bisect_right(self.ends, row)
        np.random.set_state(self._states[d])  # noqa: NPY002 - pyabc's state
        return self.ends[d]


@dataclass
class Early:
    """The first generation's first jobs, simulated while the parent imports pyabc (see
    :func:`_start_first`): the rows they run and, for each job, its rows ``[a, b)`` and the
    future of its per-replication table."""

    q: np.ndarray
    jobs: list[tuple[int, int, cf.Future[Any]]]


class _Later:
    """A job that ran before its generation's tolerance was known: its rows are judged here,
    when its verdicts are asked for (:func:`judge_table`, as a worker would judge them)."""

    def __init__(self, future: cf.Future[Any], q: np.ndarray, judge: Judge) -> None:
        self.future, self.q, self.judge = future, q, judge

    def result(self) -> Judged:
        return judge_table(self.future.result()[0], self.q, self.judge)

    def cancel(self) -> bool:
        return self.future.cancel()


def _job_plan(short: float, rate: float, workers: int) -> tuple[int, int]:
    """How many equal jobs, of how many rows each, are expected to give ``short`` more
    acceptances (with :data:`MARGIN`) at acceptance rate ``rate``: a multiple of
    ``workers`` jobs of at most :data:`CHUNK` rows and at least :data:`MIN_JOB`."""
    want = math.ceil(MARGIN * max(short, 1.0) / rate)
    jobs = workers * math.ceil(want / (workers * CHUNK))
    return jobs, max(MIN_JOB, math.ceil(want / jobs))


def _start_first(s: Setup, sim: Simulator) -> None:
    """Submit the first generation's first jobs behind the pilot's, before pyabc is imported.

    The parent imports pyabc (over a second, most of it scikit-learn) while the workers run
    the pilot, which is done first: the workers would wait. The first generation's proposals
    are prior draws, uniform on (0, 1) for every parameter, from numpy's global random state
    seeded with the calibration's seed, the same way pyabc's prior draws them (a block of
    :data:`DRAW` values per parameter, in the parameters' order); its tolerance is not known
    yet, so these jobs return their tables and are judged when the generation takes them.
    The generation takes them only if its own proposals are these rows (else they are
    dropped): the result is the same either way, bit for bit; only the time differs. In this
    process (no executor) nothing is done ahead."""
    if sim.executor is None:
        return
    workers, depth = sim.capacity()
    count, size = _job_plan(s.scenario.calibration.population, FIRST_RATE, workers)
    count = min(count, depth)
    rng = np.random.RandomState(_numpy_seed(s.seed))  # as _global_rng seeds pyabc's
    draws = [
        np.column_stack([rng.uniform(0.0, 1.0, DRAW) for _ in s.parameters])
        for _ in range(math.ceil(count * size / DRAW))
    ]
    q = np.concatenate(draws)[: count * size]
    jobs = []
    for k in range(count):
        a, b = k * size, (k + 1) * size
        job = sim._job(q[a:b], np.arange(a, b))  # the first generation's replications: 0, 1, ...
        jobs.append((a, b, sim.executor.submit(run_jobs, [job])))
    sim.early = Early(q, jobs)


def _spread(n: int, workers: int) -> list[tuple[int, int]]:
    """``[a, b)`` bounds of the jobs for ``n`` rows on ``workers`` workers: a multiple of
    ``workers`` jobs of near-equal size (at most :data:`CHUNK` rows), so that every worker gets
    an even share of a generation. The rows' results do not depend on how they are cut."""
    if n == 0:
        return []
    k = workers * math.ceil(n / (workers * CHUNK))
    k = min(k, n)
    edges = [round(i * n / k) for i in range(k + 1)]
    return [(edges[i], edges[i + 1]) for i in range(k) if edges[i + 1] > edges[i]]


def stat_names(s: Setup) -> list[str]:
    """pyabc's summary statistics: the fitted discrepancies, then the raw statistics and the
    latent quantities (weight 0 in the distance: kept, not fitted)."""
    return (
        [f"d:{st.name}" for st in s.fitted]
        + [f"x:{st.name}" for st in s.statistics]
        + [f"y:{name}" for name in LATENT]
    )


def stat_matrix(s: Setup, table: pd.DataFrame) -> np.ndarray:
    """The summary statistics of every row of a simulated table, in :func:`stat_names` order."""
    return statistics_matrix(s.statistics, table)


def statistics_matrix(statistics: Sequence[Statistic], table: pd.DataFrame) -> np.ndarray:
    """:func:`stat_matrix` from the statistics alone (what a worker has)."""
    cols = [st.discrepancy(st.raw(table)) for st in statistics if st.fitted]
    cols += [st.raw(table) for st in statistics]
    cols += [table[name].to_numpy(dtype=float) for name in LATENT]
    return np.column_stack(cols)


# --------------------------------------------------------------------------- the pyabc sampler


def _pyabc() -> Any:
    try:
        import pyabc
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("pyabc", "calibrate", "calibration") from None
    return pyabc


def _require_pyabc() -> None:
    """Refuse at once, in one line, where pyabc is not installed; it is imported later,
    while the workers run the pilot (:func:`_pilot` in :func:`_calibrate_one`)."""
    import importlib.util

    if importlib.util.find_spec("pyabc") is None:
        raise MissingExtraError("pyabc", "calibrate", "calibration")


def make_sampler(sim: Simulator, names: list[str], statistics: list[str]) -> Any:
    """A pyabc sampler that simulates a generation's proposals in blocks (see the module
    docstring); pyabc must be importable. It uses pyabc's public sampler interface only: the
    prior, the proposal kernel and the tolerance come in ``ana_vars``, and ``all_accepted``
    marks pyabc's draw from the prior (which sets the first tolerance)."""
    pyabc = _pyabc()

    class BlockSampler(pyabc.Sampler):  # type: ignore[name-defined]
        """Draws many proposals at once, simulates them in blocks, accepts those within the
        tolerance, and stops at the n-th acceptance in proposal order: the sample pyabc's
        one-at-a-time sampler would return for the same proposals."""

        def __init__(self) -> None:
            super().__init__()
            self.sim = sim
            self.names = names
            self.statistics = statistics
            self.next_replication = 0
            self.rates: list[float] = []
            """Each generation's acceptance rate (pyabc's draw from the prior left out)."""
            self.log: list[dict[str, Any]] = []
            self.accepted: dict[tuple[float, ...], list[float]] = {}
            """The summary statistics of the last generation's accepted particles, by their
            parameter values (pyabc's history stores parameters and distances only)."""

        def _propose(self, ana_vars: Any, from_prior: bool, t: int, size: int) -> np.ndarray:
            if from_prior or t == 0:
                draws = ana_vars.parameter_priors[0].rvs(size=size)
                return np.column_stack([np.asarray(draws[n], dtype=float) for n in self.names])
            df = ana_vars.transitions[0].rvs(size=size)[self.names]
            q = df.to_numpy(dtype=float)
            inside = np.all((q > 0) & (q < 1), axis=1)  # the prior is uniform on (0, 1)
            return q[inside]

        def _expected_rate(self) -> float:
            """The acceptance rate this generation is expected to have: the last one's, times
            the last change (tolerances tighten at a steady pace), within reason. It sizes
            the first jobs only; the proposals and the result do not depend on it."""
            if not self.rates:
                return FIRST_RATE
            change = 1.0
            if len(self.rates) > 1:
                change = min(1.0, max(0.25, self.rates[-1] / self.rates[-2]))
            return max(self.rates[-1] * change, 1e-4)

        def _particle(
            self,
            q: np.ndarray,
            stats: np.ndarray,
            weight: float,
            distance: float,
            kept: dict[tuple[float, ...], list[float]],
        ) -> Any:
            """pyabc's particle of an accepted row (quantiles ``q``, statistics ``stats``),
            its statistics kept by its parameter values."""
            kept[tuple(q.tolist())] = stats.tolist()
            return pyabc.Particle(
                m=0,
                parameter=pyabc.Parameter(dict(zip(self.names, q.tolist(), strict=True))),
                weight=float(weight),
                sum_stat=dict(zip(self.statistics, stats.tolist(), strict=True)),
                distance=float(distance),
                accepted=True,
                proposal_id=0,
                preliminary=False,
            )

        def _from_pilot(self, n: int, t: int, q: np.ndarray, stats: np.ndarray) -> Any:
            """pyabc's draw from the prior, which sets the first tolerance: the pilot's
            first ``n`` rows, prior draws already simulated (their distances are pyabc's to
            compute, as after any draw from the prior)."""
            sample = self.sample_factory()
            kept: dict[tuple[float, ...], list[float]] = {}
            for i in range(n):
                sample.append(self._particle(q[i], stats[i], 1.0, np.inf, kept))
            self.nr_evaluations_ = n
            self.accepted = kept
            self.log.append({"t": t, "evaluations": n, "simulated": self.sim.rows_run})
            return sample

        def sample_until_n_accepted(
            self,
            n: int,
            simulate_one: Any,
            t: int,
            *,
            max_eval: float = np.inf,
            all_accepted: bool = False,
            ana_vars: Any = None,
        ) -> Any:
            if ana_vars is None:  # pragma: no cover - pyabc's ABCSMC always passes them
                raise TypeError("pyabc gave the sampler no analysis variables (ana_vars)")
            from_prior = all_accepted  # pyabc's draw from the prior: every particle accepted
            pilot = self.sim.prior_sample
            if from_prior and pilot is not None and n <= len(pilot[0]):
                return self._from_pilot(n, t, *pilot)
            judge = Judge(
                tuple(self.sim.s.statistics),
                None if from_prior else float(ana_vars.eps(t)),
                None if from_prior or t == 0 else abc_adapter.kernel(ana_vars.transitions[0]),
                tuple(self.names),
            )
            stream = Proposals(lambda size: self._propose(ana_vars, from_prior, t, size))
            base = self.next_replication
            rate = 1.0 if from_prior else self._expected_rate()
            workers, depth = self.sim.capacity()
            sample = self.sample_factory()
            kept: dict[tuple[float, ...], list[float]] = {}
            n_acc, done, sent, last = 0, 0, 0, -1
            flight: deque[tuple[int, int, cf.Future[Judged] | _Later]] = deque()
            early, self.sim.early = self.sim.early, None
            if early is not None:
                # the first generation's first jobs, run while pyabc was imported: taken
                # if they are this generation's first proposals (see _start_first)
                first = t == 0 and not from_prior and base == 0
                if first and np.array_equal(stream.rows(0, len(early.q)), early.q):
                    for a0, b0, ran in early.jobs:
                        flight.append((a0, b0, _Later(ran, early.q[a0:b0], judge)))
                    sent = len(early.q)
                else:
                    for _, _, ran in early.jobs:
                        ran.cancel()
            while last < 0:
                # Keep submitted the rows expected to reach n acceptances, in equal jobs,
                # as many as a multiple of the workers.
                short = n - n_acc - rate * (sent - done)
                if short > 0 or not flight:
                    jobs, size = _job_plan(short, rate, workers)
                    for _ in range(min(jobs, depth - len(flight))):
                        q = stream.rows(sent, sent + size)
                        reps = np.arange(base + sent, base + sent + size)
                        flight.append((sent, sent + size, self.sim.submit(q, reps, judge)))
                        sent += size
                a, b, future = flight.popleft()
                v = future.result()  # jobs are taken in proposal order
                q = stream.rows(a, b)
                cum = np.cumsum(v.accepted)
                need = n - n_acc
                stop = b - a if cum[-1] < need else int(np.searchsorted(cum, need)) + 1
                acc = np.flatnonzero(v.accepted[:stop])
                weights = np.ones(len(acc))
                if judge.kernel is not None:
                    weights = 1.0 / v.density[: len(acc)]  # the prior density is 1
                for k, i in enumerate(acc):
                    sample.append(
                        self._particle(q[i], v.statistics[k], weights[k], v.distance[i], kept)
                    )
                n_acc += len(acc)
                done = a + stop
                if n_acc >= n:
                    last = done - 1
                elif not from_prior:
                    rate = n_acc / done if n_acc else rate / 4
            for _, _, future in flight:  # proposed beyond the n-th acceptance: not needed
                future.cancel()
            used = stream.rewind(last)
            self.next_replication = base + used
            self.sim.rows_run += done
            self.nr_evaluations_ = done
            self.accepted = kept
            if not from_prior:
                self.rates.append(n_acc / done)
            self.log.append({"t": t, "evaluations": done, "simulated": self.sim.rows_run})
            return sample

    return BlockSampler()


def _never(_: Any) -> dict[str, float]:  # pragma: no cover - the sampler simulates
    raise RuntimeError("tankersim's sampler runs the model; pyabc never calls it")


def make_abc(s: Setup, sim: Simulator) -> Any:
    """The pyabc ABC-SMC object of a set-up (pyabc's proposal kernel, tolerance schedule
    and weights; tankersim's distance statistics and sampler)."""
    pyabc = _pyabc()
    names = [p.name for p in s.parameters]
    stats = stat_names(s)
    prior = pyabc.Distribution(**{n: pyabc.RV("uniform", 0.0, 1.0) for n in names})
    weights = {name: (1.0 if name.startswith("d:") else 0.0) for name in stats}
    return pyabc.ABCSMC(
        models=_never,
        parameter_priors=prior,
        distance_function=pyabc.PNormDistance(p=2, fixed_weights=weights),
        population_size=s.scenario.calibration.population,
        transitions=pyabc.MultivariateNormalTransition(),
        eps=pyabc.QuantileEpsilon(alpha=0.5),
        sampler=make_sampler(sim, names, stats),
    )


# --------------------------------------------------------------------------- the driver


@contextmanager
def _quiet_pyabc() -> Iterator[None]:
    """pyabc logs every generation at INFO on its own handler; the caller gets tankersim's
    progress instead (the level is given back afterwards)."""
    _pyabc()  # its import sets the level: set ours after it
    logger = logging.getLogger("ABC")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _numpy_seed(seed: int) -> int:
    """The seed numpy's legacy generator takes for a calibration's seed (32 bits)."""
    return seed % 2**32


@contextmanager
def _global_rng(seed: int | None) -> Iterator[None]:
    """pyabc draws from numpy's global random state: seed it, and give the caller's back."""
    saved = np.random.get_state()  # noqa: NPY002 - pyabc's own random state
    if seed is not None:
        np.random.seed(_numpy_seed(seed))  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(saved)  # noqa: NPY002


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the objects that exist now (the modules, the set-up, the pilot) out of the garbage
    collector's full collections while the generations run, and give them back afterwards.
    Each generation makes thousands of short-lived objects (pyabc's particles and parameters),
    which set off full collections of the whole heap (0.07 s of the driver's 0.33 s of serial
    work per generation on the baseline at population 300, when pyabc's database was written).
    The results do not change. A heap already frozen (by the caller) is left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _save(path: Path, abc: Any, t: int, finished: bool) -> None:
    """Checkpoint the calibration after generation ``t``: pyabc's state
    (:func:`sim.runner.abc_adapter.snapshot`), the sampler's and numpy's random state."""
    import cloudpickle

    state = {
        "t": t,
        "finished": finished,
        "abc": abc_adapter.snapshot(abc),
        "sampler": cloudpickle.dumps(abc.sampler),
        "rng": np.random.get_state(),  # noqa: NPY002 - pyabc's random state
    }
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        pickle.dump(state, fh)
        fh.flush()
        os.fsync(fh.fileno())


def run_abc(
    s: Setup,
    sim: Simulator,
    folder: Path,
    *,
    resume: bool,
    progress: ProgressFn | None = None,
) -> Generations:
    """Run (or continue) the ABC-SMC of ``s`` in ``folder``, whose ``calibration.ckpt`` holds
    the state and the generations after the last finished one. Returns the history (every
    generation). Same set-up and seed: the same history, interrupted or not. A checkpoint of
    an older tankersim (whose history was pyabc's database) is run again, to the same result."""
    _pyabc()
    ckpt = folder / "calibration.ckpt"
    cal = s.scenario.calibration
    state = None
    if resume and ckpt.exists():
        with ckpt.open("rb") as fh:
            state = pickle.load(fh)
        if not abc_adapter.has_history(state["abc"]):
            state = None  # an older tankersim's checkpoint (pyabc's database): run again
    if state is not None:
        sampler = pickle.loads(state["sampler"])
        sim.rows_run = sampler.sim.rows_run
        if state["finished"]:  # read, not run: pyabc's own state is not needed
            sim.accepted = sampler.accepted
            sim.finished_before = True
            return abc_adapter.snapshot_history(state["abc"])
        abc = abc_adapter.restore(state["abc"])
        sampler.sim = sim
        abc.sampler = sampler
        np.random.set_state(state["rng"])  # noqa: NPY002
        t = state["t"] + 1
    else:
        ckpt.unlink(missing_ok=True)
        (folder / "abc.db").unlink(missing_ok=True)  # pyabc's database, from older versions
        abc = make_abc(s, sim)
        x0 = {name: 0.0 for name in stat_names(s)}
        for st in s.statistics:
            x0[f"x:{st.name}"] = st.target
        abc_adapter.new(abc, x0, folder)  # pyabc's set-up, then the history of our own
        t = abc.initialize_components_before_run(
            minimum_epsilon=0.0,
            max_nr_populations=cal.generations,
            min_acceptance_rate=cal.min_acceptance,
            max_total_nr_simulations=np.inf,
            max_walltime=None,
            min_eps_diff=STALL,
        )
        _save(ckpt, abc, t - 1, False)
    while True:
        t0 = time.perf_counter()
        ret = abc.run_generation(t=t)
        if not ret["successful"]:
            _save(ckpt, abc, t - 1, True)
            break
        stop = bool(abc.check_terminate(t=t, acceptance_rate=ret["acceptance_rate"]))
        _save(ckpt, abc, t, stop)
        if progress is not None:
            progress(
                {
                    "generation": t,
                    "epsilon": float(abc.eps(t)),
                    "acceptance_rate": float(ret["acceptance_rate"]),
                    "simulated": sim.rows_run,
                    "seconds": time.perf_counter() - t0,
                    "last": stop,
                }
            )
        if stop:
            break
        t += 1
    sim.accepted = abc.sampler.accepted
    history: Generations = abc.history
    return history


# --------------------------------------------------------------------------- results


@dataclass
class CalibrationResult:
    """A calibration's posterior, its diagnostics, the posterior verdict and the checks."""

    setup: Setup
    posterior: pd.DataFrame
    """One row per particle of the last generation: ``weight``, every parameter's value (its
    key) and quantile (``q:<name>``), the raw statistics (``x:``) and latent quantities
    (``y:``) of its accepted simulation, and its ``distance``."""
    diagnostics: pd.DataFrame
    """One row per generation: tolerance, proposals simulated, acceptance rate, ESS."""
    replications: pd.DataFrame
    """The posterior runs: ``particle``, ``weight`` and the per-replication table."""
    verdict: PosteriorVerdict
    predictive: pd.DataFrame
    pilot: pd.DataFrame
    elapsed_s: float
    simulated: int
    out_dir: Path | None = None
    identity: dict[str, Any] = field(default_factory=dict)
    companions: dict[str, CalibrationResult] = field(default_factory=dict)
    """The calibrations under the other evidence sets compared (by set name)."""

    def __repr__(self) -> str:
        from sim.core.reprs import clip, short_repr

        return short_repr(
            "CalibrationResult",
            self.setup.scenario.name,
            f"prior {clip(self.setup.prior, 40)}, {len(self.posterior)} particles, "
            f"{len(self.diagnostics)} generations, {self.simulated:,} simulations; "
            f"{self.verdict.word}, P(seen) {self.verdict.seen.p:.2f}",
        )

    def _repr_html_(self) -> str:
        from sim.core.reprs import html_summary

        v = self.verdict
        rows: list[tuple[str, object]] = [
            ("prior set", self.setup.prior),
            ("particles", f"{len(self.posterior):,}"),
            ("simulations", f"{self.simulated:,}"),
            ("P(seen visits carried the claim | evidence)", f"{v.seen.p:.0%} ± {v.seen.mcse:.1%}"),
            ("P(fleet loaded the claim | evidence)", f"{v.fleet.p:.0%} ± {v.fleet.mcse:.1%}"),
            ("verdict", v.word),
        ]
        for key, iv in v.parameters.items():
            rows.append((key, f"{iv.median:,.4g} (90 %: {iv.lo:,.4g}-{iv.hi:,.4g})"))
        return html_summary(f"Calibration: {self.setup.scenario.name}", rows)


def _posterior(
    history: Any, s: Setup, stats: Mapping[tuple[float, ...], list[float]]
) -> pd.DataFrame:
    """The last generation's particles, with the statistics the sampler kept for them
    (``stats``, by parameter values)."""
    pop = history.get_population(t=history.max_t)
    names = stat_names(s)
    rows = []
    for part in pop.particles:
        row: dict[str, Any] = {"weight": part.weight, "distance": part.distance}
        qs = []
        for p in s.parameters:
            q = float(part.parameter[p.name])
            qs.append(q)
            row[f"q:{p.name}"] = q
            row[p.key] = float(p.value(np.asarray([q]))[0])
        for name, v in zip(names, stats[tuple(qs)], strict=True):
            if not name.startswith("d:"):
                row[name] = float(v)
        rows.append(row)
    df = pd.DataFrame(rows)
    df["weight"] = df["weight"] / df["weight"].sum()
    order = np.lexsort([df[f"q:{p.name}"].to_numpy() for p in reversed(s.parameters)])
    return df.iloc[order].reset_index(drop=True)


def _diagnostics(history: Any) -> pd.DataFrame:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "generation": pops["t"].astype(int),
            "epsilon": pops["epsilon"].astype(float),
            "simulations": pops["samples"].astype(int),
            "particles": pops["particles"].astype(int),
        }
    )
    out["acceptance_rate"] = out["particles"] / out["simulations"]
    out["ess"] = [ess(history.get_distribution(m=0, t=int(t))[1]) for t in out["generation"]]
    return out


def posterior_runs(
    s: Setup, sim: Simulator, posterior: pd.DataFrame, replications: int
) -> pd.DataFrame:
    """Every particle's values for ``replications`` replications (numbers from
    :data:`POSTERIOR_REPLICATION0`, particle-major); columns ``particle`` and ``weight`` (the
    particle's weight / replications) lead the per-replication table."""
    n = len(posterior)
    q = posterior[[f"q:{p.name}" for p in s.parameters]].to_numpy(dtype=float)
    q = np.repeat(q, replications, axis=0)
    reps = POSTERIOR_REPLICATION0 + np.arange(n * replications)
    table = sim.table(q, reps, s.candidates)
    table.insert(0, "particle", np.repeat(np.arange(n), replications))
    table.insert(
        1, "weight", np.repeat(posterior["weight"].to_numpy(), replications) / replications
    )
    for p in s.parameters:
        table[p.key] = np.repeat(posterior[p.key].to_numpy(), replications)
    return table


COMPARE: tuple[str, ...] = ("all",)
"""The evidence sets a calibration is compared with by default (see :func:`calibrate`)."""


def companion_folder(out: str | Path, evidence: str) -> Path:
    """Where :func:`calibrate` keeps the calibration under another evidence set."""
    return Path(out) / f"evidence-{evidence}"


def calibrate(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    *,
    prior: str = "scenario",
    seed: int | None = None,
    options: ExecOptions | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    population: int | None = None,
    generations: int | None = None,
    replications: int | None = None,
    progress: ProgressFn | None = None,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    evidence: str | None = None,
    compare: Sequence[str] = COMPARE,
    on_stage: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Fit the scenario's fleet-level unknowns to its evidence (see the module docstring).

    ``evidence`` names the evidence set fitted (default: the scenario's
    ``[calibration] evidence``, itself ``independent`` by default). Each set in ``compare``
    that fits other rows is calibrated too, with the same settings (in
    ``out/evidence-<set>/``), and its answer stands beside this one in the verdict
    (``verdict.alternatives``; ``result.companions``): the answer with and without the rows
    that depend on the claim. ``population``, ``generations`` and ``replications`` override
    the scenario's ``[calibration]`` table. With ``out`` the history and checkpoints are kept
    there and ``resume=True`` continues an interrupted calibration; the same scenario, prior
    and seed give the same result, bit for bit, on any executor and number of workers.
    ``on_stage`` is called with a line before each calibration starts.
    """
    _require_pyabc()  # a missing extra is one line before anything starts
    kw: dict[str, Any] = {
        "prior": prior, "seed": seed, "options": options, "resume": resume,
        "population": population, "generations": generations, "replications": replications,
        "progress": progress, "cache_dir": cache_dir, "overrides": overrides,
    }  # fmt: skip
    main_s = setup(scenario, prior=prior, seed=seed, cache_dir=cache_dir, overrides=overrides,
                   evidence=evidence)  # fmt: skip
    others: dict[str, Setup] = {}
    for name in compare:
        if name == main_s.evidence_set:
            continue
        other = setup(scenario, prior=prior, seed=seed, cache_dir=cache_dir,
                      overrides=overrides, evidence=name)  # fmt: skip
        if {st.name for st in other.fitted} != {st.name for st in main_s.fitted}:
            others[name] = other
    if on_stage is not None and others:
        on_stage(f"evidence set {main_s.evidence_set}:")
    opts = options or ExecOptions()
    with open_executor(opts) as ex:
        # On a pool, the companions' pilots and first jobs run while the first calibration
        # imports pyabc (a fresh calibration only: a resumed one has its pilots).
        ahead: dict[str, Ahead] = {}

        def start_ahead() -> None:
            for name, other in others.items():
                ahead[name] = _start_ahead(
                    other, opts, ex, population=population, generations=generations,
                    replications=replications,
                )  # fmt: skip

        also = start_ahead if _pooled(opts) and not resume and others else None
        result = _calibrate_one(main_s, out=out, executor=ex, also=also, **kw)
        companions = {}
        for name, other in others.items():
            if on_stage is not None:
                on_stage(f"evidence set {name}:")
            sub = None if out is None else companion_folder(out, name)
            companions[name] = _calibrate_one(
                other, out=sub, executor=ex, ahead=ahead.get(name), **kw
            )
    if not others:
        return result
    alternatives = []
    for name, r in companions.items():
        result.companions[name] = r
        v = r.verdict
        alternatives.append(
            Alternative(
                name, v.prior, v.seen.p, v.seen.mcse, v.fleet.p, v.fleet.mcse, v.word,
                v.fitted,
            )
        )  # fmt: skip
    v = result.verdict
    result.verdict = with_context(
        v,
        evidence_set=v.evidence_set,
        fitted=v.fitted,
        held_out=v.held_out,
        settle=v.settle,
        alternatives=alternatives,
    )
    return result


def _calibrate_one(
    scenario: str | Path | Mapping[str, Any] | Scenario | Setup,
    *,
    prior: str = "scenario",
    seed: int | None = None,
    options: ExecOptions | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    population: int | None = None,
    generations: int | None = None,
    replications: int | None = None,
    progress: ProgressFn | None = None,
    cache_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    evidence: str | None = None,
    executor: Any = None,
    ahead: Ahead | None = None,
    also: Callable[[], None] | None = None,
) -> CalibrationResult:
    """One calibration (see :func:`calibrate`) of a scenario, or of a set-up that
    :func:`setup` made of it with these ``prior``, ``seed``, ``cache_dir``, ``overrides`` and
    ``evidence``; ``executor``: an open executor to run on (else one is opened from
    ``options`` and shut down at the end). ``ahead``: the set-up's start, made by
    :func:`_start_ahead` on that executor; ``also``: called while the workers run the pilot
    (before pyabc is imported)."""
    s = (
        scenario
        if isinstance(scenario, Setup)
        else setup(scenario, prior=prior, seed=seed, cache_dir=cache_dir, overrides=overrides,
                   evidence=evidence)
    )  # fmt: skip
    _apply_overrides(s, population=population, generations=generations, replications=replications)
    cal = s.scenario.calibration
    opts = options or ExecOptions()
    s.engine = opts.engine
    sim = Simulator(s, opts) if ahead is None else ahead.sim
    t_start = time.perf_counter()
    identity = batch_identity(
        s.scenario,
        s.seed,
        prior=prior,
        calibration=cal.model_dump(mode="json"),
        command="calibrate",
    )
    with (
        output_folder(out, "tankersim-calibrate-") as (folder, _temporary),
        open_executor(opts) if executor is None else nullcontext(executor) as ex,
    ):
        folder.mkdir(parents=True, exist_ok=True)
        ident_path = folder / "calibration-identity.json"
        if ident_path.exists():
            old = json.loads(ident_path.read_text(encoding="utf-8"))
            if not resume:
                from sim.core.errors import ResultsExistError

                raise ResultsExistError(str(folder))
            if old != identity:
                from sim.core.errors import ResultsMismatchError

                raise ResultsMismatchError(str(folder))
        atomic_write_text(ident_path, json.dumps(identity, sort_keys=True))
        sim.executor = ex if _pooled(opts) else None
        fresh = not (resume and (folder / "calibration.ckpt").exists())

        def meanwhile() -> None:  # while the workers run the pilot
            if fresh:
                _start_first(s, sim)
            if also is not None:
                also()
            _pyabc()

        pilot = _stored(folder / PILOT_FILE) if resume else None
        if pilot is None:
            # started ahead: submitted, with its first jobs, before the first one's import
            pilot = _pilot(s, sim, meanwhile=meanwhile) if ahead is None else ahead.pilot()
            if not _temporary:
                _store(folder / PILOT_FILE, pilot)
        elif ahead is None:
            meanwhile()
        s.statistics = scaled(s.statistics, pilot)  # the pilot sets the statistics' scales
        sim.prior_sample = (_pilot_quantiles(s), stat_matrix(s, pilot))
        with _global_rng(s.seed), _quiet_pyabc(), _frozen_heap():
            history = run_abc(s, sim, folder, resume=resume, progress=progress)
        if not _temporary:
            _store(folder / HISTORY_FILE, history.frame())
        posterior = _posterior(history, s, sim.accepted)
        diagnostics = _diagnostics(history)
        runs = None
        if sim.finished_before:  # a finished calibration asked again: its posterior runs
            runs = _stored(folder / RUNS_FILE, rows=len(posterior) * cal.replications)
        if runs is None:
            runs = posterior_runs(s, sim, posterior, cal.replications)
        else:
            sim.rows_run += len(runs)  # as the first run counted them
    out_dir = None if out is None else Path(out)
    return _result(s, sim, posterior, diagnostics, runs, pilot, t_start, out_dir, identity)


PILOT_REPLICATION0 = 2_000_000_000
"""First replication number of the pilot's prior draws."""
HISTORY_FILE = "history.parquet"
"""Every generation's particles (:meth:`sim.runner.abc_history.Generations.frame`)."""
PILOT_FILE = "pilot.parquet"
"""The pilot's table, kept in a calibration's folder so that a resume does not redo it."""
RUNS_FILE = "posterior_replications.parquet"
"""The posterior runs (written with the calibration's files); a finished calibration asked
again with ``resume`` reads them instead of running them again."""


def _stored(path: Path, rows: int | None = None) -> pd.DataFrame | None:
    """A table kept in a calibration's folder, or None when it is missing, unreadable or not
    ``rows`` long (then it is made again)."""
    if not path.is_file():
        return None
    try:
        table = pd.read_parquet(path)
    except Exception:  # a damaged file is made again, never trusted
        return None
    if rows is not None and len(table) != rows:
        return None
    return table


def _store(path: Path, table: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)


def _pilot(s: Setup, sim: Simulator, meanwhile: Callable[[], Any] = lambda: None) -> pd.DataFrame:
    """The pilot's per-replication table, with the drawn value of every parameter;
    ``meanwhile`` runs here while the workers run it (a calibration imports pyabc then, a
    second or two of the parent's serial work; the posterior of a finished one needs none)."""
    gather = _pilot_later(s, sim)
    meanwhile()
    return gather()


def _pilot_later(s: Setup, sim: Simulator) -> Callable[[], pd.DataFrame]:
    """:func:`_pilot`, its jobs submitted now and its table gathered when asked."""
    q = _pilot_quantiles(s)
    gather = sim.table_later(q, np.arange(PILOT) + PILOT_REPLICATION0)

    def pilot() -> pd.DataFrame:
        table = gather()
        for j, p in enumerate(s.parameters):
            table[p.key] = p.value(q[:, j])
        return table

    return pilot


@dataclass
class Ahead:
    """A companion calibration started while the first one imports pyabc: its simulator, and
    its pilot, submitted with its first generation's first jobs (:func:`_start_ahead`)."""

    sim: Simulator
    pilot: Callable[[], pd.DataFrame]


def _start_ahead(s: Setup, options: ExecOptions, executor: Any, **overrides: int | None) -> Ahead:
    """Submit a companion calibration's pilot and its first generation's first jobs now, on
    ``executor``, to be taken by :func:`_calibrate_one` later: the workers run them while
    the parent imports pyabc for the first calibration, instead of waiting (see
    :func:`_start_first`). The jobs are the ones the companion would run itself, so its
    result does not change; nothing is written."""
    _apply_overrides(s, **overrides)
    s.engine = options.engine
    sim = Simulator(s, options)
    sim.executor = executor
    pilot = _pilot_later(s, sim)
    _start_first(s, sim)
    return Ahead(sim, pilot)


def _pooled(options: ExecOptions) -> bool:
    """Whether a calibration's jobs go to workers (else they run in this process)."""
    return options.n_workers > 1 or options.executor == "dask"


def _apply_overrides(
    s: Setup, *, population: int | None, generations: int | None, replications: int | None
) -> None:
    """Set the ``[calibration]`` values given (None: the scenario's) on ``s``'s scenario."""
    cal = s.scenario.calibration
    update = {
        k: v
        for k, v in (
            ("population", population),
            ("generations", generations),
            ("replications", replications),
        )
        if v is not None
    }
    if update:
        s.scenario = s.scenario.model_copy(
            update={"calibration": cal.model_copy(update=update)}
        ).with_source(s.scenario._source_dir)


def _result(
    s: Setup,
    sim: Simulator,
    posterior: pd.DataFrame,
    diagnostics: pd.DataFrame,
    runs: pd.DataFrame,
    pilot: pd.DataFrame,
    t0: float,
    out_dir: Path | None,
    identity: dict[str, Any],
) -> CalibrationResult:
    """A calibration's result from its posterior runs (a new calibration's, or a finished
    one's run again by :func:`from_folder`): the verdict and predictive check, timed from
    ``t0`` (a ``time.perf_counter()`` reading)."""
    verdict, predictive = _answer(s, runs, pilot)
    return CalibrationResult(
        s,
        posterior,
        diagnostics,
        runs,
        verdict,
        predictive,
        pilot,
        time.perf_counter() - t0,
        sim.rows_run,
        out_dir,
        identity,
    )


def _answer(
    s: Setup, runs: pd.DataFrame, pilot: pd.DataFrame
) -> tuple[PosteriorVerdict, pd.DataFrame]:
    """The posterior verdict (with its held-out checks and what would settle it) and the
    predictive check of the posterior runs."""
    from sim.analysis.heldout import held_out_checks
    from sim.analysis.settle import settle

    w = runs["weight"].to_numpy()
    verdict = posterior_verdict(
        runs,
        w,
        s.scenario,
        {p.key: runs[p.key].to_numpy() for p in s.parameters},
        prior=s.prior,
        particle=runs["particle"].to_numpy(),
        evidence_set=s.evidence_set,
    )
    reasons = {st.name: st.why for st in s.statistics}
    checks = held_out_checks(runs, w, s.statistics, s.scenario, reasons)
    claim = float(s.scenario.claims.barrels or 0)
    hit = claim_quantities(runs, s.scenario)["seen_claim_bbl"].to_numpy() >= claim
    found = settle(hit, w, settle_candidates(s, runs), seed=s.seed)
    verdict = with_context(
        verdict,
        evidence_set=s.evidence_set,
        fitted=[st.name for st in s.fitted],
        held_out=checks,
        settle=found,
    )
    return verdict, predictive_check(runs, w, s.statistics, prior_values=pilot)


def settle_candidates(s: Setup, runs: pd.DataFrame) -> list[Any]:
    """The pieces of evidence one could look for, measured in the posterior runs: each
    named ship's deadweight where the registry does not know it, the visits seen and the
    barrels they loaded in each whole month, the share of visits seen, the fleet's mean
    capacity (every ship's size) and when the ships joined the run."""
    from sim.analysis.settle import Candidate
    from sim.core.registry import registry

    reg = registry()
    out: list[Candidate] = []
    named = {n for cls in s.scenario.fleet.values() if cls.from_registry for n in (cls.names or ())}
    for col in runs.columns:
        if not col.startswith("dwt_t__"):
            continue
        ship = col.removeprefix("dwt_t__")
        entry = reg.get(ship)
        if ship not in named or (entry is not None and entry.known_dwt is not None):
            continue
        out.append(
            Candidate(f"size:{ship}", f"the deadweight of {ship.title()}", runs[col].to_numpy())
        )
    for ob in s.candidates:
        if ob.column not in runs:
            continue
        month = ob.row.date_from.strftime("%B %Y")
        if ob.measure == "seen_visits":
            key, label, discrete = "month-visits", f"the visits seen in {month}", True
        else:
            key, label, discrete = (
                "month-bbl",
                f"the barrels loaded in {month} (independent source)",
                False,
            )
        out.append(Candidate(f"{key}:{ob.row.id}", label, runs[ob.column].to_numpy(), discrete))
    q = claim_quantities(runs, s.scenario)
    out.append(
        Candidate(
            "share-seen", "the share of visits the imagery caught", q["share_seen"].to_numpy()
        )
    )
    if "fleet_capacity_bbl_mean" in runs:
        out.append(
            Candidate(
                "fleet-capacity",
                "every ship's size (the fleet's mean capacity)",
                runs["fleet_capacity_bbl_mean"].to_numpy(),
            )
        )
    if "start_offset_days_mean" in runs:
        out.append(
            Candidate(
                "start-up",
                "when the ships joined the run (their mean start)",
                runs["start_offset_days_mean"].to_numpy(),
            )
        )
    return out


def _pilot_quantiles(s: Setup) -> np.ndarray:
    """Prior draws for the pilot, from the Philox streams (not numpy's global state)."""
    from sim.core.rng import entity_key, uniforms

    reps = np.arange(PILOT)
    cols = [
        uniforms(s.seed, reps, "unknown", entity_key(f"pilot:{p.key}"), 0, "value")
        for p in s.parameters
    ]
    return np.column_stack(cols)


def posterior_claims(result: CalibrationResult) -> pd.DataFrame:
    """The posterior runs' claim quantities (:func:`sim.analysis.posterior.claim_quantities`)."""
    return claim_quantities(result.replications, result.setup.scenario)


__all__ = [
    "CHUNK",
    "LATENT",
    "PILOT",
    "POSTERIOR_REPLICATION0",
    "CalibrationResult",
    "Parameter",
    "Setup",
    "Simulator",
    "Statistic",
    "calibrate",
    "calibration_parameters",
    "calibration_statistics",
    "make_abc",
    "posterior_runs",
    "run_abc",
    "scaled",
    "setup",
    "stat_matrix",
    "stat_names",
    "with_prior",
]


def from_folder(
    folder: str | Path,
    *,
    replications: int | None = None,
    options: ExecOptions | None = None,
    cache_dir: Path | None = None,
) -> CalibrationResult:
    """The posterior verdict of a finished calibration in ``folder``, run again with
    ``replications`` per particle (default: the calibration's own): more replications give a
    smaller Monte Carlo error on the same posterior (the calibration itself is not repeated).
    """
    folder = Path(folder)
    meta_path = folder / "calibration.json"
    if not meta_path.is_file():
        raise OptionError("posterior", str(folder), "no calibration.json: run tankersim calibrate")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    s = setup(folder / "scenario.resolved.toml", seed=int(meta["seed"]), cache_dir=cache_dir)
    s.prior = str(meta["prior"])
    scales = {st["name"]: float(st["scale"]) for st in meta["statistics"]}
    s.statistics = [
        dataclasses.replace(st, scale=scales.get(st.name, st.scale)) for st in s.statistics
    ]
    posterior = pd.read_parquet(folder / "posterior.parquet")
    diagnostics = pd.read_csv(folder / "diagnostics.csv")
    opts = options or ExecOptions()
    s.engine = opts.engine
    sim = Simulator(s, opts)
    n = replications or s.scenario.calibration.replications
    t0 = time.perf_counter()
    with open_executor(opts) as ex:
        sim.executor = ex if _pooled(opts) else None
        pilot = _pilot(s, sim)
        runs = posterior_runs(s, sim, posterior, n)
    identity = dict(meta.get("identity", {}))
    result = _result(s, sim, posterior, diagnostics, runs, pilot, t0, folder, identity)
    alternatives = []
    for path in sorted(folder.glob("evidence-*/verdict_posterior.json")):
        a = json.loads(path.read_text(encoding="utf-8"))
        alternatives.append(
            Alternative(
                str(a.get("evidence_set", path.parent.name.removeprefix("evidence-"))),
                str(a.get("prior", "scenario")),
                float(a["seen"]["p"]), float(a["seen"]["mcse"]), float(a["fleet"]["p"]),
                float(a["fleet"]["mcse"]), str(a["word"]), tuple(a.get("fitted", ())),
            )
        )  # fmt: skip
    if alternatives:
        v = result.verdict
        result.verdict = with_context(
            v, evidence_set=v.evidence_set, fitted=v.fitted, held_out=v.held_out,
            settle=v.settle, alternatives=alternatives,
        )  # fmt: skip
    return result
