"""Save the first screen of a report as a PNG, in headless Chromium with the network refused.

    python tools/screenshot_report.py PAGE.html PNG [--width 1280] [--height 900]

    python tools/screenshot_report.py out/osc-2024-report.html docs/img/report-desktop.png
    python tools/screenshot_report.py out/osc-2024-report.html docs/img/report-phone.png \\
        --width 390 --height 844

Uses the report tests' browser helper (tests/browser.py: Debian's Chromium, or
``$TANKERSIM_CHROMIUM``, through Playwright); prints any request refused or failed, console
message, page error or dialog, and the page's layout at that width (its width against the
window's, and where the first figure starts), and exits 1 if there was a problem or the page
scrolls sideways. The PNG is stored with 256 colours where Pillow can (a few tens of KB).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _shrink(png: Path) -> None:
    """The PNG with a 256-colour palette (text and flat figures lose nothing a reader sees)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(png) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(png, optimize=True)


def main(page_path: str, png_path: str, width: int = 1280, height: int = 900) -> int:
    from tests.browser import browse

    png = Path(png_path)
    seen = browse(Path(page_path), screenshot=png, viewport=(width, height))
    _shrink(png)
    layout = seen["layout"]
    problems = [
        *(f"refused {u}" for u in seen["refused"]),
        *(f"failed {u}" for u in seen["failed"]),
        *(f"console {kind}: {text}" for kind, text in seen["console"]),
        *(f"page error: {e}" for e in seen["errors"]),
        *(f"dialog: {d}" for d in seen["dialogs"]),
    ]
    if layout["scroll_width"] > layout["inner_width"]:
        problems.append(
            f"scrolls sideways: {layout['scroll_width']} px wide in a {width} px window "
            f"({', '.join(layout['wide'])})"
        )
    for line in problems:
        print(line)
    top = layout["figure_top"]
    print(
        f"{png_path}: {width}x{height}, {png.stat().st_size / 1000:.0f} KB; page "
        f"{layout['scroll_width']} px wide; first figure at "
        f"{'none' if top is None else f'{top:.0f} px'}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page")
    parser.add_argument("png")
    parser.add_argument("--width", type=int, default=1280, help="window width [px]")
    parser.add_argument("--height", type=int, default=900, help="window height [px]")
    a = parser.parse_args()
    sys.exit(main(a.page, a.png, a.width, a.height))
