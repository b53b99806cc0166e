"""Every input of a scenario as a row of an assumptions table, with its level and source.

A scenario's ``[sources]`` table names where each input comes from, by dotted key or by a
shell-style pattern over keys (``"fleet.*.load_factor"``); an input no pattern matches is an
*estimate*. The table lists, in the scenario's order: the run window, the fleet-level unknowns,
the terminal, each discharge port, each ship class, the product mix, the routing and the
detection probability. Claims are not inputs and are not listed.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from sim.core.config import Scenario, scenario_inputs

__all__ = ["ESTIMATE", "Assumption", "assumptions", "dist_text", "unmatched_sources"]

ESTIMATE = "estimate"
"""The source shown for an input no ``[sources]`` entry names."""

LEVEL_WORDS = {
    "run": "the run",
    "fleet": "fleet (once per replication)",
    "class": "class (once per replication and class)",
    "ship": "ship (once per ship)",
    "voyage": "voyage (once per voyage)",
}
"""What each level means, for readers."""


@dataclass(frozen=True)
class Assumption:
    """One input: its dotted key, its value or distribution, its level and its source."""

    key: str
    value: str
    level: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def dist_text(d: Any) -> str:
    """A distribution in words and numbers: ``uniform(low=5, high=150)``, ``0.92``, and
    ``x fleet_dwt`` when scaled by an unknown.

    >>> from pydantic import TypeAdapter
    >>> from sim.core.distributions import Distribution, as_distribution
    >>> parse = TypeAdapter(Distribution).validate_python
    >>> dist_text(parse({"dist": "uniform", "low": 5.0, "high": 150.0}))
    'uniform(low=5, high=150)'
    >>> dist_text(parse(as_distribution(0.92)))
    '0.92'
    """
    data = d.model_dump(exclude_none=True)
    kind = data.pop("dist", "")
    data.pop("level", None)
    scale = data.pop("scale", None)
    if kind == "fixed":
        text = f"{data['value']:,.6g}"
    else:
        args = ", ".join(
            f"{k}={v:,.6g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in data.items()
        )
        text = f"{kind}({args})"
    return f"{text} x {scale}" if scale else text


def _rows(sc: Scenario) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = [
        ("window.start", sc.window.start.isoformat(), "run"),
        ("window.end", sc.window.end.isoformat(), "run"),
    ]
    rows += [(f"unknowns.{k}", dist_text(d), "fleet") for k, d in sc.unknowns.items()]
    rows += [
        ("terminal.port", sc.terminal.port, "run"),
        ("terminal.berths", str(sc.terminal.berths), "run"),
    ]
    for pid, dp in sc.discharge.items():
        if dp.share is not None:
            rows.append((f"discharge.{pid}.share", f"{dp.share:g}", "voyage"))
        rows.append((f"discharge.{pid}.berths", str(dp.berths), "run"))
        if dp.lock is not None:
            rows.append((f"discharge.{pid}.lock.chambers", str(dp.lock.chambers), "run"))
    for cid, cls in sc.fleet.items():
        rows.append((f"fleet.{cid}.ships", str(cls.n_ships), "run"))
    rows += [(inp.key, dist_text(inp.dist), inp.level) for inp in scenario_inputs(sc)]
    rows += [(f"product_mix.{p}", f"{w:g}", "run") for p, w in sc.product_mix.items()]
    rows += [(f"products.{p}", f"{f:g} bbl/t", "run") for p, f in sc.products.items()]
    r = sc.routing
    rows += [
        ("routing.method", r.method, "run"),
        ("routing.margin_nm", f"{r.margin_nm:g}", "run"),
        ("routing.forbid_jeju_strait", "yes" if r.forbid_jeju_strait else "no", "run"),
    ]
    return rows


def _order(sc: Scenario, rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    # scenario_inputs lists observation.p_detect with the others; keep the document's order
    # but put the detection probability last, after routing, as a reader meets it.
    last = [row for row in rows if row[0].startswith("observation.")]
    return [row for row in rows if not row[0].startswith("observation.")] + last


def assumptions(sc: Scenario) -> list[Assumption]:
    """The assumptions table of ``sc`` (see the module's documentation)."""
    out = []
    for key, value, level in _order(sc, _rows(sc)):
        sources = [text for pat, text in sc.sources.items() if fnmatch.fnmatchcase(key, pat)]
        out.append(Assumption(key, value, level, "; ".join(sources) or ESTIMATE))
    return out


def unmatched_sources(sc: Scenario) -> list[str]:
    """The ``[sources]`` keys (or patterns) that name no input of ``sc``."""
    keys = [key for key, _, _ in _rows(sc)]
    return [pat for pat in sc.sources if not any(fnmatch.fnmatchcase(k, pat) for k in keys)]
