"""A calibration's generations, kept in memory and saved in its checkpoint.

pyabc's ``ABCSMC`` keeps each generation in a ``History``: an SQLite database written through
SQLAlchemy, one ORM object per particle and per parameter. On the baseline that writing was
4.5 s of the 7.3 s the parent process spent outside the workers, serial work that kept
``calibrate`` from gaining from more workers (benchmarks/README.md). ``ABCSMC`` asks its
history a handful of questions between generations (the epsilon, the model probabilities,
the alive models, the accepted particles and their weights, the number of simulations);
:class:`Generations` answers them from memory, as pyabc's ``History`` would, value for value
(``tests/test_calibrate.py::test_pyabc_behaves_as_the_adapter_assumes`` runs pyabc's own
history beside it and fails when they differ). Its state is plain arrays
(:meth:`Generations.state`), stored in the calibration's checkpoint after every generation, so
an interrupted calibration resumes from one file. :meth:`Generations.to_pyabc` writes the
whole run as a pyabc database, for pyabc's own plots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PRE_TIME = -1
"""pyabc's index of the set-up "generation" before the first one (its calibration sample)."""


@dataclass
class Generation:
    """One accepted population: particle ``k`` has model ``models[k]``, parameters
    ``params[name][k]``, (global) weight, distance and proposal id."""

    t: int
    epsilon: float
    samples: int
    wall_time: float | None
    end_time: dt.datetime
    ids: np.ndarray
    models: np.ndarray
    params: dict[str, np.ndarray]
    weights: np.ndarray
    distances: np.ndarray
    proposal_ids: np.ndarray
    model_p: dict[int, float]


@dataclass
class Generations:
    """What ``ABCSMC`` reads and writes of its history between generations, in memory.

    Made from the ``History`` that ``ABCSMC.new`` opened (:meth:`from_history`), it replaces
    it: ``abc.history = Generations.from_history(abc.history)``. Only single-level (flat)
    parameters are kept, as tankersim's calibration has.
    """

    observed: dict[str, Any]
    model_names: list[str]
    pre_samples: int = 0
    generations: list[Generation] = field(default_factory=list)

    @classmethod
    def from_history(cls, history: Any) -> Generations:
        """The set-up that ``ABCSMC.new`` stored in pyabc's ``history`` (a fresh one)."""
        if history.n_populations > 0:
            raise ValueError("the history already holds generations")
        names = [n for n in history.model_names(t=PRE_TIME) if n is not None]
        return cls(observed=dict(history.observed_sum_stat()), model_names=names)

    # -- writing (ABCSMC) ------------------------------------------------------------
    def update_after_calibration(
        self, nr_samples: int, end_time: Any, wall_time: Any = None
    ) -> None:
        self.pre_samples = int(nr_samples)

    def append_population(
        self,
        t: int,
        current_epsilon: float,
        population: Any,
        nr_simulations: int,
        model_names: Any,
        wall_time: float | None = None,
    ) -> None:
        if t != self.max_t + 1:
            raise ValueError(f"generation {t} appended after generation {self.max_t}")
        parts = [p for _, ps in population.get_particles_by_model().items() for p in ps]
        names = sorted({k for p in parts for k in p.parameter})
        for p in parts:
            if any(isinstance(v, Mapping) for v in p.parameter.values()):
                raise ValueError("nested parameters are not kept")
        first = 2 + sum(len(g.ids) for g in self.generations)  # pyabc's ids: 1 is the set-up's
        probs = population.get_model_probabilities()["p"]
        self.generations.append(
            Generation(
                t=int(t),
                epsilon=float(current_epsilon),
                samples=int(nr_simulations),
                wall_time=wall_time,
                end_time=dt.datetime.now(),
                ids=np.arange(first, first + len(parts), dtype=np.int64),
                models=np.array([p.m for p in parts], dtype=np.int64),
                params={n: np.array([float(p.parameter[n]) for p in parts]) for n in names},
                weights=np.array([float(p.weight) for p in parts]),
                distances=np.array([float(p.distance) for p in parts]),
                proposal_ids=np.array([int(p.proposal_id) for p in parts], dtype=np.int64),
                model_p={int(m): float(v) for m, v in probs.items()},
            )
        )

    def done(self, end_time: Any = None) -> None:
        """Nothing to close (pyabc's history closes its database here)."""

    # -- reading -----------------------------------------------------------------------
    @property
    def max_t(self) -> int:
        return self.generations[-1].t if self.generations else PRE_TIME

    @property
    def n_populations(self) -> int:
        return self.max_t + 1

    @property
    def total_nr_simulations(self) -> int:
        return self.pre_samples + sum(g.samples for g in self.generations)

    def _at(self, t: int | None) -> Generation:
        t = self.max_t if t is None else int(t)
        if not 0 <= t <= self.max_t:
            raise KeyError(f"no generation {t} (the history holds 0 to {self.max_t})")
        return self.generations[t]

    def get_model_probabilities(self, t: int | None = None) -> pd.DataFrame:
        if t is None:
            rows = {g.t: g.model_p for g in self.generations}
            return pd.DataFrame.from_dict(rows, orient="index").rename_axis("t").fillna(0)
        if int(t) == PRE_TIME:  # the set-up's dummy model (m None, p 1), the others at 0
            pre = [(1.0, None)] + [(0.0, m) for m in range(len(self.model_names))]
            return pd.DataFrame(pre, columns=["p", "m"]).set_index("m")
        probs = self._at(t).model_p
        return pd.DataFrame({"p": list(probs.values()), "m": list(probs)}).set_index("m")

    def alive_models(self, t: int | None = None) -> list[int]:
        return sorted(self._at(t).model_p)

    def nr_of_models_alive(self, t: int | None = None) -> int:
        return int((self.get_model_probabilities(self.max_t if t is None else t)["p"] > 0).sum())

    def get_distribution(self, m: int = 0, t: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        g = self._at(t)
        keep = g.models == int(m)
        ids, names = g.ids[keep], list(g.params)
        long = pd.DataFrame(
            {
                "id": np.tile(ids, len(names)),
                "name": np.repeat(names, len(ids)),
                "value": np.concatenate([g.params[n][keep] for n in names]),
            }
        )
        # pivoted as pyabc does: the frame's memory layout, and so the last bits of the
        # proposal kernel that BLAS fits to it, are those of pyabc's own history
        pars = long.pivot(index="id", columns="name", values="value").sort_index()
        w = g.weights[keep]
        return pars, (w / w.sum() if w.size else w)

    def get_all_populations(self) -> pd.DataFrame:
        rows: list[tuple[Any, ...]] = [(PRE_TIME, None, None, self.pre_samples, np.inf, np.nan)]
        rows += [(g.t, g.end_time, g.wall_time, g.samples, g.epsilon, float(len(g.ids)))
                 for g in self.generations]  # fmt: skip
        cols = ["t", "population_end_time", "wall_time", "samples", "epsilon", "particles"]
        return pd.DataFrame(rows, columns=cols)

    def get_weighted_distances(self, t: int | None = None) -> pd.DataFrame:
        g = self._at(t)
        return pd.DataFrame({"distance": g.distances, "w": g.weights})

    def get_population(self, t: int | None = None) -> Any:
        """Generation ``t`` as pyabc's ``Population`` (without summary statistics)."""
        import pyabc

        g = self._at(t)
        parts = [
            pyabc.Particle(
                m=int(g.models[k]),
                parameter=pyabc.Parameter({n: float(v[k]) for n, v in g.params.items()}),
                weight=float(g.weights[k]),
                sum_stat={},
                distance=float(g.distances[k]),
                proposal_id=int(g.proposal_ids[k]),
            )
            for k in range(len(g.ids))
        ]
        return pyabc.Population(parts)

    # -- storing -----------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """Every generation's particles, one row each: ``generation``, ``epsilon`` (its
        tolerance), ``particle`` (pyabc's id), ``model``, ``weight`` (normalised within the
        generation), ``distance`` and each parameter (on the scale the sampler searched)."""
        parts = []
        for g in self.generations:
            parts.append(
                pd.DataFrame(
                    {
                        "generation": np.full(len(g.ids), g.t, dtype=np.int64),
                        "epsilon": np.full(len(g.ids), g.epsilon),
                        "particle": g.ids,
                        "model": g.models,
                        "weight": g.weights / g.weights.sum(),
                        "distance": g.distances,
                        **g.params,
                    }
                )
            )
        if not parts:
            return pd.DataFrame(columns=["generation", "epsilon", "particle", "model",
                                         "weight", "distance"])  # fmt: skip
        return pd.concat(parts, ignore_index=True)

    def to_pyabc(self, url: str) -> Any:
        """Write the run as a new pyabc history database at ``url`` (e.g.
        ``"sqlite:///abc.db"``), for pyabc's plots; returns that ``History``."""
        import pyabc

        history = pyabc.History(url, stores_sum_stats=False)
        history.store_initial_data(None, {}, self.observed, {}, self.model_names, "", "", "")
        history.update_after_calibration(self.pre_samples, dt.datetime.now())
        for t in range(self.n_populations):
            history.append_population(t, self._at(t).epsilon, self.get_population(t),
                                      self._at(t).samples, self.model_names)  # fmt: skip
        history.done()
        return history
