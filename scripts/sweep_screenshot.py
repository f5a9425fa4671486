"""Screenshots of the Sweep page (running, then a two-parameter sweep as lines with 95 % CI
error bars) and of the Findings page, with Chromium, for docs/sweep.md and docs/lab.md.

    PYTHONPATH=. .venv/bin/python scripts/sweep_screenshot.py [--out docs/screenshots]
        [--only sweep|findings]

Starts the lab with scratch workspace and sweep-cache folders. Sweep: runs the page's default
grid (noise: code_dim 4096, 16384 x 5 noise levels x 3 seeds = 30 tasks) and saves
10_sweep_running.png, 10_sweep.png (1400 px wide, whole page), 10_sweep_1024.png (1024 px
wide, whole page) and 10_sweep_1024x768.png (a 1024 x 768 window on the chart); then loads
the teaching set and runs recall on it: 10_sweep_workspace.png (+ _1024x768). Findings:
12_findings.png (1400), 12_findings_1024.png and 12_findings_1024x768.png.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playwright.sync_api import sync_playwright  # noqa: E402

from scripts.devserver import CHROMIUM_ARGS, ROOT, find_chromium, running_server  # noqa: E402

WAIT = 300_000


def settle(page) -> None:
    page.wait_for_timeout(400)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=WAIT)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')",
                           timeout=WAIT)
    page.wait_for_timeout(1200)


def whole(page, path: Path, width: int) -> None:
    """Streamlit scrolls inside its main block: grow the window to the content, then shoot."""
    page.set_viewport_size({"width": width, "height": 1000})
    settle(page)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')"
                           ".scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(int(height) + 40, 768), 8000)})
    settle(page)
    page.screenshot(path=str(path), full_page=True)
    print("saved", path)


def window(page, path: Path, locator) -> None:
    """A 1024 x 768 window with ``locator`` scrolled into view (as a small laptop shows it)."""
    page.set_viewport_size({"width": 1024, "height": 768})
    settle(page)
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    print("saved", path)


def sweep(page, out: Path) -> None:
    page.get_by_role("link", name=re.compile("Sweep")).first.click()
    page.get_by_role("heading", name=re.compile("Parameter sweeps")).wait_for(timeout=WAIT)
    settle(page)
    page.get_by_role("button", name=re.compile("Run sweep")).click()
    page.get_by_text(re.compile(r"of 30 tasks")).first.wait_for(timeout=WAIT)
    page.wait_for_timeout(4000)
    page.screenshot(path=str(out / "10_sweep_running.png"), full_page=True)
    print("saved", out / "10_sweep_running.png")
    page.get_by_text(re.compile("Each point: the mean over")).first.wait_for(timeout=WAIT)
    whole(page, out / "10_sweep.png", 1400)
    whole(page, out / "10_sweep_1024.png", 1024)
    window(page, out / "10_sweep_1024x768.png", page.locator(".js-plotly-plot").first)


def own_memories(page, out: Path) -> None:
    """The teaching set (Home), then the Sweep page's run on the workspace's memories."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_role("link", name=re.compile("Home")).first.click()
    page.get_by_role("button", name=re.compile("Load teaching set")).first.click()
    page.get_by_text(re.compile("Added 24")).first.wait_for(timeout=WAIT)
    settle(page)
    page.get_by_role("link", name=re.compile("Sweep")).first.click()
    page.get_by_role("heading", name=re.compile("Parameter sweeps")).wait_for(timeout=WAIT)
    page.get_by_text(re.compile("My workspace's memories")).first.click()
    settle(page)
    page.get_by_role("button", name=re.compile("Run on my memories")).click()
    page.get_by_text(re.compile("Last run:")).first.wait_for(timeout=WAIT)
    whole(page, out / "10_sweep_workspace.png", 1400)
    window(page, out / "10_sweep_workspace_1024x768.png", page.locator(".js-plotly-plot").first)


def findings(page, out: Path) -> None:
    page.get_by_role("link", name=re.compile("Findings")).first.click()
    page.get_by_role("heading", name=re.compile("Findings")).first.wait_for(timeout=WAIT)
    page.locator(".js-plotly-plot").nth(3).wait_for(timeout=WAIT)
    whole(page, out / "12_findings.png", 1400)
    whole(page, out / "12_findings_1024.png", 1024)
    window(page, out / "12_findings_1024x768.png", page.locator(".js-plotly-plot").first)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--only", choices=("sweep", "findings"), default=None)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NUONUO_SWEEPS"] = str(Path(tmp) / "sweeps")
        with running_server(Path(tmp) / "ws") as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_role("heading", name=re.compile("NuoNuo Lab")).wait_for(timeout=WAIT)
            if args.only in (None, "sweep"):
                sweep(page, out)
                own_memories(page, out)
            if args.only in (None, "findings"):
                findings(page, out)
            browser.close()


if __name__ == "__main__":
    main()
