"""Screenshots of the Sweep page (running, then finished) with Chromium, for docs/sweep.md.

    PYTHONPATH=. .venv/bin/python scripts/sweep_screenshot.py [--out docs/screenshots]

Starts the lab with scratch workspace and sweep-cache folders, runs the page's default grid
(noise: 3 code_dim x 4 noise levels x 3 seeds = 36 tasks) and saves 10_sweep_running.png,
10_sweep.png (1400 px wide) and 10_sweep_1024.png (1024 x 768).
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NUONUO_SWEEPS"] = str(Path(tmp) / "sweeps")
        with running_server(Path(tmp) / "ws") as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_role("link", name=re.compile("Sweep")).first.click()
            page.get_by_role("heading", name=re.compile("Parameter sweeps")).wait_for(
                timeout=WAIT)
            page.get_by_role("button", name=re.compile("Run sweep")).click()
            page.get_by_text(re.compile(r"of 36 tasks")).first.wait_for(timeout=WAIT)
            page.wait_for_timeout(4000)
            page.screenshot(path=str(out / "10_sweep_running.png"), full_page=True)
            page.get_by_text(re.compile("mean ± sd over")).first.wait_for(timeout=WAIT)
            page.wait_for_timeout(3000)
            page.set_viewport_size({"width": 1400, "height": 1500})
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "10_sweep.png"), full_page=True)
            page.set_viewport_size({"width": 1024, "height": 768})
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "10_sweep_1024.png"))
            browser.close()
    for name in ("10_sweep_running.png", "10_sweep.png", "10_sweep_1024.png"):
        print("saved", out / name)


if __name__ == "__main__":
    main()
