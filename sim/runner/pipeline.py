"""The experiment pipeline: points x replications -> parts on disk -> gathered tables.

Every batch (a Monte Carlo run, a sweep, a sensitivity design) is a list of *points* (a
validated scenario and its route table) run for some replications each. The pipeline splits
the work into jobs (a block of replications of one point), sends groups of jobs to an executor,
and writes each finished group to a :class:`PartStore` at once (Parquet, written to a temporary
name and renamed, so a part is either whole or absent). An interrupted batch keeps its finished
parts; a resumed one runs only what is missing. Results are gathered sorted by (point,
replication), so they depend neither on the executor, nor on the number of workers, nor on the
order in which jobs finished.

Executors are anything with the :class:`concurrent.futures.Executor` interface: this process
(:class:`SerialExecutor`), a local process pool, or a Dask cluster through
``Client.get_executor()``. :class:`ExecOptions` says which, in one object.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import itertools
import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.core.defaults import DAILY_REPLICATIONS, ENGINE, EXECUTOR
from sim.core.errors import (
    EngineFallbackWarning,
    MissingExtraError,
    OptionError,
    ResultsExistError,
    ResultsMismatchError,
)
from sim.core.io import atomic_path, atomic_write_text
from sim.core.table import release_memory
from sim.model.des import simulate
from sim.model.draws import Compiled
from sim.model.fast import simulate_block, unsupported
from sim.model.observables import Observable
from sim.model.prepared import Model
from sim.model.results import (
    DAILY_COLUMNS,
    INT_COLUMNS,
    BlockMeta,
    Visits,
    block_rows,
    concat,
    visits_of,
)

log = logging.getLogger(__name__)

ExecutorKind = Literal["serial", "local", "dask"]
EXECUTORS: tuple[str, ...] = ("local", "serial", "dask")
EngineKind = Literal["fast", "des"]
ENGINES: tuple[str, ...] = ("fast", "des")
ProgressFn = Callable[[int], None]


# --------------------------------------------------------------------------- execution options


SCHEDULER_TIMEOUT_S = 5
"""How long to wait for a Dask scheduler to answer before giving up [s]."""
_SCHEDULER = re.compile(r"(?:(?:tcp|tls|ws|wss)://)?[A-Za-z0-9._\-\[\]:]{1,253}:\d{1,5}")


@dataclass(frozen=True)
class ExecOptions:
    """How a batch runs.

    Parameters
    ----------
    executor
        ``"local"`` (a process pool on this machine, the default), ``"serial"`` (this process)
        or ``"dask"`` (a Dask cluster: a local one, or the one at ``scheduler``).
    workers
        Worker processes (default: every core; 1 for ``serial``).
    scheduler
        Address of a running Dask scheduler (``dask`` only).
    block_size
        Replications per job (default: chosen from the batch size, the workers and the
        engine).
    engine
        ``"fast"`` (the vectorised engine, the default) or ``"des"`` (the SimPy engine, one
        replication at a time). Both give the same results (to rounding, about 1e-16).
    """

    executor: ExecutorKind = EXECUTOR  # type: ignore[assignment]
    workers: int | None = None
    scheduler: str | None = None
    block_size: int | None = None
    engine: EngineKind = ENGINE  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise OptionError("executor", self.executor, f"choose one of {', '.join(EXECUTORS)}")
        if self.scheduler and self.executor != "dask":
            raise OptionError("scheduler", self.scheduler, "a scheduler needs the dask executor")
        if self.scheduler is not None and not _SCHEDULER.fullmatch(self.scheduler):
            raise OptionError(
                "scheduler", self.scheduler, "expected an address such as tcp://host:8786"
            )
        if self.workers is not None and self.workers < 1:
            raise OptionError("workers", self.workers, "must be at least 1")
        if self.block_size is not None and self.block_size < 1:
            raise OptionError("block_size", self.block_size, "must be at least 1")
        if self.engine not in ENGINES:
            raise OptionError("engine", self.engine, f"choose one of {', '.join(ENGINES)}")

    @property
    def n_workers(self) -> int:
        """Workers that will run jobs at once."""
        if self.executor == "serial":
            return 1
        return self.workers or os.cpu_count() or 1

    def describe(self) -> dict[str, Any]:
        """How the batch was run, for manifests."""
        return {
            "executor": self.executor,
            "workers": self.n_workers,
            "scheduler": self.scheduler,
            "engine": self.engine,
        }


class SerialExecutor(cf.Executor):
    """Runs every submitted call at once, in this process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            fut.set_exception(exc)
        return fut


@contextmanager
def open_executor(options: ExecOptions) -> Iterator[cf.Executor]:
    """The executor ``options`` asks for, shut down on exit."""
    if options.executor == "serial" or (options.executor == "local" and options.n_workers == 1):
        yield SerialExecutor()
        return
    if options.executor == "local":
        with cf.ProcessPoolExecutor(max_workers=options.n_workers, initializer=gc.freeze) as pool:
            try:
                yield pool
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("dask.distributed", "distributed", "the dask executor") from None
    cluster = None
    if options.scheduler:
        try:
            client = Client(options.scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise OptionError(
                "scheduler",
                options.scheduler,
                f"no Dask scheduler answered within {SCHEDULER_TIMEOUT_S} s ({type(exc).__name__})",
            ) from None
    else:
        cluster = LocalCluster(
            n_workers=options.n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        )
        client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Point:
    """One scenario of a batch (a sweep point, a design point, or the only point of ``mc``)."""

    index: int
    model: Model
    overrides: Mapping[str, Any] = field(default_factory=dict)
    observables: tuple[Observable, ...] = ()
    fixed: Mapping[str, float] | None = None
    """Values fixed instead of drawn at this point (keys as in
    :func:`sim.model.draws.draw_ships`). Consecutive points that share a scenario and differ
    only in fixed values are packed into common jobs: the fast engine runs many design points
    in one block."""


@dataclass(frozen=True)
class Job:
    """A block of replications of one point (small and picklable: the model travels compiled,
    so a worker compiles nothing)."""

    model: Model
    seed: int
    point: int
    replications: Sequence[int]
    """Replication numbers: a ``range`` for a contiguous block, else a tuple."""
    daily: bool = True
    observables: tuple[Observable, ...] = ()
    engine: EngineKind = "fast"
    fixed: Mapping[str, tuple[float, ...]] | None = None
    """Values fixed per row instead of drawn (see :func:`sim.model.draws.draw_ships`)."""
    points: tuple[int, ...] | None = None
    """The point of every row, when a job runs rows of several design points."""


def run_jobs(jobs: Sequence[Job]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a group of jobs in one worker call; return (replications table, daily table).

    Daily series are kept only for jobs that ask for them (``Job.daily``).
    """
    reps_parts, daily_parts = [], []
    for job, reps, daily in _run(jobs):
        reps_parts.append(reps)
        if job.daily:
            daily_parts.append(_daily_of(job, daily))
    reps_df = pd.concat(reps_parts, ignore_index=True)
    daily_df = pd.concat(daily_parts, ignore_index=True) if daily_parts else pd.DataFrame()
    return reps_df, daily_df


def _run(jobs: Sequence[Job]) -> Iterator[tuple[Job, pd.DataFrame, np.ndarray]]:
    """Each job's replications table and its daily array (R, days, columns)."""
    for job in jobs:
        c = job.model.compiled
        visits, meta = _simulate(c, job)
        cols, daily = block_rows(c, visits, meta, point=job.point, observables=job.observables)
        if job.points is not None:
            cols["point"] = np.asarray(job.points, dtype=np.int32)
        yield job, pd.DataFrame(cols), daily


def _daily_of(job: Job, daily: np.ndarray, below: int | None = None) -> pd.DataFrame:
    """A job's long daily table, for its replications below ``below`` (all: None)."""
    reps = np.asarray(job.replications, dtype=np.int64)
    points = np.broadcast_to(
        np.asarray(job.point if job.points is None else job.points), reps.shape
    )
    if below is not None:
        keep = reps < below
        reps, daily, points = reps[keep], daily[keep], points[keep]
    return daily_frame(points, reps.tolist(), daily)


@dataclass(frozen=True)
class Sink:
    """Where a group's results go: the worker that ran the group writes them there itself.

    ``folder`` is the batch's output folder (its ``parts/`` must be reachable from every
    worker: on a Dask cluster, a folder the workers share). Daily series are kept for the
    replications below ``daily_replications`` (all: None; none: 0); with ``month_days`` (the
    last day of each calendar month of the window) each part also carries the counts of
    visits seen per month (:data:`MONTHLY_KEY`), so that the monthly table is exact over every
    replication without keeping their daily series.
    """

    folder: str
    identity: Mapping[str, Any]
    daily_replications: int | None = None
    month_days: tuple[int, ...] = ()


@dataclass(frozen=True)
class GroupDone:
    """What a worker returns for a group it ran and wrote: small, whatever the group's size."""

    rows: int
    worker_s: float
    """Seconds the worker spent on the group (simulation and writing)."""


def run_group(jobs: Sequence[Job], sink: Sink) -> GroupDone:
    """Run a group of jobs and write its parts where ``sink`` says (in the worker)."""
    t0 = time.perf_counter()
    reps_parts, daily_parts = [], []
    monthly: list[np.ndarray] = []
    for job, reps, daily in _run(jobs):
        reps_parts.append(reps)
        if sink.month_days and job.daily:
            monthly.append(month_counts(daily, sink.month_days))
        below = sink.daily_replications
        if job.daily and (below is None or min(job.replications) < below):
            daily_parts.append(_daily_of(job, daily, below))
    reps_df = pd.concat(reps_parts, ignore_index=True)
    daily_df = pd.concat(daily_parts, ignore_index=True) if daily_parts else pd.DataFrame()
    meta = None
    if monthly:
        meta = {MONTHLY_KEY: monthly_to_json(sink.month_days, histograms(np.vstack(monthly)))}
    PartStore(Path(sink.folder), sink.identity).write(reps_df, daily_df, meta=meta)
    return GroupDone(len(reps_df), time.perf_counter() - t0)


MONTHLY_KEY = b"tankersim.monthly"
"""Parquet metadata key: counts of visits seen per calendar month (JSON, see
:func:`monthly_to_json`), mergeable by adding."""


def month_counts(daily: np.ndarray, month_days: Sequence[int]) -> np.ndarray:
    """Visits seen in each month, per replication: shape (R, months), from a block's daily
    array (cumulative ``observed_visits`` on each month's last day, differenced)."""
    from sim.model.results import DAILY_COLUMNS

    col = DAILY_COLUMNS.index("observed_visits")
    cum = daily[:, np.asarray(month_days, dtype=np.int64) - 1, col].astype(np.int64)
    return np.diff(cum, axis=1, prepend=0)


def histograms(per_month: np.ndarray) -> list[dict[int, int]]:
    """Per month, how many replications saw each count of visits."""
    out = []
    for m in range(per_month.shape[1]):
        values, counts = np.unique(per_month[:, m], return_counts=True)
        out.append({int(v): int(c) for v, c in zip(values, counts, strict=True)})
    return out


def monthly_to_json(month_days: Sequence[int], hists: Sequence[Mapping[int, int]]) -> bytes:
    """Month-end days and per-month histograms as JSON bytes (Parquet metadata)."""
    doc = {
        "month_days": [int(d) for d in month_days],
        "counts": [sorted([int(v), int(c)] for v, c in h.items()) for h in hists],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def merge_monthly(docs: Iterable[bytes]) -> tuple[tuple[int, ...], list[dict[int, int]]] | None:
    """Add the histograms of several parts (None when there are none)."""
    days: tuple[int, ...] | None = None
    total: list[dict[int, int]] = []
    for raw in docs:
        doc = json.loads(raw)
        d = tuple(int(x) for x in doc["month_days"])
        if days is None:
            days, total = d, [{} for _ in d]
        elif d != days:  # pragma: no cover - one batch has one window
            raise ValueError("parts of one batch disagree on the months")
        for h, pairs in zip(total, doc["counts"], strict=True):
            for v, c in pairs:
                h[int(v)] = h.get(int(v), 0) + int(c)
    return None if days is None else (days, total)


def _simulate(c: Compiled, job: Job) -> tuple[Visits, BlockMeta]:
    """A job's visits, from the engine it asks for (the SimPy engine when the fast one does
    not support the scenario: :func:`engine_for` says so before anything runs)."""
    fixed = None if job.fixed is None else {k: np.asarray(v) for k, v in job.fixed.items()}
    if job.engine == "fast" and unsupported(c) is None:
        return simulate_block(c, job.seed, job.replications, fixed)
    runs = [
        simulate(
            c,
            job.seed,
            r,
            None if fixed is None else {k: v[n : n + 1] for k, v in fixed.items()},
            record="visits",
        )
        for n, r in enumerate(job.replications)
    ]
    meta = BlockMeta(
        np.asarray(job.replications, dtype=np.int64),
        np.asarray([rep.p_detect for rep in runs]),
        {k: np.asarray([rep.parameters[k] for rep in runs]) for k in runs[0].parameters},
    )
    return concat([visits_of(rep) for rep in runs]), meta


def pack_jobs(
    packed: Sequence[tuple[Point, Sequence[int]]],
    seed: int,
    size: int,
    daily: bool,
    engines: Mapping[int, EngineKind],
) -> list[Job]:
    """Jobs of at most ``size`` rows from the missing replications of points with fixed
    values, in (point, replication) order. Consecutive points share a job when they share a
    scenario, an engine and the keys of their fixed values; every row carries its point, its
    replication and its fixed values."""
    jobs: list[Job] = []
    cur: list[tuple[Point, int]] = []

    def flush() -> None:
        if not cur:
            return
        p0 = cur[0][0]
        keys = sorted(p0.fixed or {})
        jobs.append(
            Job(
                p0.model,
                seed,
                p0.index,
                tuple(r for _, r in cur),
                daily=daily,
                observables=p0.observables,
                engine=engines[p0.index],
                fixed={k: tuple(float((p.fixed or {})[k]) for p, _ in cur) for k in keys},
                points=tuple(p.index for p, _ in cur),
            )
        )
        cur.clear()

    def same(a: Point, b: Point) -> bool:
        return (
            a.model is b.model
            and a.observables == b.observables
            and engines[a.index] == engines[b.index]
            and sorted(a.fixed or {}) == sorted(b.fixed or {})
        )

    for p, missing in packed:
        for r in missing:
            if cur and (len(cur) >= size or not same(cur[0][0], p)):
                flush()
            cur.append((p, r))
    flush()
    return jobs


def engine_for(model: Model, engine: EngineKind) -> tuple[EngineKind, str]:
    """The engine a batch of ``model`` will use, and a one-line notice when it falls back
    to the SimPy engine ("" otherwise)."""
    if engine == "des":
        return "des", ""
    reason = unsupported(model.compiled)
    if reason is None:
        return "fast", ""
    return "des", f"the fast engine does not support {reason}: running the SimPy engine"


def daily_frame(
    point: int | np.ndarray, replications: Sequence[int], daily: np.ndarray
) -> pd.DataFrame:
    """The long daily table of a block: one row per replication and day (``point``: the
    block's point, or the point of every row)."""
    R, days, _ = daily.shape
    flat = daily.reshape(R * days, -1)
    out = pd.DataFrame(
        {
            "point": np.repeat(np.broadcast_to(np.asarray(point, dtype=np.int32), (R,)), days),
            "replication": np.repeat(np.asarray(replications, dtype=np.int64), days),
            "day": np.tile(np.arange(1, days + 1, dtype=np.int32), R),
        }
    )
    for i, name in enumerate(DAILY_COLUMNS):
        out[name] = flat[:, i].astype(np.int32) if name in INT_COLUMNS else flat[:, i]
    return out


def blocks(replications: Iterable[int], size: int) -> list[Sequence[int]]:
    """Group replication numbers into blocks of at most ``size`` aligned to multiples of it.

    A ``range`` (a batch with nothing done yet) gives ranges, whatever its length: a million
    replications cost the parent a few hundred small objects, not a million integers."""
    if isinstance(replications, range) and replications.step == 1:
        lo, hi = replications.start, replications.stop
        edges = [lo, *range((lo // size + 1) * size, hi, size), hi]
        return [range(a, b) for a, b in itertools.pairwise(edges) if b > a]
    by_block: dict[int, list[int]] = {}
    for r in sorted(set(replications)):
        by_block.setdefault(r // size, []).append(r)
    return [tuple(v) for _, v in sorted(by_block.items())]


FAST_BLOCK = 2500
"""The largest default block of the fast engine (replications)."""


def default_block_size(n: int, workers: int, engine: str = "des") -> int:
    """Blocks small enough to balance the workers and stream, large enough to amortise overhead.

    One worker needs no balancing: its blocks are as large as streaming allows. The fast
    engine gains from large blocks (its cost per step is shared by the block's replications):
    a few blocks per worker, up to :data:`FAST_BLOCK` replications each (beyond that the gain
    is within noise, and a block's daily series cost memory in proportion).
    """
    if engine == "fast":
        return int(max(1, min(FAST_BLOCK, -(-n // max(1, workers * 2)))))
    if workers <= 1:
        return int(max(5, min(500, n // 4 or 1)))
    return int(max(5, min(200, n // max(1, workers * 8) or 1)))


def group_jobs(jobs: Sequence[Job], min_replications: int) -> list[tuple[Job, ...]]:
    """Consecutive jobs grouped so that each group runs at least ``min_replications``."""
    groups: list[tuple[Job, ...]] = []
    current: list[Job] = []
    count = 0
    for job in jobs:
        current.append(job)
        count += len(job.replications)
        if count >= min_replications:
            groups.append(tuple(current))
            current, count = [], 0
    if current:
        groups.append(tuple(current))
    return groups


def execute(
    groups: Sequence[tuple[Job, ...]],
    executor: cf.Executor,
    on_result: Callable[[GroupDone], None],
    max_in_flight: int,
    sink: Sink,
) -> None:
    """Run job groups on ``executor``: each worker writes its group's parts where ``sink``
    says and returns a :class:`GroupDone`, handed to ``on_result`` as it finishes.

    At most ``max_in_flight`` groups are submitted at a time, so memory does not grow with the
    size of the batch.
    """
    todo = list(groups)
    pending: set[cf.Future[GroupDone]] = set()
    while todo or pending:
        while todo and len(pending) < max_in_flight:
            pending.add(executor.submit(run_group, todo.pop(0), sink))
        done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for fut in done:
            on_result(fut.result())


# --------------------------------------------------------------------------- parts on disk

_PART = re.compile(r"^reps-p\d+-\d+-r\d+-\d+\.parquet$")


IDENTITY_KEY = b"tankersim.batch"
"""The Parquet metadata key under which every part carries its batch's identity (JSON)."""


def _write_atomic(
    df: pd.DataFrame,
    path: Path,
    identity: Mapping[str, Any] | None = None,
    extra: Mapping[bytes, bytes] | None = None,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if identity is not None or extra:
        meta = dict(table.schema.metadata or {})
        if identity is not None:
            meta[IDENTITY_KEY] = json.dumps(dict(identity), sort_keys=True).encode()
        meta.update(extra or {})
        table = table.replace_schema_metadata(meta)
    # No dictionary encoding: the drawn inputs are random floats, for which a dictionary only
    # costs (measured on 100,000 baseline replications: 0.29 s and 50.9 MB with one, 0.07 s
    # and 42.5 MB without).
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, use_dictionary=False)


def part_identity(path: Path) -> dict[str, Any] | None:
    """The batch identity a part carries (``None`` for a part written without one); a part
    that is not a readable Parquet file raises :class:`ResultsMismatchError`."""
    raw = _metadata(path).get(IDENTITY_KEY)
    return None if raw is None else dict(json.loads(raw))


def _metadata(path: Path) -> dict[bytes, bytes]:
    """A Parquet file's key-value metadata; a file that is not readable Parquet is a
    one-line :class:`OptionError` naming it."""
    import pyarrow.parquet as pq

    try:
        return dict(pq.read_schema(path).metadata or {})
    except (OSError, ValueError) as exc:  # truncated, empty, not Parquet
        folder = path.parent.parent if path.parent.name == "parts" else path.parent
        name = path.relative_to(folder)
        raise OptionError(
            "out",
            str(folder),
            f"{name} is damaged ({str(exc).splitlines()[0][:120]}): delete it and "
            "resume to run its replications again, or use another folder",
        ) from None


def _difference(name: str, theirs: Mapping[str, Any] | None, ours: Mapping[str, Any]) -> str:
    if theirs is None:
        if name == "batch.json":
            return "batch.json names another batch"
        return f"{name} carries no batch identity (written by an older tankersim)"
    keys = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
    shown = ", ".join(f"{k} {theirs.get(k)!r} there, {ours.get(k)!r} now" for k in keys[:3])
    return f"{name}: {shown}"


_TAG = re.compile(r"-p(\d+)-(\d+)-r(\d+)-(\d+)\.parquet$")


class PartStore:
    """The parts of one batch in ``folder/parts``, and the batch's identity (``batch.json``).

    A folder that holds results belongs to one batch: opening it without ``resume`` is refused
    (:class:`ResultsExistError`), and resuming needs the same identity (scenario digest, seed,
    points; :class:`ResultsMismatchError`), so results of different batches never mix.

    Parts are written by the workers that ran them (:func:`run_group`); the parent only reads
    their metadata. A one-point batch (``mc``) may *compact* its parts when it finishes
    (:meth:`compact`): the replications stream into one file (``compacted["reps"]``, e.g.
    ``replications.parquet``) that carries the identity too, and the parts go, so that nothing
    is kept twice. A resume counts what the compacted files hold as done.
    """

    def __init__(
        self,
        folder: Path,
        identity: Mapping[str, Any] | None = None,
        compacted: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / "parts"
        self.identity = dict(identity) if identity is not None else None
        self.compacted = {k: self.folder / v for k, v in (compacted or {}).items()}

    @classmethod
    def open(
        cls,
        folder: Path,
        identity: Mapping[str, Any],
        *,
        resume: bool,
        compacted: Mapping[str, str] | None = None,
    ) -> PartStore:
        """Claim ``folder`` for the batch ``identity`` (see the class docstring). Every part
        carries the identity in its Parquet metadata, so a resume is checked against each
        part, not only against ``batch.json`` (which may be lost or stale)."""
        store = cls(folder, identity, compacted)
        path = store.parts / "batch.json"
        have_parts = store.parts.is_dir() and any(store.parts.glob("reps-*.parquet"))
        reps_file = store.compacted.get("reps")
        have_file = reps_file is not None and reps_file.is_file()
        older = have_file and have_parts and reps_file is not None
        if older and _metadata(reps_file).get(IDENTITY_KEY) is None:  # type: ignore[arg-type]
            # a folder of an older tankersim: the file is an output, the parts the results
            for f in store.compacted.values():
                f.unlink(missing_ok=True)
            have_file = False
        if have_parts or have_file:
            if not resume:
                raise ResultsExistError(str(folder))
            if path.exists() and json.loads(path.read_text(encoding="utf-8")) != dict(identity):
                raise ResultsMismatchError(str(folder), _difference(path.name, None, identity))
            files = [f for f in store.compacted.values() if f.is_file()]
            for part in [*files, *sorted(store.parts.glob("*-*.parquet"))]:
                theirs = part_identity(part)
                if theirs != dict(identity):
                    raise ResultsMismatchError(
                        str(folder), _difference(part.name, theirs, identity)
                    )
        store.parts.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(dict(identity), sort_keys=True))
        store.cleanup()
        return store

    def cleanup(self) -> None:
        """Remove what an interrupted write left: temporary files, unfinished blocks, and
        parts already in a compacted file (a compaction stopped before it removed them)."""
        for p in [*self.parts.glob(".*.tmp"), *self.folder.glob(".*.tmp")]:
            p.unlink(missing_ok=True)
        # A daily part without its reps part is an unfinished block: drop it (the reverse, a
        # reps part with no daily part, is a block that kept no daily series).
        for d in self.parts.glob("daily-*.parquet"):
            if not (self.parts / d.name.replace("daily-", "reps-", 1)).exists():
                d.unlink()
        for kind in self.compacted:
            upto = self._compacted_upto(kind)
            for part in self.parts.glob(f"{kind}-*.parquet"):
                m = _TAG.search(part.name)
                if m and int(m.group(3)) < upto:
                    part.unlink()

    def _compacted_upto(self, kind: str) -> int:
        """Replications ``0 .. upto - 1`` are in the compacted file of ``kind`` (0: none)."""
        f = self.compacted.get(kind)
        if f is None or not f.is_file():
            return 0
        raw = _metadata(f).get(UPTO_KEY)
        return 0 if raw is None else int(raw)

    def write(
        self,
        reps: pd.DataFrame,
        daily: pd.DataFrame,
        meta: Mapping[bytes, bytes] | None = None,
    ) -> None:
        """Write one finished group (daily first: a block counts as done once its reps exist);
        ``meta`` goes into the reps part's metadata (e.g. :data:`MONTHLY_KEY`)."""
        # Named by the first point and replication, so that name order is (point, replication)
        # order; a group's blocks never overlap, so names are unique.
        p0, p1 = int(reps["point"].iloc[0]), int(reps["point"].iloc[-1])
        r0, r1 = int(reps["replication"].iloc[0]), int(reps["replication"].iloc[-1])
        tag = f"p{p0:05d}-{p1:05d}-r{r0:08d}-{r1:08d}"
        if len(daily):
            _write_atomic(daily, self.parts / f"daily-{tag}.parquet", self.identity)
        _write_atomic(reps, self.parts / f"reps-{tag}.parquet", self.identity, meta)

    def finished(self) -> dict[int, set[int]]:
        """Replications already on disk, by point."""
        done: dict[int, set[int]] = {}
        upto = self._compacted_upto("reps")
        if upto:
            done[0] = set(range(upto))
        if not self.parts.is_dir():
            return done
        for p in sorted(self.parts.iterdir()):
            if _PART.match(p.name):
                df = pd.read_parquet(p, columns=["point", "replication"])
                for point, g in df.groupby("point"):
                    done.setdefault(int(point), set()).update(int(r) for r in g["replication"])
        return done

    def read(self, kind: Literal["reps", "daily"] = "reps") -> pd.DataFrame:
        """All parts of one kind, sorted by (point, replication[, day]); duplicates refused."""
        files = sorted(self.parts.glob(f"{kind}-*.parquet"))
        if not files:
            return pd.DataFrame()
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        keys = ["point", "replication"] + (["day"] if kind == "daily" else [])
        if df.duplicated(keys).any():
            raise RuntimeError(f"duplicate replications in {self.parts}")
        return df.sort_values(keys, kind="stable").reset_index(drop=True)

    def monthly(self) -> tuple[tuple[int, ...], list[dict[int, int]]] | None:
        """The merged per-month histograms of visits seen (:data:`MONTHLY_KEY`) of the
        compacted file and the parts; None when they carry none."""
        reps_file = self.compacted.get("reps")
        files = [reps_file] if reps_file is not None and reps_file.is_file() else []
        files += sorted(self.parts.glob("reps-*.parquet"))
        docs = [raw for f in files if (raw := _metadata(f).get(MONTHLY_KEY)) is not None]
        return merge_monthly(docs)

    def compact(self, kind: Literal["reps", "daily"], *, below: int | None = None) -> Path:
        """Stream the compacted file of ``kind`` (if any) and its parts, in replication order,
        into a new compacted file, then remove those parts. One record batch at a time: the
        memory held does not grow with the batch. ``below``: keep replications below it only.

        The file carries the identity, the count of replications it holds
        (:data:`UPTO_KEY`) and, for ``reps``, the merged monthly histograms. A one-point
        batch whose replications ``0 .. n - 1`` are all done only.
        """
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        target = self.compacted[kind]
        parts = sorted(self.parts.glob(f"{kind}-*.parquet"))
        if (
            not parts
            and target.is_file()
            and (below is None or self._compacted_upto(kind) <= below)
        ):
            return target  # nothing new: a resumed batch that was already whole
        sources = ([target] if target.is_file() else []) + parts
        upto = self._compacted_upto(kind)
        for f in parts:
            m = _TAG.search(f.name)
            if m:
                upto = max(upto, int(m.group(4)) + 1)
        if below is not None:
            upto = min(upto, below)
        extra: dict[bytes, bytes] = {
            IDENTITY_KEY: json.dumps(self.identity, sort_keys=True).encode(),
            UPTO_KEY: str(upto).encode(),
        }
        if kind == "reps":
            monthly = self.monthly()
            if monthly is not None:
                extra[MONTHLY_KEY] = monthly_to_json(*monthly)
        writer = None
        pending: list[pa.Table] = []  # batches of small parts, gathered into one row group

        def flush() -> None:
            if writer is not None and pending:
                writer.write_table(pa.concat_tables(pending))
                pending.clear()

        with atomic_path(target) as tmp:
            try:
                for f in sources:
                    pf = pq.ParquetFile(f)
                    if writer is None:
                        meta = {**(pf.schema_arrow.metadata or {}), **extra}
                        writer = pq.ParquetWriter(
                            tmp, pf.schema_arrow.with_metadata(meta), use_dictionary=False
                        )
                    for batch in pf.iter_batches(batch_size=ROW_GROUP_ROWS):
                        table = pa.Table.from_batches([batch])
                        if below is not None:
                            keep = pc.less(table["replication"], pa.scalar(below, pa.int64()))
                            table = table.filter(keep)
                        pending.append(table.replace_schema_metadata(writer.schema.metadata))
                        if sum(t.num_rows for t in pending) >= ROW_GROUP_ROWS:
                            flush()
                flush()
            finally:
                if writer is not None:
                    writer.close()
            if writer is None:
                empty = pa.table({"point": pa.array([], pa.int32())})
                pq.write_table(empty.replace_schema_metadata(extra), tmp)
        for f in parts:
            f.unlink(missing_ok=True)
        release_memory()  # what the row groups passed through: not the parent's to keep
        return target


ROW_GROUP_ROWS = 65_536
"""Rows per row group of a compacted file (parts are gathered up to this): large enough that
reading a column is a few reads, small enough that compaction holds little."""

UPTO_KEY = b"tankersim.upto"
"""Parquet metadata key of a compacted file: it holds replications ``0 .. upto - 1``."""


@contextmanager
def output_folder(out: str | Path | None, prefix: str) -> Iterator[tuple[Path, bool]]:
    """``(folder, temporary)``: ``out``, or a temporary folder removed on exit when it is None."""
    if out is not None:
        yield Path(out), False
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp), True


# --------------------------------------------------------------------------- one experiment


@dataclass
class ExperimentResult:
    """The gathered per-replication table of a batch (daily series stay in the store)."""

    table: pd.DataFrame
    elapsed_s: float
    ran: int
    engines: dict[int, EngineKind] = field(default_factory=dict)
    """The engine each point ran on (the SimPy one where the fast one fell back)."""
    worker_s: float = 0.0
    """Seconds the workers spent on the groups run now (simulation and writing parts)."""


def run_points(
    points: Sequence[Point],
    *,
    replications: int,
    seed: int,
    store: PartStore,
    options: ExecOptions,
    daily: bool = False,
    block_size: int | None = None,
    min_group_replications: int = 1,
    progress: ProgressFn | None = None,
    daily_replications: int | None = None,
    month_days: tuple[int, ...] = (),
    gather: bool = True,
) -> ExperimentResult:
    """Run replications ``0 .. replications-1`` of every point, skipping those in ``store``.

    Replication ``r`` uses the same random streams at every point (common random numbers).
    ``block_size`` (default: ``options.block_size``, else chosen from the batch) is the
    replications of one point per job; jobs are sent to workers in groups of at least
    ``min_group_replications``, so that many tiny jobs amortise the overhead. Points with
    :attr:`Point.fixed` values are packed instead: jobs of ``options.block_size`` rows (else
    chosen from all their rows), across points.

    A point the fast engine does not support runs on the SimPy engine, with an
    :class:`~sim.core.errors.EngineFallbackWarning` (one per distinct reason) before anything
    runs.

    Each worker writes the parts of the groups it runs (:func:`run_group`) into ``store``'s
    folder; this process receives only their row counts. With ``daily``, daily series are kept
    for the replications below ``daily_replications`` (all: None) and, with ``month_days``,
    the parts carry per-month counts of visits seen. With ``gather=False`` the table is not
    read back (the caller compacts the parts: :meth:`PartStore.compact`).
    """
    done = store.finished()
    for index, have in done.items():
        if have and max(have) >= replications:
            raise OptionError(
                "replications",
                replications,
                f"{store.folder} holds {max(have) + 1:,} replications of point {index}, more "
                f"than asked: ask for {max(have) + 1:,} or more, or use another folder",
            )
    wanted = range(replications)
    size = (
        block_size
        or options.block_size
        or default_block_size(replications, options.n_workers, options.engine)
    )
    jobs: list[Job] = []
    already = 0
    notices: set[str] = set()
    engines: dict[int, EngineKind] = {}
    packed: list[tuple[Point, Sequence[int]]] = []  # points with fixed values, to pack
    chosen: dict[int, tuple[EngineKind, str]] = {}  # by model
    for p in points:
        if id(p.model) not in chosen:
            chosen[id(p.model)] = engine_for(p.model, options.engine)
        engine, notice = chosen[id(p.model)]
        engines[p.index] = engine
        if notice and notice not in notices:
            notices.add(notice)
            warnings.warn(notice, EngineFallbackWarning, stacklevel=2)
        have = done.get(p.index, set())
        already += sum(1 for r in have if r < replications)
        missing: Sequence[int] = (
            [r for r in wanted if r not in have] if have else wanted  # nothing done: a range
        )
        if p.fixed is not None:
            packed.append((p, missing))
            continue
        jobs += [
            Job(
                p.model,
                seed,
                p.index,
                b,
                daily=daily,
                observables=p.observables,
                engine=engine,
            )
            for b in blocks(missing, size)
        ]
    if packed:
        rows = sum(len(m) for _, m in packed)
        pack = options.block_size or default_block_size(rows, options.n_workers, options.engine)
        jobs += pack_jobs(packed, seed, pack, daily, engines)
    if progress is not None and already:
        progress(already)

    worker_s = 0.0

    def on_result(done: GroupDone) -> None:
        nonlocal worker_s
        worker_s += done.worker_s
        if progress is not None:
            progress(done.rows)

    sink = Sink(
        str(store.folder),
        store.identity or {},
        daily_replications=daily_replications,
        month_days=month_days,
    )
    t0 = time.perf_counter()
    if jobs:
        with open_executor(options) as executor:
            execute(
                group_jobs(jobs, min_group_replications),
                executor,
                on_result,
                max_in_flight=2 * options.n_workers,
                sink=sink,
            )
    elapsed = time.perf_counter() - t0
    ran = sum(len(j.replications) for j in jobs)
    if not gather:
        return ExperimentResult(pd.DataFrame(), elapsed, ran, engines, worker_s)
    table = store.read("reps")
    if len(table):
        keep = table["point"].isin([p.index for p in points]) & (
            table["replication"] < replications
        )
        table = table[keep].reset_index(drop=True)
    return ExperimentResult(table, elapsed, ran, engines, worker_s)


FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
FAN_MAX_REPLICATIONS = DAILY_REPLICATIONS
"""Replications (the first ones, by number) that the fan chart's bands are computed from."""


def daily_fan(
    daily_path: Path,
    n_days: int,
    column: str = "delivered_bbl",
    max_replications: int = FAN_MAX_REPLICATIONS,
) -> pd.DataFrame:
    """Per-day quantiles of a daily column across replications (for fan charts).

    Uses the first ``max_replications`` replications, read in record batches into one float32
    array, so memory stays bounded however large the batch (4,000 replications of a 244-day
    window take 4 MB; percentile bands from 4,000 draws are good to about a percentile).
    ``n_days`` is the window's length: each replication has one row per day, in order.
    """
    import pyarrow.parquet as pq

    names = ["day", *(f"q{int(q * 100):02d}" for q in FAN_QUANTILES)]
    f = pq.ParquetFile(daily_path)
    if f.metadata.num_rows == 0:
        return pd.DataFrame(columns=names)
    cap = max_replications * n_days
    values = np.empty(min(cap, f.metadata.num_rows), dtype=np.float32)
    filled = 0
    for batch in f.iter_batches(columns=[column], batch_size=65536):
        chunk = np.asarray(batch.column(0).to_numpy(), dtype=np.float32)
        take = min(len(chunk), len(values) - filled)
        values[filled : filled + take] = chunk[:take]
        filled += take
        if filled == len(values):
            break
    q = np.quantile(values.reshape(-1, n_days), FAN_QUANTILES, axis=0)
    out = pd.DataFrame({"day": np.arange(1, n_days + 1)})
    for i, name in enumerate(names[1:]):
        out[name] = q[i].astype(float)
    return out
