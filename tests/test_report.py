"""The shareable report: content, self-containment, escaping, and a real headless browser.

The browser tests drive Debian's Chromium (``/usr/bin/chromium``, installed by ``make test``)
with Playwright, with every request that is not a ``file:`` or ``data:`` URL refused. Without
the browser they are skipped, unless ``TANKERSIM_REQUIRE_BROWSER=1`` (set by ``make test`` and
so by CI), where a missing browser fails them. The first screen of the baseline's report is
saved to ``test-artifacts/`` (or ``$TANKERSIM_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim.api as api
from sim.cli import app
from sim.core.assumptions import assumptions
from sim.core.config import load_scenario
from sim.core.fmt import pct
from sim.outputs.report import build_report, read_run, script_tags
from tests.browser import CHROMIUM, browse
from tests.conftest import ROOT, SCENARIOS, copy_scenario

ARTIFACTS = Path(os.environ.get("TANKERSIM_TEST_ARTIFACTS", ROOT / "test-artifacts"))
PAYLOADS = ("<script>window.__pwned=1</script>", '"><img src=x onerror="window.__pwned=2">')
HOSTILE = " ".join(PAYLOADS)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small Monte Carlo and a small calibration of the baseline, and their report."""
    folder = tmp_path_factory.mktemp("report")
    sc = SCENARIOS / "osc-2024.toml"
    api.run_mc(sc, n=1000, out=folder / "mc", options="serial")
    api.calibrate(
        sc, out=folder / "cal", options="serial", population=100, generations=2, replications=2
    )
    api.robustness(sc, out=folder / "audit", options="serial", population=40, generations=2,
                   replications=1, only=["start-up"], progress=False)  # fmt: skip
    html, md = api.report([folder / "audit", folder / "cal", folder / "mc"], folder / "report.html")
    return {"folder": folder, "html": html, "md": md, "mc": folder / "mc", "cal": folder / "cal",
            "audit": folder / "audit"}  # fmt: skip


def html_escape(text: str) -> str:
    """As the report's Jinja environment escapes text."""
    from markupsafe import escape

    return str(escape(text))


def test_the_answer_leads_with_the_range_and_carries_its_checks(
    baseline: dict[str, Path],
) -> None:
    """The report opens with the range across the audit, then the default's answer; the
    verdict JSON and the report carry the held-out checks with their percentiles."""
    html = baseline["html"].read_text(encoding="utf-8")
    audit = json.loads((baseline["audit"] / "robustness.json").read_text())
    post = json.loads((baseline["cal"] / "verdict_posterior.json").read_text())
    assert html.index('id="range"') < html.index('id="verdict"')
    assert html_escape(audit["headline"]) in html
    assert audit["headline"].startswith("Did the 43 seen visits carry 1,000,000 barrels? Across")
    # the calibrate verdict leads with its own range (default and every row), then the default
    assert post["headline"].startswith("Did the 43 seen visits carry 1,000,000 barrels? Between")
    assert post["headline"].index("Between") < post["headline"].index("Monte Carlo error")
    assert [a["evidence"] for a in post["alternatives"]] == ["all"]
    held = {h["id"]: h for h in post["held_out"]}
    keys = ("us-2018-capacity", "argus-2016-throughput", "bbc-share-sanctioned",
            "yomiuri-pys1-2024-04-07:cycle", "ft-march-volume", "usgov-march-volume")  # fmt: skip
    for key in keys:
        assert key in held and 0.0 <= held[key]["percentile"] <= 1.0, key
        assert html_escape(held[key]["label"]) in html
    assert 'id="held-out"' in html and "What would settle it" in html
    # the evidence table shows each row's provenance
    assert "<th>basis</th><th>independence</th>" in html
    assert (
        '<td data-label="basis">estimated</td><td data-label="independence">claimants</td>' in html
    )


def test_report_reads_the_verdicts_the_runs_wrote(baseline: dict[str, Path]) -> None:
    html = baseline["html"].read_text(encoding="utf-8")
    post = json.loads((baseline["cal"] / "verdict_posterior.json").read_text())
    prior = json.loads((baseline["mc"] / "verdict.json").read_text())
    # the headlines appear verbatim (escaped as HTML text), posterior first
    head_post = post["headline"].replace("'", "&#39;")
    head_prior = prior["headline"]["text"].replace("'", "&#39;")
    assert head_post in html and head_prior in html
    assert html.index(head_post) < html.index(head_prior)
    # the answer, then the key figures, then the claims check and the long tables
    assert html.index('id="answer"') < html.index('id="figures"') < html.index('id="claims"')
    assert html.index('id="claims"') < html.index('id="evidence"')
    assert html.index('id="evidence"') < html.index('id="assumptions"') < html.index('id="limits"')
    assert html.index('id="limits"') < html.index('id="reproduce"')
    # the claims check flags the tonnes
    assert "Barrels against tonnes: impossible." in html
    # every input of the scenario is a row of the assumptions table, in order
    sc = load_scenario(baseline["mc"] / "scenario.resolved.toml")
    keys = re.findall(
        r'<tr><td data-label="input"><code>([^<]+)</code></td>', html.split('id="assumptions"')[1]
    )
    assert keys[: len(assumptions(sc))] == [a.key for a in assumptions(sc)]
    # provenance: the runs' seeds, scenario hashes and commands
    manifest = json.loads((baseline["mc"] / "manifest.json").read_text())
    assert manifest["scenario_sha256_16"] in html
    assert f"tankersim report {baseline['folder'] / 'audit'} {baseline['folder'] / 'cal'}" in html


def _visible(html: str) -> str:
    """The page's text as a reader sees it: no tags, styles, scripts or data URIs."""
    from html import unescape

    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(strong|code|span|a|em|b)\b[^>]*>", "", html)  # inline: no space
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_first_screen_answers_with_a_picture(baseline: dict[str, Path]) -> None:
    """Under the question: which answer it is, then the answer drawn from the verdicts the
    runs wrote (the audit's range, the posterior's and the prior-only probabilities on a
    0-100 % strip, the barrels against the claim); the long tables come after the key figures,
    folded under a summary that says what they hold."""
    html = baseline["html"].read_text(encoding="utf-8")
    post = json.loads((baseline["cal"] / "verdict_posterior.json").read_text())
    prior = json.loads((baseline["mc"] / "verdict.json").read_text())
    audit = json.loads((baseline["audit"] / "robustness.json").read_text())
    order = ['class="question"', 'id="which-answer"', 'id="answer-figure"', 'id="range"',
             'id="verdict"', 'id="figures"', 'id="claims"', 'id="evidence-table"']  # fmt: skip
    assert [html.index(k) for k in order] == sorted(html.index(k) for k in order)
    # which answer: the evidence-based one, and the command of the prior-only one
    which = _visible(html.split('id="which-answer"')[1].split("</p>")[0])
    assert "This is the evidence-based answer, from tankersim calibrate" in which
    assert "The prior-only answer, from tankersim mc, conditions on the claimed visits" in which
    assert "The range across the assumptions is from tankersim robustness." in which
    # the picture draws the numbers of the verdict files, at their places on the strips
    pic = build_report([baseline["audit"], baseline["cal"], baseline["mc"]], tracks=False)[
        "picture"
    ]
    assert pic["lead"]["word"].lower() == post["word"]
    rows = {r["label"]: r for r in pic["panels"][0]["rows"]}
    seen = rows["With the evidence: the 43 seen visits"]
    assert seen["mid"] == pytest.approx(100 * post["seen"]["p"], abs=0.01)
    assert seen["lo"] == pytest.approx(
        max(0.0, 100 * (post["seen"]["p"] - 2 * post["seen"]["mcse"])), abs=0.01
    )
    mc_seen = rows["Prior only (no evidence weighed): the 43 seen visits"]
    p_mc = prior["conditional"]["p_observed_bbl_ge_claimed"]
    assert mc_seen["mid"] == pytest.approx(100 * p_mc["p"], abs=0.01)
    ranged = next(r for r in rows.values() if r["label"].startswith("Across the assumption audit"))
    assert (ranged["lo"], ranged["hi"]) == pytest.approx(
        (100 * audit["range"][0], 100 * audit["range"][1]), abs=0.01
    )
    assert len(ranged["marks"]) == len(audit["settings"])
    bbl = pic["panels"][1]
    claim_x, median = bbl["claim_x"], bbl["rows"][0]["mid"]
    q = post["quantities"]["seen_claim_bbl"]
    assert median / claim_x == pytest.approx(q["median"] / 1_000_000, rel=1e-3)
    for r in pic["panels"][0]["rows"]:  # every strip is drawn in the page, dot and whisker
        assert f'cx="{r["mid"]}%"' in html
    # a text alternative that says it all in words
    alt = html.split('id="answer-figure-alt">')[1].split("</span>")[0]
    assert f"the 43 seen visits: {pct(post['seen']['p'])}" in alt
    # the long tables, folded: the summary says what is inside
    ev = pd.read_csv(SCENARIOS / "osc-2024.evidence.csv")
    assert f"<summary>Evidence: {len(ev)} rows" in html
    sc = load_scenario(baseline["mc"] / "scenario.resolved.toml")
    assert f"<summary>Assumptions: {len(assumptions(sc))} inputs" in html
    for fold in ("audit-table", "posterior-table", "held-out", "evidence-table",
                 "predictive-table", "checks-table", "assumptions-table"):  # fmt: skip
        assert f'<details class="fold" id="{fold}">' in html, fold


def test_missing_numbers_read_as_a_dash_not_nan(baseline: dict[str, Path], tmp_path: Path) -> None:
    """NaN or empty cells in the runs' tables and nulls in their JSON show as an em dash (and
    why, where the page knows), never "nan" or "None"."""
    import shutil

    mc, cal = tmp_path / "mc", tmp_path / "cal"
    shutil.copytree(baseline["mc"], mc)
    shutil.copytree(baseline["cal"], cal)
    for folder in (mc, cal):
        (folder / ".tankersim-done.json").unlink(missing_ok=True)  # the files are edited
    checks = pd.read_csv(mc / "checks.csv")
    used = checks.index[checks["status"] == "used"][0]
    checks.loc[used, ["simulated_p05", "simulated_p50", "simulated_p95", "p_agrees"]] = float("nan")
    checks.loc[used, "measured"] = float("nan")
    checks.to_csv(mc / "checks.csv", index=False)
    pred = pd.read_csv(cal / "predictive.csv")
    pred.loc[0, ["median", "agree_prior"]] = float("nan")
    pred.to_csv(cal / "predictive.csv", index=False)
    v = json.loads((cal / "verdict_posterior.json").read_text())
    v["seen"]["mcse"] = None
    v["quantities"]["trips"]["lo"] = None
    v["held_out"][0]["percentile"] = None
    (cal / "verdict_posterior.json").write_text(json.dumps(v))
    html, md = api.report([cal, mc], tmp_path / "r.html", tracks=False)
    for page in (_visible(html.read_text(encoding="utf-8")), md.read_text(encoding="utf-8")):
        bad = re.findall(r".{40}\b(?:nan|NaN|None|inf)\b.{20}", page)
        assert bad == [], bad
    text = _visible(html.read_text(encoding="utf-8"))
    row = text.split("(model checks)")[1].split(str(checks.loc[used, "id"]))[1][:200]
    assert "\u2014 not available" in row  # a used row with no simulated number says so
    assert "trips (all visits)" in text
    assert re.search(r"90 % credible interval \u2014-\d", text)  # the missing end: a dash


def test_report_is_self_contained_and_small(baseline: dict[str, Path]) -> None:
    html = baseline["html"].read_text(encoding="utf-8")
    assert baseline["html"].stat().st_size < 5_000_000
    # nothing refers to the network or to another file
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", html)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert srcs and all(s.startswith(("data:image/svg+xml;base64,", "data:image/png;base64,"))
                        for s in srcs)  # fmt: skip
    assert script_tags(html) == 2  # the track player's JSON and the report's own script
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_markdown_twin_says_the_same(baseline: dict[str, Path]) -> None:
    md = baseline["md"].read_text(encoding="utf-8")
    post = json.loads((baseline["cal"] / "verdict_posterior.json").read_text())
    assert f"## The answer: **{post['word']}**" in md
    assert "**Barrels against tonnes: impossible.**" in md
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):  # figure links resolve
        assert (baseline["md"].parent / link).is_file(), link


def test_tracks_show_a_replication_that_matches_the_claimed_visits(
    baseline: dict[str, Path],
) -> None:
    ctx = build_report([baseline["mc"]])
    reps = pd.read_parquet(baseline["mc"] / "replications.parquet")
    v = json.loads((baseline["mc"] / "verdict.json").read_text())
    r = int(re.search(r"replication (\d+)", ctx["player"]["caption"]).group(1))
    row = reps[reps.replication == r].iloc[0]
    c = v["conditional"]
    assert abs(row.observed_visits - c["target"]) <= c["halfwidth"]
    player = ctx["player"]["player"]
    assert len(player["ships"]) == load_scenario(SCENARIOS / "osc-2024.toml").n_ships
    assert all(len(s["x"]) == len(player["times"]) for s in player["ships"])


def test_report_cli_and_bad_folders(runner: Any, baseline: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", str(baseline["mc"]), "--out", str(out), "--no-tracks"])
    assert r.exit_code == 0, r.output
    assert out.is_file() and out.with_suffix(".md").is_file()
    page = out.read_text(encoding="utf-8")
    assert 'id="player"' not in page
    # an mc folder alone: the page says it shows the prior-only answer, and how to get the other
    assert (
        "This is the <strong>prior-only answer</strong> from <code>tankersim mc</code>: the "
        "scenario's priors conditioned on the claimed visits alone, not on the evidence file. "
        "<code>tankersim calibrate</code> gives the evidence-based one." in page
    )
    word_seen = json.loads((baseline["mc"] / "verdict.json").read_text())["headline"]["word_seen"]
    lead = page.split('<p class="lead"><span class="word')[1].split("</span>")[0]
    assert lead.endswith(">" + word_seen[:1].upper() + word_seen[1:])
    r = runner.invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2
    assert "RUN_DIR" in r.output and "no manifest.json" in r.output
    with pytest.raises(Exception, match="not a folder"):
        read_run(tmp_path / "nothing")


# --------------------------------------------------------------------------- hostile strings


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline with a payload in every user string that reaches the page."""
    folder = tmp_path_factory.mktemp("hostile")
    names = ", ".join(json.dumps(f"{HOSTILE} {i}") for i in range(5))
    path = copy_scenario(
        "osc-2024.toml",
        folder,
        **{
            'name = "osc-2024"': f"name = {json.dumps('osc ' + HOSTILE)}",
            'title = "Vostochny -> DPRK product tankers, 7 Mar - 5 Nov 2024 (OSC baseline)"': (
                f"title = {json.dumps('T ' + HOSTILE)}"
            ),
            "[fleet.unnamed]\ncount = 5": f"[fleet.unnamed]\nnames = [{names}]",
            "source = \"OSC, 'Refined Tastes' (22 Nov 2024); BBC, J. Mackenzie (22 Nov 2024)\"": (
                f"source = {json.dumps('S ' + HOSTILE)}"
            ),
            '"terminal.port" = "OSC; BBC [row 2]"': f'"terminal.port" = {json.dumps(HOSTILE)}',
        },
    )
    ev = pd.read_csv(folder / "osc-2024.evidence.csv", dtype=str, keep_default_na=False)
    ev["source"] = "E " + HOSTILE
    ev["note"] = "N " + HOSTILE
    ev.to_csv(folder / "osc-2024.evidence.csv", index=False)
    api.run_mc(path, n=300, out=folder / "mc", options="serial")
    html, _ = api.report([folder / "mc"], folder / "report.html")
    return html


def test_hostile_strings_are_escaped_in_the_html(hostile: Path) -> None:
    html = hostile.read_text(encoding="utf-8")
    assert script_tags(html) == 2  # only the report's own
    tags = re.findall(r"<img\b[^>]*>", html)
    assert tags and all(t.startswith('<img src="data:image/') for t in tags)
    assert re.search(r"<[a-zA-Z][^>]*\son\w+\s*=", html) is None  # no event handler in a tag
    assert html.count("&lt;script&gt;window.__pwned=1&lt;/script&gt;") >= 6
    # the ship names reach the player's JSON with < and > escaped
    data = html.split('id="player-data">')[1].split("</script>")[0]
    assert "<" not in data and "\\u003cscript\\u003e" in data


def test_hostile_strings_are_escaped_in_the_markdown(hostile: Path) -> None:
    md = hostile.with_suffix(".md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md
    assert "&lt;script&gt;" in md


# --------------------------------------------------------------------------- a real browser


def _require_browser() -> None:
    problem = None
    if not CHROMIUM.is_file():
        problem = f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install -e '.[dev]')"
    if problem is not None:
        if os.environ.get("TANKERSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)


def test_report_in_headless_chromium(baseline: dict[str, Path]) -> None:
    _require_browser()
    shot = ARTIFACTS / "report-first-screen.png"
    seen = browse(baseline["html"], screenshot=shot, play=True)
    assert seen["refused"] == [] and seen["failed"] == []
    assert [c for c in seen["console"] if c[0] in ("error", "warning")] == []
    assert seen["errors"] == [] and seen["dialogs"] == []
    assert len(seen["images"]) >= 8
    assert all(width > 0 for _, width in seen["images"]), seen["images"]
    post = json.loads((baseline["cal"] / "verdict_posterior.json").read_text())
    assert post["headline"] in seen["verdict"]
    assert "Barrels against tonnes: impossible." in seen["text"]
    # the track player moves: the slider sets the step and the label follows
    assert seen["step"] == "400" and seen["label_moved"]
    assert seen["ships_drawn"] == load_scenario(SCENARIOS / "osc-2024.toml").n_ships
    assert shot.is_file() and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_hostile_report_runs_nothing_in_chromium(hostile: Path) -> None:
    _require_browser()
    seen = browse(hostile, play=True, open_details=True)  # the folded tables unfolded
    assert seen["pwned"] is None and seen["dialogs"] == []
    assert seen["refused"] == [] and seen["failed"] == [] and seen["errors"] == []
    assert [c for c in seen["console"] if c[0] == "error"] == []
    for payload in PAYLOADS:  # shown as text: title, claim source, evidence, sources
        assert seen["text"].count(payload) >= 4, payload


def test_report_reads_on_a_phone_and_answers_on_the_first_screen(
    baseline: dict[str, Path],
) -> None:
    """At a phone's 390 px the page does not scroll sideways, its tables unfolded or not, and
    the answer picture's and the histogram's text keeps a readable size; at 1280 x 900 the
    first figure starts on the first screen. Both first screens are saved to the artifacts."""
    _require_browser()
    phone = browse(baseline["html"], viewport=(390, 844), screenshot=ARTIFACTS / "report-phone.png")
    lay = phone["layout"]
    assert lay["inner_width"] == 390
    assert lay["scroll_width"] <= lay["inner_width"], lay["wide"]
    assert lay["picture_text_px"] and min(lay["picture_text_px"]) >= 11, lay["picture_text_px"]
    unfolded = browse(baseline["html"], viewport=(390, 844), open_details=True)["layout"]
    assert unfolded["scroll_width"] <= 390, unfolded["wide"]
    desktop = browse(baseline["html"], screenshot=ARTIFACTS / "report-desktop.png")
    lay = desktop["layout"]
    assert lay["inner_width"] == 1280 and lay["scroll_width"] <= 1280, lay["wide"]
    assert lay["figure_top"] is not None and lay["figure_top"] < 900, lay
    assert desktop["errors"] == [] and phone["errors"] == []
    print(f"390 px: {phone['layout']}; 1280 px: {lay}")


def test_report_of_a_sweep_and_a_plain_mc(tmp_path: Path) -> None:
    """A scenario without evidence or posterior: the sweep's figures are embedded, the
    answer is the Monte Carlo's, and the tracks come from replication 0."""
    from sim.runner.sweep import parse_vary

    sc = SCENARIOS / "minimal.toml"
    api.run_mc(sc, n=20, out=tmp_path / "mc", options="serial")
    dims = [parse_vary("fleet.tanker.capacity_bbl=10000:30000:3")]
    api.run_sweep(sc, dims=dims, n=5, out=tmp_path / "sweep", options="serial")
    ctx = build_report([tmp_path / "mc", tmp_path / "sweep"])
    sweep_figs = sorted(p.stem for p in (tmp_path / "sweep" / "plots").glob("*.svg"))
    assert sweep_figs and [f.id for f in ctx["figures"] if f.id.startswith("sweep-")] == [
        f"sweep-{s}" for s in sweep_figs
    ]
    assert ctx["posterior"] is None and ctx["prior_mc"] is not None
    assert ctx["evidence"] == [] and ctx["player"]["caption"].startswith("The ships of replica")
    assert "replication 0" in ctx["player"]["caption"]
    kinds = [r["kind"] for r in ctx["runs"]]
    assert kinds == ["mc", "sweep"]
