"""Load test: N concurrent browser sessions (Playwright + Chromium) against a local lab.

    PYTHONPATH=. .venv/bin/python scripts/loadtest.py --sessions 5 10 20

For each N: starts `streamlit run app.py` on a free 127.0.0.1 port (nothing else is
contacted), warms it with one session (the shared model loads), then N browser contexts —
N separate sessions — each add a memory, recall it with a typed query and step one night.
Sessions arrive --ramp s apart. Reports p50 / p95 seconds per action, errors, the server's
RSS at rest, its peak, and its RSS after every session closed and the reconnect window
passed (settled), and the machine's load average while it ran. Bounded: N <= 30,
each action <= --action-timeout s, a whole run <= --deadline s; it stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playwright.async_api import async_playwright  # noqa: E402

from lab.devserver import CHROMIUM_ARGS, find_chromium, running_server  # noqa: E402

MAX_SESSIONS = 30
ACTIONS = ("add", "recall", "night")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.stop = pid, every, 0.0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return
            self.stop.wait(self.every)


async def idle(page, timeout: float) -> None:
    await page.wait_for_timeout(300)
    await page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden",
                                                                  timeout=timeout)


async def goto(page, title: str, timeout: float) -> None:
    await page.get_by_role("link", name=re.compile(title)).first.click(timeout=timeout)
    await page.get_by_role("heading", name=re.compile(title)).first.wait_for(timeout=timeout)
    await idle(page, timeout)


async def session(browser, url: str, i: int, timeout_s: float, times: dict, errors: list,
                  ramp: float = 0.0):
    ms = timeout_s * 1000
    await asyncio.sleep(max(i, 0) * ramp)          # a class arrives over a few seconds
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(ms)                    # fill / press wait as long as a click
    try:
        await page.goto(url, timeout=ms, wait_until="domcontentloaded")
        await page.get_by_role("heading", name=re.compile("NuoNuo Lab")).wait_for(timeout=ms)
        await idle(page, ms)
        word = f"lighthouse{i}"
        steps = {
            "add": ("Memories", None),
            "recall": ("Recall & noise", None),
            "night": ("Consolidation nights", None)}
        for action in ACTIONS:
            try:
                await goto(page, steps[action][0], ms)
                t0 = time.perf_counter()
                if action == "add":
                    await page.get_by_role("textbox", name="Cue", exact=True).fill(
                        f"Where is the {word} key?")
                    await page.get_by_role("textbox", name="Target (optional)").fill(
                        f"Under the {word} mat")
                    await page.get_by_role("button", name="Add memory").click(timeout=ms)
                    await page.get_by_text("Added 1 memory").wait_for(timeout=ms)
                elif action == "recall":
                    await page.get_by_text("Type a query").click(timeout=ms)
                    box = page.get_by_role("textbox", name="Query text")
                    await box.fill(f"{word} key")
                    await box.press("Enter")
                    await page.locator('[data-testid="stAlertContentInfo"]').get_by_text(
                        f"Under the {word} mat").first.wait_for(timeout=ms)
                else:
                    await page.get_by_role("button", name=re.compile("Step: a day")).click(
                        timeout=ms)
                    await page.get_by_text(re.compile(r"Night 1 · learned")).wait_for(
                        timeout=ms)
                times[action].append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops us
                errors.append(f"session {i} {action}: {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:160]}")
    except Exception as exc:  # noqa: BLE001
        errors.append(f"session {i} start: {type(exc).__name__}: "
                      f"{str(exc).splitlines()[0][:160]}")
    finally:
        await ctx.close()


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


async def run_n(chromium: str, url: str, pid: int, n: int, args) -> dict:
    times = {a: [] for a in ACTIONS}
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        # warm-up: one session loads the shared model, then closes
        await session(browser, url, -1, args.action_timeout, {a: [] for a in ACTIONS}, [])
        await asyncio.sleep(2)
        rest = rss_mb(pid)
        sampler = RssSampler(pid)
        sampler.start()
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(
                session(browser, url, i, args.action_timeout, times, errors, args.ramp)
                for i in range(n))), timeout=args.deadline)
        except asyncio.TimeoutError:
            errors.append(f"deadline of {args.deadline:.0f} s reached")
        wall = time.perf_counter() - t0
        load = os.getloadavg()[0]
        await browser.close()
    closed = rss_mb(pid)
    settle_end = time.time() + args.settle
    settled = closed
    while time.time() < settle_end:
        await asyncio.sleep(5)
        settled = rss_mb(pid)
        sampler.peak = max(sampler.peak, settled)
    sampler.stop.set()
    return {"n": n, "wall": wall, "load": load, "times": times, "errors": errors, "rest": rest,
            "peak": sampler.peak, "closed": closed, "settled": settled}


def table(results: list[dict]) -> str:
    head = ("| sessions | add p50 / p95 s | recall p50 / p95 s | night p50 / p95 s | "
            "errors | RSS at rest MB | peak MB | after close MB | settled MB | load avg |")
    rows = [head, "|" + "---|" * 10]
    for r in results:
        cells = [f"{pct(r['times'][a], .5):.1f} / {pct(r['times'][a], .95):.1f}"
                 for a in ACTIONS]
        rows.append(f"| {r['n']} | " + " | ".join(cells) +
                    f" | {len(r['errors'])} | {r['rest']:.0f} | {r['peak']:.0f} | "
                    f"{r['closed']:.0f} | {r['settled']:.0f} | {r['load']:.1f} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[5, 10, 20])
    ap.add_argument("--action-timeout", type=float, default=120.0,
                    help="seconds one action may take before it counts as an error")
    ap.add_argument("--deadline", type=float, default=420.0,
                    help="seconds all sessions of one N may take together")
    ap.add_argument("--ramp", type=float, default=0.5,
                    help="seconds between two sessions' arrivals")
    ap.add_argument("--settle", type=float, default=160.0,
                    help="seconds to wait after the sessions close (Streamlit keeps a closed "
                         "session 120 s for a reconnect)")
    args = ap.parse_args()
    bad = [n for n in args.sessions if not 1 <= n <= MAX_SESSIONS]
    if bad:
        sys.exit(f"--sessions must be in [1, {MAX_SESSIONS}], got {bad}")
    for name in ("action_timeout", "deadline", "settle", "ramp"):
        if not 0 <= getattr(args, name) <= 1800:
            sys.exit(f"--{name.replace('_', '-')} must be in [0, 1800] s")
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium found: apt-get install -y chromium")
    results = []
    for n in args.sessions:     # a fresh server per N, so each N starts from rest
        info: dict = {}
        with tempfile.TemporaryDirectory() as tmp, \
                running_server(Path(tmp) / "ws", info=info) as url:
            r = asyncio.run(run_n(chromium, url, info["pid"], n, args))
        results.append(r)
        print(f"N={n}: wall {r['wall']:.0f} s, {len(r['errors'])} errors", flush=True)
        for e in r["errors"][:10]:
            print("  ", e, flush=True)
        print(table([r]), flush=True)
    print()
    print(table(results))


if __name__ == "__main__":
    main()
