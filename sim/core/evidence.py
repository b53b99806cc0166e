"""Evidence files: dated sightings and aggregate facts, validated like scenarios.

An evidence file is a UTF-8 CSV with this header (one row per observation or fact)::

    id,kind,date_from,date_to,ship,place,activity,relation,count,bbl,share,source,confidence,note

========== ==================================================================================
column     meaning
========== ==================================================================================
id         a unique slug for the row
kind       ``sighting`` (a ship seen somewhere on a date or in a date range) or an aggregate:
           ``visits`` (visits counted at a place in a period), ``distinct_ships`` (at least N
           tankers by a date), ``volume`` (barrels reported for a period),
           ``share_sanctioned`` (share of journeys made by UN-designated ships)
date_from  ISO date (YYYY-MM-DD); ``date_to`` (optional for sightings) ends the range,
           both days included
ship       a registry ship name or alias (``sim/data/registry.toml``), or empty
place      a port id (``VOSTOCHNY``, ``CHONGJIN``...) or ``AT_SEA``
activity   for sightings: ``loading``, ``at_anchor``, ``departed_laden``,
           ``arrived_ballast``, ``unloading`` or ``at_sea``
relation   ``>=``, ``<=``, ``=`` or ``~`` (within 20 %): how the reported number bounds
           the truth; required for aggregates
count      visits or tankers (an integer >= 0); ``bbl`` barrels; ``share`` a fraction
source     where the row comes from; ``confidence`` high, medium or low; ``note`` free text
basis      how the number was obtained: ``counted`` (things seen and counted: visits, ships,
           sightings) or ``estimated`` (a figure derived by a stated or presumed method,
           such as barrels from capacity x load factor)
independence
           how the row relates to the claim under test: ``independent`` (obtained without
           the claim's method or its authors), ``premise`` (the claimants' own count that
           the question takes as given, such as the 43 visits), ``same-method`` (derived
           the way the claim was, by others) or ``claimants`` (from the claimants or their
           co-authors, other than the premise)
========== ==================================================================================

``basis`` and ``independence`` are optional columns (older files lack them): an empty cell
reads as ``unstated``. Calibration fits an *evidence set* of rows chosen by them
(:data:`EVIDENCE_SETS`): by default only the rows independent of the claim.

Rules checked, each failure one line naming the file, the row and the field: known columns
only; a known kind, activity and relation; real dates with ``date_to >= date_from``;
sightings inside the scenario's window and aggregate periods overlapping it (the part outside
the window is clipped); ships in the registry; places known; exactly the number an aggregate
needs, finite and not negative; unique ids.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.errors import ScenarioError
from sim.core.gazetteer import gazetteer
from sim.core.io import decode_text
from sim.core.registry import registry, suggest

COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "date_from",
    "date_to",
    "ship",
    "place",
    "activity",
    "relation",
    "count",
    "bbl",
    "share",
    "source",
    "confidence",
    "note",
    "basis",
    "independence",
)
KINDS: tuple[str, ...] = ("sighting", "visits", "distinct_ships", "volume", "share_sanctioned")
ACTIVITIES: tuple[str, ...] = (
    "loading",
    "at_anchor",
    "departed_laden",
    "arrived_ballast",
    "unloading",
    "at_sea",
)
RELATIONS: tuple[str, ...] = (">=", "<=", "=", "~")
CONFIDENCE: tuple[str, ...] = ("high", "medium", "low")
BASES: tuple[str, ...] = ("counted", "estimated")
"""How a row's number was obtained (see the module docstring)."""
INDEPENDENCE: tuple[str, ...] = ("independent", "premise", "same-method", "claimants")
"""How a row relates to the claim under test (see the module docstring)."""
UNSTATED = "unstated"
"""What an empty ``basis`` or ``independence`` cell reads as."""
DEPENDENT: tuple[str, ...] = ("same-method", "claimants")
"""Independence values that make a row depend on the claim."""
EVIDENCE_SETS: dict[str, str] = {
    "independent": "rows independent of the claim, and the premise it rests on (the default)",
    "counted": "every counted row, whoever counted it; no estimated figure of the claimants "
    "or made by the claim's method",
    "all": "every row, the claimants' own estimates and figures made by the claim's method too",
}
"""The named evidence sets calibration can fit, in order from the strictest."""
AT_SEA = "AT_SEA"
APPROX = 0.20
"""``~`` means within this fraction of the reported number."""
MAX_ROWS = 10_000
MAX_FIELD = 4_000
_NUMBER = {
    "visits": "count",
    "distinct_ships": "count",
    "volume": "bbl",
    "share_sanctioned": "share",
}


@dataclass(frozen=True)
class EvidenceRow:
    """One validated row. ``line`` is its line in the file (the header is line 1)."""

    line: int
    id: str
    kind: str
    date_from: dt.date
    date_to: dt.date
    ship: str
    place: str
    activity: str
    relation: str
    value: float | None
    source: str
    confidence: str
    note: str
    basis: str = UNSTATED
    independence: str = UNSTATED

    @property
    def is_aggregate(self) -> bool:
        return self.kind != "sighting"

    @property
    def dependent(self) -> bool:
        """Whether the row depends on the claim (its method or its authors)."""
        return self.independence in DEPENDENT

    def in_set(self, name: str) -> bool:
        """Whether evidence set ``name`` (:data:`EVIDENCE_SETS`) fits this row; a row whose
        provenance is unstated is fitted by every set."""
        if name == "all":
            return True
        if name == "counted":
            if self.independence == "premise":
                return True
            return self.basis != "estimated" or self.independence == "independent"
        if name == "independent":
            return not self.dependent
        raise ValueError(f"no evidence set {name!r}")

    @property
    def provenance(self) -> str:
        """The row's basis and independence in words, e.g. ``estimated, claimants``."""
        return f"{self.basis}, {self.independence}"

    def reported(self) -> str:
        """The reported fact in words, e.g. ``>= 5 tankers``."""
        if self.kind == "sighting":
            who = self.ship or "a tanker"
            if self.value is not None:
                who = f"{self.relation or '>='} {self.value:g} tankers"
            return f"{who}: {self.activity.replace('_', ' ')} at {self.place}"
        unit = {
            "visits": "visits",
            "distinct_ships": "tankers",
            "volume": "bbl",
            "share_sanctioned": "",
        }
        v = self.value if self.value is not None else math.nan
        shown = f"{v:.0%}" if self.kind == "share_sanctioned" else f"{v:,.0f}"
        return f"{self.relation} {shown} {unit[self.kind]}".strip()

    def period(self) -> str:
        if self.date_from == self.date_to:
            return self.date_from.isoformat()
        return f"{self.date_from.isoformat()}..{self.date_to.isoformat()}"


@dataclass(frozen=True)
class Evidence:
    """A validated evidence file."""

    file: str
    rows: tuple[EvidenceRow, ...]

    def __len__(self) -> int:
        return len(self.rows)


def _date(text: str, file: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ScenarioError(file, where, text, "not a date: expected YYYY-MM-DD") from None


def _number(text: str, file: str, where: str, *, integer: bool = False) -> float:
    try:
        x = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise ScenarioError(file, where, text, "not a number") from None
    if not math.isfinite(x):
        raise ScenarioError(file, where, text, "must be a finite number")
    if x < 0:
        raise ScenarioError(file, where, text, "must not be negative")
    if integer and x != int(x):
        raise ScenarioError(file, where, text, "must be a whole number")
    return x


def read_evidence(
    path: str | Path,
    *,
    window: tuple[dt.date, dt.date],
    ports: set[str] | None = None,
    label: str | None = None,
) -> Evidence:
    """Read and validate an evidence file against a window and the known ports.

    Raises :class:`sim.core.errors.ScenarioError` on the first problem, naming the file, the
    row (``row N``, its line in the file) and the field.
    """
    file = label or str(path)
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(file, "", None, "evidence file not found") from None
    except OSError as exc:
        raise ScenarioError(file, "", None, f"cannot read: {exc.strerror}") from None
    return parse_evidence(decode_text(data, file), window=window, ports=ports, file=file)


def parse_evidence(
    text: str,
    *,
    window: tuple[dt.date, dt.date],
    ports: set[str] | None = None,
    file: str = "<evidence>",
) -> Evidence:
    """Validate evidence given as CSV text (see :func:`read_evidence`)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ScenarioError(file, "", None, "empty file: expected a header row") from None
    except csv.Error as exc:
        raise ScenarioError(file, "row 1", None, f"not valid CSV: {exc}") from None
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ScenarioError(
            file, "row 1", unknown[0], "unknown column" + suggest(unknown[0], COLUMNS)
        )
    missing = [c for c in ("id", "kind", "date_from", "source") if c not in header]
    if missing:
        raise ScenarioError(file, "row 1", None, f"missing column {missing[0]!r}")
    known_places = set(gazetteer()) | (ports or set()) | {AT_SEA}
    reg = registry()
    rows: list[EvidenceRow] = []
    ids: set[str] = set()
    w0, w1 = window
    for n, values in _rows(reader, file):
        if len(values) > len(header):
            raise ScenarioError(
                file, f"row {n}", None, f"{len(values)} fields, the header has {len(header)}"
            )
        cells: dict[str, str] = {c: "" for c in COLUMNS}
        cells.update({h: v.strip() for h, v in zip(header, values, strict=False)})
        if any(len(v) > MAX_FIELD for v in cells.values()):
            raise ScenarioError(
                file, f"row {n}", None, f"a field longer than {MAX_FIELD} characters"
            )

        def where(col: str, n: int = n) -> str:
            return f"row {n}.{col}"

        rid = cells["id"]
        if not rid:
            raise ScenarioError(file, where("id"), None, "every row needs an id")
        if rid in ids:
            raise ScenarioError(file, where("id"), rid, "id used twice")
        ids.add(rid)
        kind = cells["kind"]
        if kind not in KINDS:
            raise ScenarioError(
                file,
                where("kind"),
                kind,
                f"choose one of {', '.join(KINDS)}" + suggest(kind, KINDS),
            )
        d0 = _date(cells["date_from"], file, where("date_from"))
        d1 = _date(cells["date_to"], file, where("date_to")) if cells["date_to"] else d0
        if d1 < d0:
            raise ScenarioError(
                file, where("date_to"), cells["date_to"], f"before date_from ({d0})"
            )
        if kind == "sighting":
            for col, d in (("date_from", d0), ("date_to", d1)):
                if not w0 <= d <= w1:
                    raise ScenarioError(
                        file, where(col), d.isoformat(), f"outside the window {w0}..{w1}"
                    )
        elif d1 < w0 or d0 > w1:
            raise ScenarioError(
                file, where("date_from"), d0.isoformat(), f"the period misses the window {w0}..{w1}"
            )
        ship = cells["ship"]
        if ship:
            canon = reg.canonical(ship)
            if canon is None:
                raise ScenarioError(
                    file,
                    where("ship"),
                    ship,
                    "not a ship of the registry" + suggest(ship, reg.names()),
                )
            ship = canon
        place = cells["place"].upper()
        if place and place not in known_places:
            raise ScenarioError(
                file,
                where("place"),
                cells["place"],
                "unknown place" + suggest(place, sorted(known_places)),
            )
        activity = cells["activity"]
        relation = cells["relation"]
        value: float | None = None
        if kind == "sighting":
            if activity not in ACTIVITIES:
                raise ScenarioError(
                    file, where("activity"), activity, f"choose one of {', '.join(ACTIVITIES)}"
                )
            if cells["count"]:
                value = _number(cells["count"], file, where("count"), integer=True)
            if relation and relation not in RELATIONS:
                raise ScenarioError(
                    file, where("relation"), relation, f"choose one of {' '.join(RELATIONS)}"
                )
        else:
            if relation not in RELATIONS:
                raise ScenarioError(
                    file,
                    where("relation"),
                    relation or None,
                    f"an aggregate needs one of {' '.join(RELATIONS)}",
                )
            col = _NUMBER[kind]
            for other in ("count", "bbl", "share"):
                if other != col and cells[other]:
                    raise ScenarioError(
                        file, where(other), cells[other], f"a {kind} row gives {col} only"
                    )
            if not cells[col]:
                raise ScenarioError(file, where(col), None, f"a {kind} row needs {col}")
            value = _number(cells[col], file, where(col), integer=col == "count")
            if col == "share" and value > 1:
                raise ScenarioError(file, where("share"), cells["share"], "a share is at most 1")
            if kind in ("visits", "distinct_ships", "volume") and place and place == AT_SEA:
                raise ScenarioError(file, where("place"), place, f"a {kind} row counts at a port")
        conf = cells["confidence"].lower()
        if conf and conf not in CONFIDENCE:
            raise ScenarioError(
                file,
                where("confidence"),
                cells["confidence"],
                f"choose one of {', '.join(CONFIDENCE)}",
            )
        if not cells["source"]:
            raise ScenarioError(file, where("source"), None, "every row needs its source")
        basis, independence = (
            _provenance(cells, col, choices, file, where(col))
            for col, choices in (("basis", BASES), ("independence", INDEPENDENCE))
        )
        rows.append(
            EvidenceRow(
                line=n,
                id=rid,
                kind=kind,
                date_from=d0,
                date_to=d1,
                ship=ship,
                place=place,
                activity=activity,
                relation=relation,
                value=value,
                source=cells["source"],
                confidence=conf,
                note=cells["note"],
                basis=basis,
                independence=independence,
            )
        )
    return Evidence(file, tuple(rows))


def _provenance(
    cells: dict[str, str], col: str, choices: tuple[str, ...], file: str, where: str
) -> str:
    """A provenance cell (``basis`` or ``independence``): one of ``choices``, or
    :data:`UNSTATED` when empty."""
    value = cells[col].lower() or UNSTATED
    if value != UNSTATED and value not in choices:
        raise ScenarioError(
            file, where, cells[col], f"choose one of {', '.join(choices)}" + suggest(value, choices)
        )
    return value


def _rows(reader: Any, file: str) -> Any:
    n = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ScenarioError(file, f"row {n + 1}", None, f"not valid CSV: {exc}") from None
        n = reader.line_num
        if n > MAX_ROWS + 1:
            raise ScenarioError(file, f"row {n}", None, f"more than {MAX_ROWS} rows")
        if not any(v.strip() for v in values):
            continue
        yield n, values


def scenario_evidence(scenario: Any) -> Evidence | None:
    """The validated evidence file a scenario names (``evidence = "..."``), or None.

    Errors name the evidence file; a missing file is an error about the scenario's key.
    """
    path = scenario.evidence_path()
    if path is None:
        return None
    if not path.is_file():
        raise ScenarioError("", "evidence", scenario.evidence, f"no such file ({path})")
    return _cached(
        str(path),
        path.stat().st_mtime_ns,
        scenario.window.start,
        scenario.window.end,
        frozenset(scenario.ports),
    )


@functools.lru_cache(maxsize=32)
def _cached(path: str, mtime: int, w0: dt.date, w1: dt.date, ports: frozenset[str]) -> Evidence:
    return read_evidence(path, window=(w0, w1), ports=set(ports))
