"""Save the first screen of a report as a PNG, in headless Chromium with the network refused.

    python tools/screenshot_report.py docs/report/osc-2024.html docs/img/report-first-screen.png

Uses the report tests' browser helper (tests/browser.py: Debian's Chromium, or
``$TANKERSIM_CHROMIUM``, through Playwright); prints any request refused or failed, console
message, page error or dialog, and exits 1 if there was one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(page_path: str, png_path: str) -> int:
    from tests.browser import browse

    seen = browse(Path(page_path), screenshot=Path(png_path))
    problems = [
        *(f"refused {u}" for u in seen["refused"]),
        *(f"failed {u}" for u in seen["failed"]),
        *(f"console {kind}: {text}" for kind, text in seen["console"]),
        *(f"page error: {e}" for e in seen["errors"]),
        *(f"dialog: {d}" for d in seen["dialogs"]),
    ]
    for line in problems:
        print(line)
    print(f"{png_path}: 1280x900")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
