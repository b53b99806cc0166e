"""Headless Chromium for the report's tests and tools/screenshot_report.py: Debian's browser
driven by Playwright, with every request that is not a ``file:`` or ``data:`` URL refused and
DNS mapped to nowhere."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("TANKERSIM_CHROMIUM", "/usr/bin/chromium"))
"""The browser: Debian's ``chromium`` package, or ``$TANKERSIM_CHROMIUM``."""


LAYOUT = """() => {
  const width = window.innerWidth;
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const tops = Array.from(document.querySelectorAll("figure img, figure svg"))
    .filter(shown).map((e) => e.getBoundingClientRect().top + window.scrollY);
  const wide = Array.from(document.querySelectorAll("body *"))
    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.getAttribute("class")}`);
  const heights = (sel) => Array.from(document.querySelectorAll(sel)).filter(shown)
    .map((e) => e.getBoundingClientRect().height);
  return {
    scroll_width: document.documentElement.scrollWidth,
    inner_width: width,
    figure_top: tops.length ? Math.min(...tops) : null,
    wide: wide,
    picture_text_px: heights("#answer-figure text, #answer-figure .lbl, #fig-histogram text"),
  };
}"""
"""What the page's layout measures: the document's width against the window's (more is a
sideways scroll), the top of the first figure drawn (an image or an SVG in a figure) from the
page's top, the first elements that reach past the window's right edge, and the rendered
height in pixels of the answer picture's and the histogram's text lines."""


def browse(
    path: Path,
    screenshot: Path | None = None,
    play: bool = False,
    viewport: tuple[int, int] = (1280, 900),
    open_details: bool = False,
) -> dict[str, Any]:
    """Open ``path`` in headless Chromium with the network refused; what the page did.

    ``viewport`` is the window's width and height in CSS pixels (390 is a phone's width);
    ``open_details`` unfolds every ``<details>`` as a reader who opens them all, before the
    text and the layout are read. ``seen["layout"]`` holds :data:`LAYOUT`'s measurements."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, Any] = {"console": [], "errors": [], "refused": [], "failed": [],
                            "dialogs": []}  # fmt: skip
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
            "--disable-background-networking", "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        width, height = viewport
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)

        def refuse(route: Any) -> None:
            url = route.request.url
            if url.startswith(("file:", "data:")):
                route.continue_()
            else:
                seen["refused"].append(url)
                route.abort()

        context.route("**/*", refuse)
        page = context.new_page()
        page.on("console", lambda m: seen["console"].append((m.type, m.text)))
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.on("requestfailed", lambda r: seen["failed"].append(r.url[:120]))

        def dialog(d: Any) -> None:
            seen["dialogs"].append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(path.resolve().as_uri(), wait_until="load")
        seen["images"] = page.evaluate(
            """async () => Promise.all(Array.from(document.images).map(async (img) => {
                 try { await img.decode(); } catch (e) { return [img.alt, 0]; }
                 return [img.alt, img.naturalWidth]; }))"""
        )
        if open_details:
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        seen["layout"] = page.evaluate(LAYOUT)
        seen["pwned"] = page.evaluate("() => window.__pwned === undefined ? null : window.__pwned")
        seen["text"] = page.inner_text("body")
        has_verdict = page.locator("#verdict").count() > 0
        seen["verdict"] = page.inner_text("#verdict") if has_verdict else ""
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
        if play and page.locator("#player").count():
            before = page.inner_text("#player-label")
            page.fill("#player-time", "400")
            seen["step"] = page.get_attribute("#player", "data-step")
            seen["label_moved"] = page.inner_text("#player-label") != before
            seen["ships_drawn"] = page.locator("#player-ships circle").count()
        browser.close()
    return seen
