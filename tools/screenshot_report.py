"""Save the first screen of a report as a PNG, in headless Chromium with the network refused.

    python tools/screenshot_report.py docs/report/osc-2024.html docs/img/report-first-screen.png

Uses Debian's Chromium (``/usr/bin/chromium``, or ``$TANKERSIM_CHROMIUM``) through Playwright,
as the report's browser test does; prints any request, console message or page error seen.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def main(page_path: str, png_path: str, width: int = 1280, height: int = 900) -> int:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("TANKERSIM_CHROMIUM", "/usr/bin/chromium")
    problems: list[str] = []
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
            "--disable-background-networking", "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)

        def refuse(route: Any) -> None:
            if route.request.url.startswith(("file:", "data:")):
                route.continue_()
            else:
                problems.append(f"refused {route.request.url}")
                route.abort()

        context.route("**/*", refuse)
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.goto(Path(page_path).resolve().as_uri(), wait_until="load")
        Path(png_path).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=png_path)
        browser.close()
    for line in problems:
        print(line)
    print(f"{png_path}: {width}x{height}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
