"""CSV that a spreadsheet opens as data: no cell it would run as a formula.

A spreadsheet that opens a CSV reads a cell beginning with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, a tab or a carriage return) as a formula, so text that reaches a CSV from a
scenario or an evidence file (a ship's name, a row id, a source) could make it compute, fetch
a URL or start a program (CSV injection, OWASP). Every CSV tankersim writes goes through
:func:`safe_for_csv`, which follows OWASP's advice: such a *text* cell gets a single apostrophe
in front (``'=1+1``), which a spreadsheet shows as the text and hides. Numbers are not text:
a negative number in a numeric column stays a number. Column names are treated as cells.

A carriage return inside a text cell is written as a line feed: the CSV writer puts a cell
holding a line feed in quotes, but not one holding a lone carriage return, which a reader takes
for the end of the row, so that the rest of the cell would begin a row of its own, formula and
all.

A program reading the CSV back gets the apostrophe too; :func:`restore_cell` and
:func:`restore_formulas` take it off again.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pandas as pd

__all__ = [
    "FORMULA_START",
    "neutralise_cell",
    "restore_cell",
    "restore_formulas",
    "safe_for_csv",
]

FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP)."""
QUOTE = "'"
"""What :func:`neutralise_cell` puts in front of such a cell."""


def neutralise_cell(value: str) -> str:
    """``value`` with an apostrophe in front when it begins like a formula, and each carriage
    return (alone or before a line feed) written as a line feed.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")"), neutralise_cell("YU SON")
    ('\\'=HYPERLINK("http://x")', 'YU SON')
    >>> neutralise_cell("x\\r=1+1")
    'x\\n=1+1'
    """
    safe = QUOTE + value if value.startswith(FORMULA_START) else value
    return safe.replace("\r\n", "\n").replace("\r", "\n") if "\r" in safe else safe


def restore_cell(value: str) -> str:
    """Undo :func:`neutralise_cell`: the apostrophe taken off a cell that begins like a formula
    (or with a line feed, which was a carriage return) after it. A cell that began with such
    an apostrophe before it was written loses it too: the two cannot be told apart.

    >>> restore_cell("'-3 days"), restore_cell("'quoted'")
    ('-3 days', "'quoted'")
    """
    if value.startswith(QUOTE) and value[1:].startswith((*FORMULA_START, "\n")):
        return value[1:]
    return value


def _neutralise(value: Any) -> Any:
    return neutralise_cell(value) if isinstance(value, str) else value


def _restore(value: Any) -> Any:
    return restore_cell(value) if isinstance(value, str) else value


def _text_dtype(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _text_dtype(dtype.categories.dtype)
    return _text_dtype(dtype)


def _map_text(series: pd.Series, func: Any) -> pd.Series:
    """``func`` applied to the text cells of ``series`` (other cells as they are)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        renamed = [func(c) for c in dtype.categories]
        if len(set(renamed)) == len(renamed):  # categories stay distinct: rename them
            return series.cat.rename_categories(renamed)
        return pd.Series([func(v) for v in series], index=series.index, dtype=object)
    if isinstance(dtype, pd.StringDtype):
        return series.map(func, na_action="ignore").astype(dtype)
    return pd.Series([func(v) for v in series], index=series.index, dtype=object)


def _convert(df: pd.DataFrame, func: Any, changes: Any) -> pd.DataFrame:
    """``df`` with ``func`` applied to its text cells and column names, when ``changes`` says
    that one of them would change (else ``df`` itself)."""
    names: list[Hashable] = [func(c) for c in df.columns]
    touched = [
        j
        for j in range(df.shape[1])
        if _is_text(df.iloc[:, j]) and _any_text(df.iloc[:, j], changes)
    ]
    if not touched and names == list(df.columns):
        return df
    out = df.copy()
    for j in touched:
        out.isetitem(j, _map_text(df.iloc[:, j], func))
    if names != list(df.columns):
        out.columns = pd.Index(names)
    return out


def _any_text(series: pd.Series, changes: Any) -> bool:
    """Whether ``changes`` holds for a text value of ``series`` (its categories when it is
    categorical)."""
    values = series.cat.categories if isinstance(series.dtype, pd.CategoricalDtype) else series
    return any(isinstance(v, str) and changes(v) for v in values)


def safe_for_csv(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell and column name that a spreadsheet would read as a formula
    (:data:`FORMULA_START`) given an apostrophe in front, and carriage returns in text written
    as line feeds (:func:`neutralise_cell`).

    Only text is changed: cells of numeric, boolean and date columns, and non-text values in a
    column of mixed values, are left as they are. Returns ``df`` itself when nothing needs
    changing, else a changed copy (``df`` is never modified).

    >>> df = pd.DataFrame({"ship": ["=1+1", "YU SON"], "x": [-1.5, 2.0]})
    >>> print(safe_for_csv(df).to_csv(index=False), end="")
    ship,x
    '=1+1,-1.5
    YU SON,2.0
    """
    return _convert(df, _neutralise, lambda v: neutralise_cell(v) != v)


def restore_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`safe_for_csv` on a table read back from a CSV (:func:`restore_cell` on
    every text cell and column name; line feeds that were carriage returns stay line
    feeds)."""
    return _convert(df, _restore, lambda v: restore_cell(v) != v)
