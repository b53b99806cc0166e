"""Monte Carlo replications: executors, streaming to disk, resume.

A batch of N replications is split into fixed blocks of replication numbers. Each block runs
in a worker (in this process, a local process pool, or Dask), which returns one row of
headline numbers per replication and its daily cumulative series; the parent writes each block
to ``parts/`` as soon as it finishes (Parquet, written to a temporary name and renamed, so a
part is either whole or absent). An interrupted batch keeps its finished parts; ``resume``
runs only the replications that are missing. Results are gathered sorted by replication, so
they do not depend on the executor, the number of workers or the order blocks finished in.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.core.config import Scenario, ScenarioError
from sim.core.routes import RouteTable
from sim.core.units import HOURS_PER_DAY
from sim.model.des import (
    DISCHARGE_END,
    LOAD_END,
    VISIT_SEEN,
    Compiled,
    Replication,
    compile_scenario,
    simulate,
)

log = logging.getLogger(__name__)

Executor = Literal["serial", "local", "dask"]
REPLICATION_COLUMNS: tuple[str, ...] = (
    "point",
    "replication",
    "p_detect",
    "trips",
    "observed_visits",
    "loaded_bbl",
    "delivered_bbl",
    "on_board_bbl",
    "observed_bbl",
    "loaded_t",
    "delivered_t",
    "mean_parcel_bbl",
)
"""Columns of the per-replication table (one row per replication)."""


# --------------------------------------------------------------------------- one replication


def replication_row(
    c: Compiled, rep: Replication, point: int = 0
) -> tuple[dict[str, float], np.ndarray]:
    """Headline numbers of one replication, and its daily cumulative series.

    Returns
    -------
    row
        The values of :data:`REPLICATION_COLUMNS`.
    daily
        Array of shape (window days, 4): cumulative trips, observed visits, barrels loaded
        and barrels delivered at the end of each day [-, -, bbl, bbl].
    """
    days = round(c.window_h / HOURS_PER_DAY)
    if rep.records:
        arr = np.asarray(rep.records, dtype=float)
        t, kind, cargo, prod = arr[:, 0], arr[:, 2].astype(int), arr[:, 5], arr[:, 6].astype(int)
    else:
        t = cargo = np.zeros(0)
        kind = prod = np.zeros(0, dtype=int)
    load = kind == LOAD_END
    dis = kind == DISCHARGE_END
    seen = kind == VISIT_SEEN
    bpt = np.asarray(c.product_bbl_per_t)
    loaded = float(cargo[load].sum())
    delivered = float(cargo[dis].sum())
    trips = int(load.sum())
    row = {
        "point": float(point),
        "replication": float(rep.replication),
        "p_detect": rep.p_detect,
        "trips": float(trips),
        "observed_visits": float(seen.sum()),
        "loaded_bbl": loaded,
        "delivered_bbl": delivered,
        "on_board_bbl": loaded - delivered,
        "observed_bbl": float(cargo[seen].sum()),
        "loaded_t": float((cargo[load] / bpt[prod[load]]).sum()) if trips else 0.0,
        "delivered_t": float((cargo[dis] / bpt[prod[dis]]).sum()) if dis.any() else 0.0,
        "mean_parcel_bbl": loaded / trips if trips else 0.0,
    }
    edges = np.arange(days + 1) * HOURS_PER_DAY
    daily = np.empty((days, 4))
    daily[:, 0] = np.cumsum(np.histogram(t[load], edges)[0])
    daily[:, 1] = np.cumsum(np.histogram(t[seen], edges)[0])
    daily[:, 2] = np.cumsum(np.histogram(t[load], edges, weights=cargo[load])[0])
    daily[:, 3] = np.cumsum(np.histogram(t[dis], edges, weights=cargo[dis])[0])
    return row, daily


@dataclass(frozen=True)
class Job:
    """A block of replications of one scenario (small and picklable)."""

    scenario: Scenario
    routes: RouteTable
    seed: int
    point: int
    replications: tuple[int, ...]
    daily: bool = True


_COMPILED: dict[str, Compiled] = {}


def _compiled(job: Job) -> Compiled:
    # Each worker compiles a scenario once and reuses it for every block it runs.
    key = job.scenario.digest()
    c = _COMPILED.get(key)
    if c is None:
        c = compile_scenario(job.scenario, job.routes)
        if len(_COMPILED) > 64:
            _COMPILED.clear()
        _COMPILED[key] = c
    return c


def run_jobs(jobs: Sequence[Job]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a group of jobs in one worker call; return (replications table, daily table).

    Daily series are kept only for jobs that ask for them (``Job.daily``).
    """
    rows = []
    dailies = []
    for job in jobs:
        c = _compiled(job)
        for r in job.replications:
            row, daily = replication_row(c, simulate(c, job.seed, r), job.point)
            rows.append(row)
            if job.daily:
                dailies.append((job.point, r, daily))
    reps = pd.DataFrame(rows, columns=list(REPLICATION_COLUMNS))
    reps = reps.astype(
        {"point": "int32", "replication": "int64", "trips": "int32", "observed_visits": "int32"}
    )
    days = dailies[0][2].shape[0] if dailies else 0
    stacked = np.concatenate([d for _, _, d in dailies]) if dailies else np.zeros((0, 4))
    daily = pd.DataFrame(
        {
            "point": np.repeat(np.asarray([p for p, _, _ in dailies], dtype=np.int32), days),
            "replication": np.repeat(np.asarray([r for _, r, _ in dailies], dtype=np.int64), days),
            "day": np.tile(np.arange(1, days + 1, dtype=np.int32), len(dailies)),
            "trips": stacked[:, 0].astype(np.int32),
            "observed_visits": stacked[:, 1].astype(np.int32),
            "loaded_bbl": stacked[:, 2],
            "delivered_bbl": stacked[:, 3],
        }
    )
    return reps, daily


def run_job(job: Job) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one block of replications (see :func:`run_jobs`)."""
    return run_jobs([job])


# --------------------------------------------------------------------------- parts on disk

_PART = re.compile(r"^reps-p\d+-\d+-r\d+-\d+\.parquet$")


def _part_names(reps: pd.DataFrame) -> tuple[str, str]:
    # Named by the first point and replication, so that name order is (point, replication)
    # order; a group's blocks never overlap, so names are unique.
    p0, p1 = int(reps["point"].iloc[0]), int(reps["point"].iloc[-1])
    r0, r1 = int(reps["replication"].iloc[0]), int(reps["replication"].iloc[-1])
    tag = f"p{p0:05d}-{p1:05d}-r{r0:08d}-{r1:08d}"
    return f"reps-{tag}.parquet", f"daily-{tag}.parquet"


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def write_part(parts: Path, reps: pd.DataFrame, daily: pd.DataFrame) -> None:
    """Write one finished block (daily first: a block counts as done once its reps file exists)."""
    rname, dname = _part_names(reps)
    if len(daily):
        _write_atomic(daily, parts / dname)
    _write_atomic(reps, parts / rname)


def finished(parts: Path) -> dict[int, set[int]]:
    """Replications already on disk, by point."""
    done: dict[int, set[int]] = {}
    if not parts.is_dir():
        return done
    for p in sorted(parts.iterdir()):
        if _PART.match(p.name):
            df = pd.read_parquet(p, columns=["point", "replication"])
            for point, g in df.groupby("point"):
                done.setdefault(int(point), set()).update(int(r) for r in g["replication"])
    return done


def read_parts(parts: Path, kind: Literal["reps", "daily"]) -> pd.DataFrame:
    """All parts of one kind, sorted by (point, replication[, day]), duplicates refused."""
    files = sorted(p for p in parts.glob(f"{kind}-*.parquet"))
    if not files:
        return pd.DataFrame()
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    keys = ["point", "replication"] + (["day"] if kind == "daily" else [])
    if df.duplicated(keys).any():
        raise RuntimeError(f"duplicate replications in {parts}")
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def open_parts(out_dir: Path, stamp: dict[str, Any], *, resume: bool, file: str) -> Path:
    """Claim ``out_dir/parts`` for a batch described by ``stamp``; return the parts folder.

    A folder that holds results belongs to one batch: without ``resume`` it is refused, and
    with ``resume`` it must carry the same stamp (scenario digest, seed, points), so results
    of different batches are never mixed and nothing is overwritten.
    """
    parts = out_dir / "parts"
    path = parts / "batch.json"
    if parts.is_dir() and any(parts.glob("reps-*.parquet")):
        if not resume:
            reason = "holds results already: pass --resume, or another --out"
            raise ScenarioError(file, "--out", str(out_dir), reason)
        if path.exists() and json.loads(path.read_text(encoding="utf-8")) != stamp:
            raise ScenarioError(
                file,
                "--resume",
                str(out_dir),
                "results there come from another scenario, seed or sweep; use another --out",
            )
    parts.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stamp, sort_keys=True), encoding="utf-8")
    cleanup_tmp(parts)
    return parts


def cleanup_tmp(parts: Path) -> None:
    """Remove temporary files left by an interrupted write."""
    for p in parts.glob(".*.tmp"):
        p.unlink(missing_ok=True)
    # A daily part without its reps part is an unfinished block: drop it (the reverse, a
    # reps part with no daily part, is a block that kept no daily series).
    for d in parts.glob("daily-*.parquet"):
        if not (parts / d.name.replace("daily-", "reps-", 1)).exists():
            d.unlink()


# --------------------------------------------------------------------------- executors


def blocks(replications: Iterable[int], size: int) -> list[tuple[int, ...]]:
    """Group replication numbers into blocks of at most ``size`` aligned to multiples of it."""
    by_block: dict[int, list[int]] = {}
    for r in sorted(set(replications)):
        by_block.setdefault(r // size, []).append(r)
    return [tuple(v) for _, v in sorted(by_block.items())]


def default_block_size(n: int, workers: int) -> int:
    """Blocks small enough to balance the workers and stream, large enough to amortise overhead."""
    return int(max(5, min(200, n // max(1, workers * 8) or 1)))


ProgressFn = Callable[[int], None]


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
    jobs: Sequence[Job],
    *,
    executor: Executor = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    on_result: Callable[[pd.DataFrame, pd.DataFrame], None],
    min_group_replications: int = 1,
) -> None:
    """Run jobs and hand each group's result to ``on_result`` as soon as it finishes.

    Jobs are sent to workers in groups of at least ``min_group_replications`` replications,
    so that many tiny jobs (one per sample of a sensitivity design) amortise the overhead.
    """
    if not jobs:
        return
    groups = group_jobs(jobs, min_group_replications)
    workers = workers or os.cpu_count() or 1
    if executor == "serial" or (executor == "local" and workers == 1):
        for group in groups:
            on_result(*run_jobs(group))
        return
    if executor == "local":
        for reps, daily in _local(groups, workers):
            on_result(reps, daily)
        return
    if executor == "dask":
        for reps, daily in _dask(groups, workers, scheduler):
            on_result(reps, daily)
        return
    raise ValueError(f"unknown executor {executor!r}")


def execute_to_parts(
    jobs: Sequence[Job],
    parts: Path,
    *,
    executor: Executor = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressFn | None = None,
    min_group_replications: int = 1,
) -> None:
    """Run jobs, writing each finished group to ``parts`` at once (see :func:`write_part`)."""

    def on_result(reps: pd.DataFrame, daily: pd.DataFrame) -> None:
        write_part(parts, reps, daily)
        if progress is not None:
            progress(len(reps))

    execute(
        jobs,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        on_result=on_result,
        min_group_replications=min_group_replications,
    )


@contextmanager
def output_folder(out: str | Path | None, prefix: str) -> Iterator[tuple[Path, bool]]:
    """``(folder, temporary)``: ``out``, or a temporary folder removed on exit when it is None."""
    if out is not None:
        yield Path(out), False
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp), True


def _local(
    jobs: Sequence[tuple[Job, ...]], workers: int
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    pool = ProcessPoolExecutor(max_workers=workers)
    pending: set[Future[tuple[pd.DataFrame, pd.DataFrame]]] = set()
    todo = list(jobs)
    try:
        # Keep a bounded number of blocks in flight so memory does not grow with N.
        while todo or pending:
            while todo and len(pending) < 2 * workers:
                pending.add(pool.submit(run_jobs, todo.pop(0)))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(
    jobs: Sequence[tuple[Job, ...]], workers: int | None, scheduler: str | None
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the dask executor needs the optional extra: pip install 'tankersim[distributed]'"
        ) from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        futures = client.map(run_jobs, list(jobs), pure=False)
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- a whole batch


@dataclass
class BatchResult:
    """The gathered per-replication table of a batch (daily series stay on disk)."""

    replications: pd.DataFrame
    elapsed_s: float
    ran: int


def merge_daily(parts: Path, out_path: Path, *, point: int = 0, n: int | None = None) -> Path:
    """Stream the daily parts of one point into one Parquet file, one part at a time.

    Parts are named by their first replication, so name order is replication order; memory
    holds one part at a time whatever the number of replications.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = sorted(parts.glob("daily-*.parquet"))
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    writer = None
    try:
        for f in files:
            table = pq.read_table(f)
            table = table.filter(pc.equal(table["point"], pa.scalar(point, table["point"].type)))
            if table.num_rows == 0:
                continue
            if n is not None:
                table = table.filter(pc.less(table["replication"], pa.scalar(n, pa.int64())))
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pd.DataFrame(columns=["point", "replication", "day"]).to_parquet(tmp, index=False)
    os.replace(tmp, out_path)
    return out_path


FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
FAN_MAX_REPLICATIONS = 4000
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


def run_batch(
    scenario: Scenario,
    routes: RouteTable,
    *,
    n: int,
    seed: int,
    parts: Path,
    point: int = 0,
    executor: Executor = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    block_size: int | None = None,
    progress: ProgressFn | None = None,
) -> BatchResult:
    """Run replications 0..n-1 of one scenario, skipping those already in ``parts``."""
    parts.mkdir(parents=True, exist_ok=True)
    cleanup_tmp(parts)
    done = finished(parts).get(point, set())
    missing = [r for r in range(n) if r not in done]
    size = block_size or default_block_size(n, workers or os.cpu_count() or 1)
    jobs = [Job(scenario, routes, seed, point, b) for b in blocks(missing, size)]
    if progress is not None and done:
        progress(len(done & set(range(n))))
    t0 = time.perf_counter()
    execute_to_parts(
        jobs, parts, executor=executor, workers=workers, scheduler=scheduler, progress=progress
    )
    elapsed = time.perf_counter() - t0
    reps = read_parts(parts, "reps")
    keep = (reps["point"] == point) & (reps["replication"] < n)
    reps = reps[keep].reset_index(drop=True)
    return BatchResult(reps, elapsed, len(missing))


def describe_executor(
    executor: Executor, workers: int | None, scheduler: str | None
) -> dict[str, Any]:
    """How a batch was run, for the manifest."""
    return {"executor": executor, "workers": workers or os.cpu_count(), "scheduler": scheduler}
