"""What an exact resume needs from pyabc beyond its public API, kept in one place.

:mod:`sim.runner.calibrate` drives pyabc's ``ABCSMC`` through its public methods (``new``,
``initialize_components_before_run``, ``run_generation``, ``check_terminate``), with a
``Sampler`` subclass of its own. Two things go beyond pyabc's documented API; both are here
and in :mod:`sim.runner.abc_history`, and ``test_pyabc_behaves_as_the_adapter_assumes`` (in
tests/test_calibrate.py) fails, naming the change, when a pyabc release breaks either:

* **the history.** After ``ABCSMC.new`` the driver replaces pyabc's SQLite ``History`` with
  :class:`sim.runner.abc_history.Generations`, which answers the same questions from memory:
  pyabc's database writes were most of the serial work between generations. The test runs
  pyabc's own history beside it on a toy model and requires the same generations, bit for bit.
* **the state between generations.** pyabc's own resume (``ABCSMC.load`` then ``run``)
  rebuilds the tolerance by recomputing the last generation's distances from summary
  statistics stored in its database; a calibration stores none and its distances are the
  sampler's own. So the whole ``ABCSMC`` object (the tolerance schedule, the fitted proposal
  kernel and the run's settings; pyabc's pickling leaves the sampler out) is pickled after every
  generation beside the history (:func:`snapshot`), and restored only by the same pyabc version
  (:func:`restore`). A generation is kept only when its checkpoint is written, so a run stopped
  in between runs that generation again.
* **the proposal density.** Each accepted proposal's importance weight needs the proposal
  kernel's density at it, which pyabc computes one particle at a time in the parent. The
  workers compute it instead, beside the simulation (:class:`Kernel`), as
  ``MultivariateNormalTransition.pdf`` does: the same centres and weights, and the density of
  its scipy normal from that normal's own whitening matrix (a private attribute of scipy's
  covariance object), log pseudo-determinant and rank, by the same operations in the same
  order, so the same bits, with numpy alone (a worker imports neither pyabc nor scipy). The
  test requires equality with pyabc's ``pdf``, singular kernels included.

Checked with pyabc 0.13.0; the ``calibrate`` extra allows :data:`PYABC_VERSIONS`.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.runner.abc_history import Generations

PYABC_VERSIONS = ">=0.13,<0.14"
"""The pyabc releases this adapter is written for (pyproject.toml's requirement)."""


def new(abc: Any, observed: dict[str, float], folder: Path) -> Generations:
    """``abc.new(..., observed)`` with pyabc's set-up in a throwaway database in ``folder``,
    then its history replaced by an in-memory :class:`Generations` (returned). pyabc closes a
    file database after each use; an in-memory one it never closes, and SQLAlchemy then
    finalises its connection from whichever thread collects it, with SQLite's thread errors
    printed on stderr."""
    db = folder / ".pyabc-setup.db"
    db.unlink(missing_ok=True)
    abc.new(f"sqlite:///{db}", observed)
    try:
        old = abc.history
        abc.history = Generations.from_history(old)
        old.done()
    finally:
        db.unlink(missing_ok=True)
    history: Generations = abc.history
    return history


def snapshot(abc: Any) -> dict[str, Any]:
    """The state of ``abc`` between two generations: the pickled ``ABCSMC`` (without its
    sampler, which pyabc's pickling leaves out, and without its history), the history and
    pyabc's version."""
    import cloudpickle
    import pyabc

    history = abc.history
    if not isinstance(history, Generations):
        raise TypeError("snapshot() needs the history new() put in place")
    abc.history = None
    try:
        blob = cloudpickle.dumps(abc)
    finally:
        abc.history = history
    return {"pyabc": pyabc.__version__, "abc": blob, "history": history}


def has_history(state: Any) -> bool:
    """Whether ``state`` is a :func:`snapshot` with its history (older tankersims kept the
    history in pyabc's database instead)."""
    return isinstance(state, dict) and isinstance(state.get("history"), Generations)


def snapshot_history(state: dict[str, Any]) -> Generations:
    """The history of a :func:`snapshot`; any pyabc of the range reads it."""
    history = state.get("history") if isinstance(state, dict) else None
    if not isinstance(history, Generations):
        raise RuntimeError("the checkpoint is of an older tankersim: start again without --resume")
    return history


def restore(state: dict[str, Any]) -> Any:
    """The ``ABCSMC`` of a :func:`snapshot`, with its history. Refuses a snapshot another
    pyabc version wrote."""
    import pyabc

    history = snapshot_history(state)
    if state.get("pyabc") != pyabc.__version__:
        raise RuntimeError(
            f"the checkpoint was written with pyabc {state.get('pyabc')}, this is pyabc "
            f"{pyabc.__version__}: start again without --resume (or use that pyabc)"
        )
    abc = pickle.loads(state["abc"])
    abc.history = history
    return abc


_LOG_2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Kernel:
    """A fitted ``pyabc.MultivariateNormalTransition`` as plain arrays (its parameter names,
    centres, weights, and its scipy normal's mean, whitening matrix, log pseudo-determinant
    and rank), small enough to travel with every job: a worker evaluates the density with
    numpy alone, importing neither pyabc nor scipy. A singular kernel keeps scipy's normal
    itself (``normal``), whose density masks what lies outside its support."""

    columns: tuple[str, ...]
    centres: np.ndarray
    weights: np.ndarray
    mean: np.ndarray
    whitener: np.ndarray | None
    log_pdet: Any
    rank: Any
    normal: Any = None

    def _normal_pdf(self, dev: np.ndarray) -> np.ndarray:
        """scipy's ``multivariate_normal(mean, cov).pdf`` of the rows ``dev``, computed as
        scipy 1.17 computes it (``_logpdf``, then ``exp``), the same operations in the same
        order, so the same bits."""
        if self.normal is not None:
            return np.asarray(self.normal.pdf(dev))
        x = dev - self.mean
        log_det = self.log_pdet[..., np.newaxis]
        rank = self.rank[..., np.newaxis]
        maha = np.sum(np.square(x @ self.whitener), axis=-1)
        return np.exp(-0.5 * (rank * _LOG_2PI + log_det + maha))

    def density(self, x: np.ndarray) -> np.ndarray:
        """The kernel's density at each row of ``x`` (columns in :attr:`columns` order), as
        pyabc's ``pdf`` computes it, bit for bit."""
        return np.array(
            [float((self._normal_pdf(xi - self.centres) * self.weights).sum()) for xi in x]
        )


def kernel(transition: Any) -> Kernel:
    """The :class:`Kernel` of a fitted pyabc ``MultivariateNormalTransition``."""
    normal = transition.normal
    cov: Any = getattr(normal, "cov_object", None)
    whitener = getattr(cov, "_LP", None)
    names = tuple(transition.X.columns)
    mean = np.asarray(normal.mean)
    if whitener is None or np.any(cov.rank < normal.dim):  # singular: scipy's own, masked
        return Kernel(names, transition._X_arr, transition.w, mean, None, None, None, normal)
    return Kernel(names, transition._X_arr, transition.w, mean, whitener, cov.log_pdet, cov.rank)
