"""A Parquet table read a column at a time, so that a summary of a million rows never holds
them all (:class:`ColumnTable`).

A Monte Carlo batch's per-replication table can outgrow memory long before its summaries do:
the verdict needs a handful of columns, one at a time, and the rows of the few replications it
conditions on. :class:`ColumnTable` answers the parts of pandas' ``DataFrame`` interface those
summaries use (``len``, ``in``, ``table["column"]``, ``table[mask]``, ``table.columns``) by
reading the file, and keeps nothing between calls: memory stays that of one column.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class ColumnTable:
    """A Parquet file's table, read on demand (see the module docstring).

    >>> t = ColumnTable("replications.parquet")   # doctest: +SKIP
    >>> t["trips"].mean(), len(t), "trips" in t    # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        import pyarrow.parquet as pq

        self.path = Path(path)
        meta = pq.read_metadata(self.path)
        self._rows = int(meta.num_rows)
        names = pq.read_schema(self.path).names
        self._columns = tuple(n for n in names if not n.startswith("__index_level_"))

    def __len__(self) -> int:
        return self._rows

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    @property
    def columns(self) -> pd.Index:
        return pd.Index(self._columns)

    @property
    def shape(self) -> tuple[int, int]:
        return self._rows, len(self._columns)

    def __getitem__(self, key: Any) -> Any:
        """``table["c"]``: column ``c`` (a Series); ``table[["a", "b"]]``: those columns (a
        DataFrame); ``table[mask]``: the rows where a boolean mask is true (a DataFrame
        indexed by row number, as ``DataFrame[mask]`` is)."""
        if isinstance(key, str):
            return self.column(key)
        if isinstance(key, list | tuple) and all(isinstance(k, str) for k in key):
            return self.read(list(key))
        mask = np.asarray(key)
        if mask.dtype != bool or mask.shape != (self._rows,):
            raise KeyError(f"expected a column name, a list of names or a boolean mask: {key!r}")
        return self.rows(mask)

    def column(self, name: str) -> pd.Series:
        """One column, as pandas reads it (``pd.read_parquet(path)[name]``). A numeric or
        boolean column without missing values is copied row group by row group into one
        array: memory is the column's own, whatever the file's size."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if name not in self._columns:
            raise KeyError(name)
        with pq.ParquetFile(self.path) as f:
            kind = f.schema_arrow.field(name).type
            plain = pa.types.is_integer(kind) or pa.types.is_floating(kind)
            plain = plain or pa.types.is_boolean(kind)
            dtype = np.dtype(kind.to_pandas_dtype()) if plain else None
            meta = {
                c.get("name"): c for c in (f.schema_arrow.pandas_metadata or {}).get("columns", [])
            }
            if name in meta and meta[name].get("numpy_type") != str(dtype):
                plain = False  # a pandas extension type (Int64, ...): pandas' own conversion
            if plain:
                out = np.empty(self._rows, dtype=dtype)
                start = 0
                for g in range(f.num_row_groups):
                    chunk = f.read_row_group(g, columns=[name]).column(0)
                    if chunk.null_count and not pa.types.is_floating(kind):
                        break  # pandas makes these floats (or objects): its own conversion
                    values = chunk.to_numpy(zero_copy_only=False)  # a float's null is NaN
                    out[start : start + len(values)] = values
                    start += len(values)
                else:
                    return pd.Series(out, name=name)
        return self.read([name])[name]

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Whole columns (all of them: None) as a DataFrame."""
        import pyarrow.parquet as pq

        missing = [c for c in columns or () if c not in self._columns]
        if missing:
            raise KeyError(missing[0])
        return pq.read_table(self.path, columns=list(columns) if columns else None).to_pandas()

    def rows(self, mask: np.ndarray, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows where ``mask`` is true, read a row group at a time (memory: the rows
        kept and one row group)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        keep: list[pa.Table] = []
        start = 0
        with pq.ParquetFile(self.path) as f:
            schema = f.schema_arrow
            cols = list(columns) if columns else list(self._columns)
            for g in range(f.num_row_groups):  # one row group at a time: no read-ahead
                n = f.metadata.row_group(g).num_rows
                m = mask[start : start + n]
                start += n
                if m.any():
                    keep.append(f.read_row_group(g, columns=cols).filter(pa.array(m)))
        # the file's pandas metadata too, so that columns come back as pandas wrote them
        kept = pa.schema([schema.field(c) for c in cols], metadata=schema.metadata)
        table = (
            pa.concat_tables(keep).replace_schema_metadata(schema.metadata)
            if keep
            else kept.empty_table()
        )
        out = table.to_pandas()
        out.index = pd.Index(np.flatnonzero(mask))
        return out

    def to_pandas(self) -> pd.DataFrame:
        """The whole table in memory."""
        return pd.read_parquet(self.path)

    def __repr__(self) -> str:
        return f"<ColumnTable {self.path.name}: {self._rows:,} rows x {len(self._columns)} columns>"


Table = pd.DataFrame | ColumnTable
"""A per-replication table, in memory or read a column at a time: what the summaries take."""


def release_memory() -> None:
    """Hand back to the operating system the memory that large reads or summaries freed.

    glibc's ``malloc`` keeps freed memory for reuse, and so does Arrow's allocator: a process
    that has read a large file stays as large as its high-water mark plus what fragmentation
    strands. :meth:`sim.runner.pipeline.PartStore.compact` calls this at its end and
    :func:`sim.runner.batch.run_mc` between its summaries (tankersim also makes the system
    allocator Arrow's default: see ``sim/__init__.py``). ``malloc_trim`` exists on Linux with
    glibc only; elsewhere only Arrow's allocator is asked.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and others: no malloc_trim
        return None
