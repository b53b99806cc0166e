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

Rules checked, each failure one line naming the file, the row (its line in the file) and the
field, and echoing at most a short excerpt of the value (:data:`EXCERPT` characters, control
characters escaped; nothing of a file whose first line names no evidence column):

- the file: UTF-8 (a UTF-8 byte-order mark is dropped; UTF-16 and UTF-32 are refused, as is
  any byte that is not UTF-8, naming the row and field that hold it); at most
  :data:`MAX_BYTES` bytes and :data:`MAX_ROWS` rows;
- its shape: known columns only, each once; every row exactly as many fields as the header
  (a short row is what a file cut short leaves); every quote closed (a file cut inside a quoted
  field is refused, not read up to the cut); no control character other than a tab or a line
  end inside quotes;
- its values: a known kind, activity and relation; dates written ``YYYY-MM-DD`` in ASCII
  digits, real, between :data:`FIRST_DATE` and :data:`LAST_DATE`, with
  ``date_to >= date_from``; sightings inside the scenario's window and aggregate periods
  overlapping it (the part outside the window is clipped); ships in the registry; places
  known; exactly the number an aggregate needs, written plainly (ASCII digits, optionally
  grouped by commas in thousands, an optional fraction: no exponent, underscore, ``+`` or
  digits of another script), not negative, counts whole and at most :data:`MAX_COUNT`, barrels
  at most :data:`MAX_BBL`, shares at most 1; unique ids.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.errors import ScenarioError, one_line
from sim.core.gazetteer import gazetteer
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
MAX_BYTES = 4 * 1024 * 1024
"""The largest evidence file read [bytes], as for a scenario file."""
MAX_COUNT = 1_000_000
"""The largest count (visits, tankers) an evidence row may report."""
MAX_BBL = 1_000_000_000
"""The largest volume an evidence row may report [bbl]."""
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
"""The dates an evidence row may give, both days included."""
EXCERPT = 40
"""The most characters of a bad cell an error message echoes."""
_LIMITS: dict[str, tuple[float, str] | None] = {
    "count": (MAX_COUNT, "(visits or tankers): the most an evidence count may be"),
    "bbl": (MAX_BBL, "bbl, the most an evidence volume may be"),
    "share": None,
}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|-?\.[0-9]+")
_EXPONENT = re.compile(r"[-+]?[0-9.,]*[0-9][0-9.,]*[eE][-+]?[0-9]+")
_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_NUMBER = {
    "visits": "count",
    "distinct_ships": "count",
    "volume": "bbl",
    "share_sanctioned": "share",
}


@dataclass(frozen=True)
class EvidenceRow:
    """One validated row. ``line`` is the line of the file it begins on (the header is line 1)."""

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


def _excerpt(text: str) -> str:
    """At most :data:`EXCERPT` characters of a cell, for an error message (which shows it with
    ``repr``, so control characters appear as escapes)."""
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


def decode_evidence(data: bytes, file: str) -> str:
    """An evidence file's bytes as text: UTF-8, with or without its byte-order mark.

    UTF-16 and UTF-32 are refused (one line naming the file), not guessed: other readers of
    the file (the report, ``tankersim sbc``) read it as UTF-8 too. Bytes that are not UTF-8
    are kept as lone surrogates (``surrogateescape``) so that :func:`parse_evidence` can name
    the row and the field that holds them.
    """
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise ScenarioError(
                file,
                "row 1",
                bom,
                f"a {name} byte-order mark: evidence files are UTF-8, save it as UTF-8",
            )
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    return data.decode("utf-8", "surrogateescape")


FREE_TEXT: tuple[str, ...] = ("source", "note")
"""The columns of free text: the only ones that may hold a tab or a line end (in quotes)."""


def _check_text(cell: str, file: str, where: str, *, free: bool = False) -> None:
    """Refuse a cell holding bytes that were not UTF-8 or a control character (in ``free``
    text, a tab or a line end is allowed); only the offending character is echoed."""
    allowed = "\t\n\r" if free else ""
    for ch in cell if free else cell.strip():
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            raise ScenarioError(
                file, where, bytes([code - 0xDC00]), "not UTF-8 text: save the file as UTF-8"
            )
        if 0xD800 <= code <= 0xDFFF:  # pragma: no cover - decode() never yields these
            raise ScenarioError(file, where, None, "not UTF-8 text: save the file as UTF-8")
        if unicodedata.category(ch) == "Cc" and ch not in allowed:
            hint = ": is the file UTF-16? save it as UTF-8" if ch == "\x00" else ""
            raise ScenarioError(file, where, ch, f"a control character (U+{code:04X}){hint}")


def _date(text: str, file: str, where: str) -> dt.date:
    """An ISO date ``YYYY-MM-DD`` (ASCII digits only) between :data:`FIRST_DATE` and
    :data:`LAST_DATE`."""
    try:
        if _ISO_DATE.fullmatch(text) is None:
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ScenarioError(
            file, where, _excerpt(text), "not a date: expected YYYY-MM-DD"
        ) from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ScenarioError(
            file, where, text, f"outside {FIRST_DATE}..{LAST_DATE}: not a date evidence can have"
        )
    return day


def _number(
    text: str,
    file: str,
    where: str,
    *,
    integer: bool = False,
    limit: tuple[float, str] | None = None,
) -> float:
    """A plain decimal number: ASCII digits, optionally grouped in thousands by commas, an
    optional fraction; no exponent, underscore, sign other than ``-`` or other script's
    digits. Not negative, at most ``limit`` (the bound and its words), and whole when
    ``integer``."""
    if _DECIMAL.fullmatch(text) is None:
        if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            reason = "must be a finite number"
        elif not text.isascii():
            reason = "not a number: write it with the digits 0-9"
        elif "_" in text:
            reason = "not a number: no underscores (write 1000 or 1,000)"
        elif _EXPONENT.fullmatch(text):
            reason = "not a number: write it out in full, without an exponent (1000000, not 1e6)"
        else:
            reason = "not a number: expected digits 0-9, e.g. 43, 125000, 125,000 or 0.5"
        raise ScenarioError(file, where, _excerpt(text), reason)
    x = float(text.replace(",", ""))
    if x < 0 or text.startswith("-"):  # -0 too: a sign is not a count
        raise ScenarioError(file, where, _excerpt(text), "must not be negative")
    if limit is not None and x > limit[0]:
        raise ScenarioError(file, where, _excerpt(text), f"more than {limit[0]:,.0f} {limit[1]}")
    if integer and x != int(x):
        raise ScenarioError(file, where, _excerpt(text), "must be a whole number")
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
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError(
                file, "", None, f"an evidence file of {size:,} bytes: larger than {MAX_BYTES:,}"
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(file, "", None, "evidence file not found") from None
    except IsADirectoryError:
        raise ScenarioError(file, "", None, "a folder, not an evidence file") from None
    except OSError as exc:
        raise ScenarioError(file, "", None, f"cannot read: {exc.strerror}") from None
    return parse_evidence(decode_evidence(data, file), window=window, ports=ports, file=file)


def parse_evidence(
    text: str,
    *,
    window: tuple[dt.date, dt.date],
    ports: set[str] | None = None,
    file: str = "<evidence>",
) -> Evidence:
    """Validate evidence given as CSV text (see :func:`read_evidence`)."""
    records = _records(text, file)
    try:
        _, raw_header = next(records)
    except StopIteration:
        raise ScenarioError(file, "", None, "empty file: expected a header row") from None
    for j, h in enumerate(raw_header):
        _check_text(h, file, f"row 1.column {j + 1}")
    header = [h.strip() for h in raw_header]
    if not set(header) & set(COLUMNS):
        raise ScenarioError(
            file,
            "row 1",
            None,
            "not an evidence file: its first line names none of the columns id, kind, ...",
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ScenarioError(
            file, "row 1", _excerpt(unknown[0]), "unknown column" + suggest(unknown[0], COLUMNS)
        )
    twice = [h for j, h in enumerate(header) if h in header[:j]]
    if twice:
        raise ScenarioError(file, "row 1", twice[0], "column named twice")
    missing = [c for c in ("id", "kind", "date_from", "source") if c not in header]
    if missing:
        raise ScenarioError(file, "row 1", None, f"missing column {missing[0]!r}")
    known_places = set(gazetteer()) | (ports or set()) | {AT_SEA}
    reg = registry()
    rows: list[EvidenceRow] = []
    ids: set[str] = set()
    w0, w1 = window
    for n, values in records:
        if not any(v.strip() for v in values):
            continue  # a blank line
        if len(values) < len(header):
            raise ScenarioError(
                file,
                f"row {n}.{header[len(values)]}",
                None,
                f"the row ends after {len(values)} of the header's {len(header)} fields "
                "(is the file cut short?)",
            )
        if len(values) > len(header):
            raise ScenarioError(
                file,
                f"row {n}.field {len(header) + 1}",
                _excerpt(values[len(header)]),
                f"{len(values)} fields, the header has {len(header)} (a comma in a field "
                "without quotes?)",
            )
        for h, v in zip(header, values, strict=True):
            _check_text(v, file, f"row {n}.{h}", free=h in FREE_TEXT)
        cells: dict[str, str] = {c: "" for c in COLUMNS}
        cells.update({h: v.strip() for h, v in zip(header, values, strict=True)})
        long = [h for h in header if len(cells[h]) > MAX_FIELD]
        if long:
            raise ScenarioError(
                file, f"row {n}.{long[0]}", None, f"longer than {MAX_FIELD} characters"
            )

        def where(col: str, n: int = n) -> str:
            return f"row {n}.{col}"

        rid = cells["id"]
        if not rid:
            raise ScenarioError(file, where("id"), None, "every row needs an id")
        if rid in ids:
            raise ScenarioError(file, where("id"), _excerpt(rid), "id used twice")
        ids.add(rid)
        kind = cells["kind"]
        if kind not in KINDS:
            raise ScenarioError(
                file,
                where("kind"),
                _excerpt(kind),
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
                    _excerpt(ship),
                    "not a ship of the registry" + suggest(ship, reg.names()),
                )
            ship = canon
        place = cells["place"].upper()
        if place and place not in known_places:
            raise ScenarioError(
                file,
                where("place"),
                _excerpt(cells["place"]),
                "unknown place" + suggest(place, sorted(known_places)),
            )
        activity = cells["activity"]
        relation = cells["relation"]
        value: float | None = None
        if kind == "sighting":
            if activity not in ACTIVITIES:
                raise ScenarioError(
                    file,
                    where("activity"),
                    _excerpt(activity),
                    f"choose one of {', '.join(ACTIVITIES)}",
                )
            if cells["count"]:
                value = _number(
                    cells["count"], file, where("count"), integer=True, limit=_LIMITS["count"]
                )
            if relation and relation not in RELATIONS:
                raise ScenarioError(
                    file,
                    where("relation"),
                    _excerpt(relation),
                    f"choose one of {' '.join(RELATIONS)}",
                )
        else:
            if relation not in RELATIONS:
                raise ScenarioError(
                    file,
                    where("relation"),
                    _excerpt(relation) or None,
                    f"an aggregate needs one of {' '.join(RELATIONS)}",
                )
            col = _NUMBER[kind]
            for other in ("count", "bbl", "share"):
                if other != col and cells[other]:
                    raise ScenarioError(
                        file,
                        where(other),
                        _excerpt(cells[other]),
                        f"a {kind} row gives {col} only",
                    )
            if not cells[col]:
                raise ScenarioError(file, where(col), None, f"a {kind} row needs {col}")
            value = _number(
                cells[col], file, where(col), integer=col == "count", limit=_LIMITS[col]
            )
            if col == "share" and value > 1:
                raise ScenarioError(
                    file, where("share"), _excerpt(cells["share"]), "a share is at most 1"
                )
            if kind in ("visits", "distinct_ships", "volume") and place and place == AT_SEA:
                raise ScenarioError(file, where("place"), place, f"a {kind} row counts at a port")
        conf = cells["confidence"].lower()
        if conf and conf not in CONFIDENCE:
            raise ScenarioError(
                file,
                where("confidence"),
                _excerpt(cells["confidence"]),
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
            file,
            where,
            _excerpt(cells[col]),
            f"choose one of {', '.join(choices)}" + suggest(value, choices),
        )
    return value


def _records(text: str, file: str) -> Iterator[tuple[int, list[str]]]:
    """The CSV records of ``text`` with their line numbers (the line a record begins on; a
    quoted field may hold line ends). A quote never closed (a file cut inside a quoted field),
    a character after a closing quote or a field too large for the CSV reader is one
    :class:`ScenarioError` naming the record's first line and the field."""
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
    end = 0  # the line the previous record ended on
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            index, char, reason = _locate("".join(lines[end:]), str(exc))
            if header is not None and index < len(header):
                field = header[index]
            else:
                field = f"column {index + 1}"
            raise ScenarioError(file, f"row {end + 1}.{field}", char, reason) from None
        start, end = end + 1, reader.line_num
        if end > MAX_ROWS + 1:
            raise ScenarioError(file, f"row {end}", None, f"more than {MAX_ROWS} rows")
        if header is None:
            header = [h.strip() for h in values]
        yield start, values


_FIELD_END = re.compile(r"[,\r\n]")


def _locate(record: str, error: str) -> tuple[int, str | None, str]:
    """Which field of a CSV record (its text, from its first line to the end of the file) the
    reader failed on, the character at fault (or None) and why in words; ``error`` (the
    reader's message) is the fallback."""
    limit = csv.field_size_limit()
    index, i, n = 0, 0, len(record)
    while True:  # one field a pass; i is at its first character
        if record.startswith('"', i):
            j = i + 1
            while (j := record.find('"', j)) >= 0 and record.startswith('""', j):
                j += 2  # a quote written twice: a quote inside the field
            if j < 0:
                reason = "a quote opened here is never closed: the file ends inside a quoted field"
                return index, '"', reason + " (is it cut short?)"
            size, i = j - i - 1, j + 1
            if i < n and record[i] not in ",\r\n":
                reason = 'a character after the closing quote (write a quote inside quotes as "")'
                return index, record[i], reason
        else:
            m = _FIELD_END.search(record, i)
            j = n if m is None else m.start()
            size, i = j - i, j
        if size > limit:
            return index, None, f"a field of more than {limit:,} characters"
        if i >= n or record[i] != ",":
            return index, None, f"not valid CSV: {one_line(error, 120)}"
        index, i = index + 1, i + 1


EVIDENCE_ANYWHERE = "TANKERSIM_EVIDENCE_ANYWHERE"
"""Environment variable that lets a scenario file name an evidence file outside its own folder
(by default refused: a scenario from elsewhere must not make tankersim read, say,
``/etc/passwd``)."""


def scenario_evidence(scenario: Any) -> Evidence | None:
    """The validated evidence file a scenario names (``evidence = "..."``), or None.

    Errors name the evidence file; a missing file is an error about the scenario's key.
    """
    path = scenario.evidence_path()
    if path is None:
        return None
    folder = getattr(scenario, "_source_dir", None)
    if folder is not None and not os.environ.get(EVIDENCE_ANYWHERE):
        try:
            path.resolve().relative_to(Path(folder).resolve())
        except ValueError:
            raise ScenarioError(
                "",
                "evidence",
                scenario.evidence,
                "outside the scenario file's folder: copy the evidence file beside the "
                f"scenario (or set {EVIDENCE_ANYWHERE}=1 to allow it)",
            ) from None
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
