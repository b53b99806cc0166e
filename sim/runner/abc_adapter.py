"""What an exact resume needs from pyabc beyond its public API, kept in one place.

:mod:`sim.runner.calibrate` drives pyabc's ``ABCSMC`` through its public methods (``new``,
``initialize_components_before_run``, ``run_generation``, ``check_terminate``), with a
``Sampler`` subclass of its own, and reads the results from pyabc's ``History``. Resuming an
interrupted calibration to the same result, bit for bit, needs two things pyabc does not
offer publicly; both are here, and ``test_pyabc_behaves_as_the_adapter_assumes`` (in
tests/test_calibrate.py) fails, naming the change, when a pyabc release breaks either:

* **the state between generations.** pyabc's own resume (``ABCSMC.load`` then ``run``)
  rebuilds the tolerance by recomputing the last generation's distances from the summary
  statistics stored in the history; a calibration stores none (writing every statistic of
  every particle row by row took half its time) and its distances are the sampler's own. So
  the whole ``ABCSMC`` object (the tolerance schedule, the fitted proposal kernel and the run's
  settings; pyabc's pickling leaves the sampler out) is pickled after every generation, and
  restored only by the same pyabc version (:func:`snapshot`, :func:`restore`).
* **a generation written but not checkpointed.** pyabc appends a generation to the history
  inside ``run_generation``, before the driver can checkpoint it, and the history cannot take
  a generation back. A run stopped in between is resumed by running that generation again
  from the checkpoint with the history's one write (``History.append_population``) caught
  instead of made, and the caught generation must equal the stored one (:func:`replaying`).

Checked with pyabc 0.13.0; the ``calibrate`` extra allows :data:`PYABC_VERSIONS`.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

PYABC_VERSIONS = ">=0.13,<0.14"
"""The pyabc releases this adapter is written for (pyproject.toml's requirement)."""


def open_history(url: str, run_id: int) -> Any:
    """The stored run ``run_id`` of the history database at ``url`` (which must exist); the
    summary statistics are not stored (the sampler keeps those it needs)."""
    import pyabc

    history = pyabc.History(url, stores_sum_stats=False, create=False)
    history.id = run_id  # checks that the run exists
    return history


def snapshot(abc: Any) -> dict[str, Any]:
    """The state of ``abc`` between two generations: the pickled ``ABCSMC`` (without its
    sampler, which pyabc's pickling leaves out), its history's run and pyabc's version."""
    import cloudpickle
    import pyabc

    return {
        "pyabc": pyabc.__version__,
        "run_id": abc.history.id,
        "abc": cloudpickle.dumps(abc),
    }


def snapshot_history(state: dict[str, Any], url: str) -> Any:
    """The history of a :func:`snapshot`'s run, reopened at ``url`` (the folder may have
    moved); any pyabc of the range reads it."""
    if not isinstance(state, dict) or "run_id" not in state:
        raise RuntimeError("the checkpoint is of an older tankersim: start again without --resume")
    return open_history(url, int(state["run_id"]))


def restore(state: dict[str, Any], url: str) -> Any:
    """The ``ABCSMC`` of a :func:`snapshot`, with its history reopened at ``url``. Refuses a
    snapshot another pyabc version wrote."""
    import pyabc

    history = snapshot_history(state, url)
    if state.get("pyabc") != pyabc.__version__:
        raise RuntimeError(
            f"the checkpoint was written with pyabc {state.get('pyabc')}, this is pyabc "
            f"{pyabc.__version__}: start again without --resume (or use that pyabc)"
        )
    abc = pickle.loads(state["abc"])
    abc.history = history
    return abc


def _rows(df: pd.DataFrame, w: np.ndarray) -> np.ndarray:
    """A population's parameters and weights as rows, in a canonical order."""
    a = np.column_stack([df.sort_index(axis=1).to_numpy(), np.asarray(w)])
    return a[np.lexsort(a.T[::-1])]


@contextmanager
def replaying(abc: Any, t: int) -> Iterator[None]:
    """Run generation ``t``, which the history holds already, again without writing it:
    ``abc.run_generation(t)`` inside the block gives pyabc the state it needs for generation
    ``t + 1``. Raises ``RuntimeError`` unless the generation came out as the one stored."""
    caught: list[Any] = []

    def catch(t_: int, eps: float, population: Any, *args: Any, **kwargs: Any) -> None:
        caught.append((t_, population))

    history = abc.history
    history.append_population = catch  # the instance's attribute hides the method
    try:
        yield
    finally:
        del history.append_population
    written = [c[0] for c in caught]
    if written != [t]:
        raise RuntimeError(
            f"replaying generation {t}: pyabc's run_generation wrote {written} through "
            f"History.append_population, not [{t}]"
        )
    stored = _rows(*history.get_distribution(m=0, t=t))
    if not np.array_equal(stored, _rows(*caught[0][1].get_distribution(0))):
        raise RuntimeError(f"generation {t} replayed differently: start again without --resume")
