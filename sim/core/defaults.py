"""Defaults shared by the library and the command line, in one place."""

from __future__ import annotations

EXECUTOR = "local"
"""How batches run unless told: a process pool on this machine (``local``); ``serial`` runs in
this process, ``dask`` on a Dask cluster (:class:`sim.runner.pipeline.ExecOptions`)."""
ENGINE = "fast"
"""The simulation engine unless told: ``fast`` (vectorised) or ``des`` (SimPy), same results."""

MAX_RUN_EVENTS = 10_000_000
"""The most events one replication on the SimPy engine may log (``tankersim run``): about
350 bytes each, 3.5 GB. A scenario that would log more (100,000 ships with 1,000 berths at each
end over ten years would log billions) stops with a one-line error instead of filling the
machine's memory (docs/reliability.md)."""
MAX_VOYAGE_SLOTS = 30_000_000
"""The most voyage draws the fast engine holds at once in one block (replications x ships x
voyages, about 120 bytes each: 3.6 GB); beyond it a batch stops with a one-line error saying
what to make smaller."""

MC_REPLICATIONS = 10_000
"""Replications of a Monte Carlo batch (``tankersim mc``, :func:`sim.run_mc`)."""
DAILY_REPLICATIONS = 4_000
"""Replications of a Monte Carlo batch (the first ones, by number) whose daily series are kept
(``daily.parquet``; the fan chart's bands come from them). Monthly counts of visits seen cover
every replication regardless."""
CSV_MAX_REPLICATIONS = 20_000
"""Largest batch whose replications are also written as CSV without asking (``--csv``)."""
MIN_MATCHES = 200
"""Replications a Monte Carlo verdict keeps when conditioning on the claimed visits."""
MAX_HALFWIDTH = 5
"""Widest conditioning window, claimed visits ± this many visits."""
MIN_MATCHES_WARN = 30
"""Below this many matching replications a conditional answer is flagged as unreliable."""

SWEEP_REPLICATIONS = 500
"""Replications per sweep point."""
SWEEP_MIN_MATCHES = 50
"""Matches a sweep point keeps when each point widens its own window."""
SWEEP_HALFWIDTH = 2
"""Conditioning window of every sweep point: claimed visits ± this many visits."""
SWEEP_BLOCK = 200
"""Replications of one point per job in a sweep."""

SENSITIVITY_SAMPLES = 128
"""SALib's base sample count N for a sensitivity analysis."""
SENSITIVITY_REPLICATIONS = 4
"""Replications per sensitivity design point."""
