"""tankersim: discrete-event simulation of tanker shuttles, for testing claims about deliveries.

The Python API, imported lazily so that ``import sim`` stays light:

>>> import sim
>>> sorted(sim.__all__)[:5]
['ExecOptions', 'Model', 'Scenario', '__version__', 'calibrate']

* :func:`sim.load_scenario` reads and validates a scenario file (with dotted-key overrides);
  :func:`sim.prepare` also routes and compiles it, once, into a :class:`sim.Model` that every
  runner accepts;
* every batch function takes ``options``: a :class:`sim.ExecOptions` (executor, workers,
  Dask scheduler, block size, engine) or an executor's name such as ``"serial"``;
* :func:`sim.run` runs one replication (event log, summary);
* :func:`sim.run_mc` runs a Monte Carlo batch and judges the claim;
* :func:`sim.run_sweep` and :func:`sim.run_sensitivity` sweep inputs and rank them;
* :func:`sim.check_claims` checks a claim's own arithmetic, :func:`sim.check_evidence` an
  evidence file against the scenario, :func:`sim.report` writes the shareable HTML report
  of finished runs, :func:`sim.init` copies the example scenarios out;
* :func:`sim.route` gives the sea route between two ports (by name: the case's gazetteer, then
  the World Port Index) or ``(lat, lon)`` points anywhere on the globe (its length in nm,
  where an end was moved to water, the regional rules it breaks, and a GeoJSON feature);
* :func:`sim.calibrate` fits the fleet-level unknowns to the evidence and gives the posterior
  verdict; :func:`sim.calibrate_priors` does it under each of the scenario's prior sets;
  :func:`sim.robustness` runs the assumption audit (the answer at the plausible ends of every
  prior, estimate and evidence set);
* :func:`sim.trajectories` gives a run's ship tracks as a MovingPandas collection, one
  trajectory per voyage or per leg;
* :mod:`sim.plot` draws every figure the command line draws from these results, one call
  each (``sim.plot.barrels(batch)``, the headline figure), onto a new figure or given axes.

Every result has a one-line ``repr`` and an HTML summary for notebooks (``_repr_html_``).
"""

import os as _os
from importlib import import_module as _import_module
from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version
from typing import Any as _Any

# Arrow's allocator. pyarrow's wheels default to mimalloc, which keeps the memory of the
# buffers it freed: a batch's parent that reads a million-row result a column at a time ends
# some 35 MiB larger for good, though under 1 MiB is ever live in Arrow's pool, and its peak
# grows with the batch (tankersim mc measured 1.20x at 1,000,000 replications against
# 100,000; 1.08x with the system allocator, at the same speed). Arrow reads this variable
# once, when it first allocates, and only then: set it before, to any pool, and yours wins;
# a process that used pyarrow before importing tankersim keeps the pool it has.
_os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

try:
    __version__ = _version("tankersim")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

_EXPORTS = {
    "Scenario": "sim.core.config",
    "Model": "sim.model.prepared",
    "prepare": "sim.model.prepared",
    "ExecOptions": "sim.runner.pipeline",
    "load_scenario": "sim.core.config",
    "run": "sim.api",
    "run_mc": "sim.api",
    "run_sweep": "sim.api",
    "run_sensitivity": "sim.api",
    "calibrate": "sim.api",
    "calibrate_priors": "sim.api",
    "check_claims": "sim.api",
    "check_evidence": "sim.api",
    "robustness": "sim.api",
    "report": "sim.api",
    "init": "sim.examples",
    "route": "sim.core.global_routing",
    "trajectories": "sim.api",
}
_MODULES = {"plot": "sim.plot"}
"""Public submodules, imported on first use: ``sim.plot``."""

__all__ = sorted(["__version__", *_EXPORTS, *_MODULES])


def __getattr__(name: str) -> _Any:
    if name in _EXPORTS:
        return getattr(_import_module(_EXPORTS[name]), name)
    if name in _MODULES:
        return _import_module(_MODULES[name])
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names only (``__all__``): not this module's imports, nor the submodules
    (``sim.api``, ``sim.core``...) that importing them binds here."""
    return list(__all__)
