"""Numbers for people: the one way probabilities and quantities are written in headlines,
reports and the docs (so that the README, the report and the verdicts agree to the digit)."""

from __future__ import annotations

import math

__all__ = ["number", "pct", "sig"]


def sig(x: float | None, digits: int = 3) -> str:
    """A number rounded to ``digits`` significant figures, with thousands separators.

    >>> sig(1065672.4), sig(23255.8), sig(0.8913), sig(48.0), sig(None)
    ('1,070,000', '23,300', '0.891', '48', '-')
    """
    if x is None or not isinstance(x, int | float) or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    rounded = round(x, digits - 1 - mag)
    if rounded == int(rounded) and abs(rounded) >= 1:
        return f"{int(rounded):,}"
    decimals = max(0, digits - 1 - mag)
    return f"{rounded:,.{decimals}f}"


def pct(p: float | None) -> str:
    """A probability as a percentage for readers: ``61 %``, ``0.2 %``, ``< 0.1 %``.

    >>> pct(0.6114), pct(0.002), pct(0.0001), pct(1.0)
    ('61 %', '0.2 %', '< 0.1 %', '100 %')
    """
    if p is None or not math.isfinite(p):
        return "-"
    if 0 < p < 0.001:
        return "< 0.1 %"
    if p < 0.01 or 0.99 < p < 1:
        return f"{100 * p:.1f} %"
    return f"{100 * p:.0f} %"


def number(x: float) -> str:
    """A reported figure as people write it: ``125,000``, ``43``, ``0.5``.

    >>> number(125000.0), number(43.0), number(0.5), number(1036600.0)
    ('125,000', '43', '0.5', '1,036,600')
    """
    if not math.isfinite(x):
        return str(x)
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.6g}" if abs(x) < 1000 else f"{x:,.0f}"


BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Unicode's bidirectional formatting characters: text that holds them can display in
another order than it reads (a file name or ship name "spoofed" to look like another)."""


def reveal_bidi(text: str) -> str:
    """``text`` with every bidirectional formatting character shown as its escape
    (``\\u202e``), so that what a page shows is what the string holds.

    >>> reveal_bidi("abc\\u202edef")
    'abc\\\\u202edef'
    """
    if not any(ch in BIDI_CONTROLS for ch in text):
        return text
    return "".join(f"\\u{ord(ch):04x}" if ch in BIDI_CONTROLS else ch for ch in text)
