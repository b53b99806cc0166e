"""Small HTML summaries for notebooks (``_repr_html_``): a caption and a two-column table,
every string escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence


def html_summary(caption: str, rows: Sequence[tuple[str, object]]) -> str:
    """A caption and a table of ``(label, value)`` rows as HTML, escaped.

    >>> html_summary("<x>", [("a", 1), ("b", "<b>")])
    '<table><caption>&lt;x&gt;</caption><tr><th>a</th><td>1</td></tr><tr><th>b</th><td>&lt;b&gt;</td></tr></table>'
    """
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"
