"""Take a screenshot of every lab page with Chromium (playwright) for docs/lab.md.

    PYTHONPATH=. .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--width 1400]
        [--pages home conversation ...]

Starts `streamlit run app.py` on a free port with a scratch workspace folder, loads the
teaching demo set, visits every page (clicking the buttons that fill its charts) and saves
docs/screenshots/<n>_<page>.png; at another width than 1400 the files are
<n>_<page>_<width>.png (so a 1024-wide check never replaces the pictures the docs show).
``--pages`` takes only the named shots (names below). Needs /usr/bin/chromium (Debian's
`chromium` package).
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playwright.sync_api import sync_playwright  # noqa: E402

from scripts.devserver import CHROMIUM_ARGS, ROOT, find_chromium, running_server  # noqa: E402

WAIT = 120_000
WIDTH = 1400     # --width 1024 --height 768 checks the smallest supported window
HEIGHT = 1000
SHOTS = ("home", "memories", "recall", "nights", "chains", "network", "benchmark",
         "conversation", "patterns", "tour", "answers")
# "answers" (issue 17): the assistant set answering "no memory matches" for a question it does
# not hold, the Recall energy chart, a chain that stops and the tour's step 4, each cropped
UNHELD = "What's my favourite football team?"


def settle(page) -> None:
    page.wait_for_timeout(400)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=WAIT)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')",
                           timeout=WAIT)       # no faded leftovers of the previous run
    page.wait_for_timeout(800)


def click(page, name: str, then: str | None = None) -> None:
    page.get_by_role("button", name=re.compile(name)).first.click()
    if then:
        page.get_by_text(re.compile(then)).first.wait_for(timeout=WAIT)
    settle(page)


def shoot(page, path: Path) -> None:
    """Streamlit scrolls inside its main block: grow the viewport to the content, then shoot."""
    if WIDTH != 1400:
        path = path.with_name(f"{path.stem}_{WIDTH}{path.suffix}")
    shown = 0
    for _ in range(4):              # charts drawn after a resize can grow the page again
        height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')"
                               ".scrollHeight")
        want = min(max(int(height) + 40, HEIGHT), 6000)
        if want <= shown:
            break
        page.set_viewport_size({"width": WIDTH, "height": want})
        shown = want
        settle(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    print("saved", path)


def shoot_part(page, path: Path, top: str, bottom: str | None = None, pad: int = 12) -> None:
    """Shoot the part of the page from the element matching ``top`` (a text or a heading)
    down to the top of ``bottom`` (else the end of the page)."""
    if WIDTH != 1400:
        path = path.with_name(f"{path.stem}_{WIDTH}{path.suffix}")
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')"
                           ".scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": min(max(int(height) + 40, HEIGHT), 8000)})
    settle(page)
    y0 = page.get_by_text(re.compile(top)).first.bounding_box()["y"] - pad
    y1 = (page.get_by_text(re.compile(bottom)).first.bounding_box()["y"] - pad if bottom
          else page.evaluate("() => document.querySelector("
                             "'[data-testid=\"stMainBlockContainer\"]')"
                             ".getBoundingClientRect().bottom"))
    page.screenshot(path=str(path), clip={"x": 0, "y": max(y0, 0), "width": WIDTH,
                                          "height": max(y1 - y0, 50)})
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    print("saved", path)


def answers(page, out: Path) -> None:
    """Issue 17's pictures: no memory matches, the energy chart, a chain that stops, step 4."""
    page.get_by_role("heading", name=re.compile("NuoNuo Lab")).wait_for(timeout=WAIT)
    click(page, "Load personal assistant", "Added 16")
    goto(page, "Recall & noise")
    page.get_by_text("Type a query").click()
    settle(page)
    box = page.get_by_role("textbox", name="Query text")
    box.fill(UNHELD)
    box.press("Enter")
    page.get_by_text(re.compile("No memory matches")).first.wait_for(timeout=WAIT)
    settle(page)
    shoot_part(page, out / "3_recall_no_memory_matches.png", "^Query$",
               "When to answer: what each threshold trades")
    shoot_part(page, out / "3_recall_energy.png", "Hopfield settling, step by step",
               "^Noise sweep$")
    goto(page, "Multi-hop chains")
    if not page.get_by_role("button", name=re.compile("Load the demo chain")).is_visible():
        page.get_by_text("Build or load chains").first.click()
    click(page, "Load the demo chain set", "Added 13")
    box = page.get_by_role("combobox", name=re.compile("Start from"))
    box.click()
    page.keyboard.type("red key")
    page.keyboard.press("Enter")
    settle(page)
    slider = page.get_by_role("slider", name="Hops")
    slider.focus()
    for _ in range(6):
        slider.press("ArrowRight")
    page.get_by_text(re.compile("and stopped: ")).first.wait_for(
        timeout=WAIT)
    settle(page)
    shoot_part(page, out / "5_chain_stops.png", "^Start from$")
    goto(page, "Guided tour")
    click(page, "Run the tour", "Step 4")
    shoot_part(page, out / "7_tour_step4.png", "Step 4 · Pattern completion",
               "Next: the same engine")


def goto(page, title: str, heading: str | None = None) -> None:
    page.get_by_role("link", name=re.compile(title)).first.click()
    page.get_by_role("heading", name=re.compile(heading or title)).first.wait_for(timeout=WAIT)
    settle(page)


def conversation(page, out: Path) -> None:
    """The Conversation memory page on the example: a paraphrased suggested question, its top
    turns, channel bars, settling and recall against the labels."""
    goto(page, "Conversation memory")
    page.get_by_text("Biscuit").first.wait_for(timeout=WAIT)     # the first question's answer
    box = page.get_by_role("combobox", name=re.compile("any of the 21 labelled questions"))
    box.click()
    page.keyboard.type("cup break")
    page.keyboard.press("Enter")
    page.get_by_text(re.compile("kiln")).first.wait_for(timeout=WAIT)
    settle(page)
    page.get_by_text("Recall against the labelled questions").wait_for(timeout=WAIT)
    page.locator(".js-plotly-plot").nth(3).wait_for(timeout=WAIT)
    shoot(page, out / "11_conversation_memory.png")


def main() -> None:
    global WIDTH, HEIGHT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--width", type=int, default=WIDTH, choices=range(800, 2561),
                    metavar="800..2560")
    ap.add_argument("--height", type=int, default=HEIGHT, choices=range(600, 2001),
                    metavar="600..2000")
    ap.add_argument("--pages", nargs="+", choices=SHOTS, default=list(SHOTS),
                    help="which shots to take (default: all)")
    args = ap.parse_args()
    WIDTH, HEIGHT = args.width, args.height
    want = set(args.pages)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "ws") as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.goto(url)
        page.get_by_role("heading", name=re.compile("NuoNuo Lab")).wait_for(timeout=WAIT)
        if want - {"answers"}:
            click(page, "Load teaching set", "Added 24")
        if "home" in want:
            shoot(page, out / "1_home.png")

        if "memories" in want:
            goto(page, "Memories")
            page.get_by_role("tab", name=re.compile("Bulk import")).click()
            page.get_by_role("textbox", name="…or paste").fill(
                "cue,target,importance\nWhere is the station?,Two blocks north,1\n"
                ",missing cue,1\nFavourite tea?,Jasmine,nan\nDentist?,Dr. Okafor,2\n")
            page.keyboard.press("Control+Enter")
            page.get_by_text(re.compile("2 valid rows, 2 with errors")).wait_for(timeout=WAIT)
            settle(page)
            shoot(page, out / "2_memories.png")
        if "recall" in want:
            goto(page, "Recall & noise")
            slider = page.get_by_role("slider", name="Noise σ on the cue")
            slider.focus()
            for _ in range(16):
                slider.press("ArrowRight")
            settle(page)
            click(page, "Run noise sweep")
            page.locator(".js-plotly-plot").nth(2).wait_for(timeout=WAIT)
            shoot(page, out / "3_recall_and_noise.png")
            # the sweep's chart alone: recall over noise with 95 % bands over the draws
            shoot_part(page, out / "3_recall_noise_bands.png", "^Noise sweep$")
        if "nights" in want:
            goto(page, "Consolidation nights")
            per_day = page.get_by_role("spinbutton", name="Memories per day")
            per_day.fill("1")                       # 24 days + 3 nights: thinned night axes
            per_day.press("Enter")
            settle(page)
            click(page, "Play all", r"Night 27 ·")
            shoot(page, out / "4_consolidation_nights.png")
        if "chains" in want:
            goto(page, "Multi-hop chains")
            if not page.get_by_role("button", name=re.compile("Load the demo chain")).is_visible():
                page.get_by_text("Build or load chains").first.click()
            click(page, "Load the demo chain set", "Added 13")
            page.get_by_text("Start from").wait_for(timeout=WAIT)
            box = page.get_by_role("combobox", name=re.compile("Start from"))
            box.click()
            page.keyboard.type("red key")
            page.keyboard.press("Enter")
            page.get_by_text(re.compile(r"^Path: red key")).wait_for(timeout=WAIT)
            settle(page)
            shoot(page, out / "5_multi-hop_chains.png")
        if "network" in want:
            goto(page, "Inside the network")
            click(page, "Build small network")
            page.locator(".js-plotly-plot").nth(3).wait_for(timeout=WAIT)
            click(page, "Run capacity & latency curves")
            page.locator(".js-plotly-plot").nth(5).wait_for(timeout=WAIT)
            shoot(page, out / "6_inside_the_network.png")
        if "benchmark" in want:
            goto(page, "Benchmark", "Benchmark")
            run = page.get_by_role("button", name=re.compile("Run benchmark"))
            if run.count():                  # without LoCoMo data the page says where to get it
                click(page, "Run benchmark")
                page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT)
            shoot(page, out / "8_benchmark.png")
        if "conversation" in want:
            conversation(page, out)
        if "patterns" in want:
            goto(page, "Pattern completion")
            page.locator(".js-plotly-plot").nth(5).wait_for(timeout=WAIT)
            click(page, "Run the capacity chart")
            page.get_by_text("Capacity: overlap vs load").wait_for(timeout=WAIT)
            shoot(page, out / "9_pattern_completion.png")
        if "tour" in want:
            goto(page, "Home", "NuoNuo Lab")
            click(page, "Start the guided tour", "Step 4")
            shoot(page, out / "7_guided_tour.png")
        if "answers" in want:                # a visitor of their own: only the assistant set
            fresh = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}).new_page()
            fresh.goto(url)
            answers(fresh, out)
        browser.close()


if __name__ == "__main__":
    main()
