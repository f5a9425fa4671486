"""Load test: N concurrent sessions (Playwright + Chromium) against a local lab.

    PYTHONPATH=. .venv/bin/python scripts/loadtest.py --sessions 5 10 20 [--browsers B]

For each N: starts `streamlit run app.py` on a free 127.0.0.1 port (nothing else is
contacted), warms it with one session (the shared model loads), then N sessions each add a
memory, recall it with a typed query and step one night. Sessions arrive --ramp s apart.

By default every session is a real Chromium browser context on this machine. Twenty
Chromium renderers then share the server's cores (on 2 cores they use ~90 % of the CPU), so
``--browsers B`` drives only B of the N sessions with Chromium and the other N - B over the
app's own websocket protocol (scripts/st_protocol.py: a real server session that renders
nothing, as if its browser ran on the visitor's own machine). Each kind is reported apart.

Reports, per kind of client, p50 / p95 seconds per action (click to result on the page),
errors, the server's RSS at rest, its peak, its RSS after every session closed and after
the reconnect window passed (settled), the load average, and the CPU seconds the server and
everything else (browsers, this script) used. Bounded: N <= 30, each action
<= --action-timeout s, a whole run <= --deadline s; it stops by itself.
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

from scripts.devserver import CHROMIUM_ARGS, find_chromium, running_server  # noqa: E402
from st_protocol import ProtocolSession  # noqa: E402

MAX_SESSIONS = 30
ACTIONS = ("add", "recall", "night")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int | None = None) -> float:
    """CPU seconds (user + system) used so far by process ``pid``, or by the whole machine."""
    if pid is not None:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    return (sum(cpu) - cpu[3] - cpu[4]) / os.sysconf("SC_CLK_TCK")   # all but idle, iowait


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
                    await page.locator('[data-testid="stAlertContentSuccess"]').get_by_text(
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


async def protocol_session(url: str, i: int, timeout_s: float, times: dict, errors: list,
                           ramp: float = 0.0):
    """The same visit as :func:`session` over the websocket protocol (no browser)."""
    await asyncio.sleep(max(i, 0) * ramp)
    word = f"lighthouse{i}"
    try:
        async with ProtocolSession(url) as s:
            await s.open(timeout_s)
            for action in ACTIONS:
                try:
                    if action == "add":
                        await s.goto("Memories", timeout_s)
                        t0 = time.perf_counter()
                        s.set("text_input", "Cue", "string_value", f"Where is the {word} key?")
                        s.set("text_input", "Target (optional)", "string_value",
                              f"Under the {word} mat")
                        await s.press("Add memory", timeout_s)
                        expect = "Added 1 memory"
                    elif action == "recall":
                        await s.goto("Recall & noise", timeout_s)
                        t0 = time.perf_counter()
                        s.choose("Query", "Type a query")
                        await s.rerun(timeout=timeout_s)
                        s.set("text_input", "Query text", "string_value", f"{word} key")
                        await s.rerun(timeout=timeout_s)
                        expect = f"Under the {word} mat"
                    else:
                        await s.goto("Consolidation nights", timeout_s)
                        t0 = time.perf_counter()
                        await s.press("Step: a day", timeout_s)
                        expect = "**Night 1** · learned"
                    if not s.shows(expect):
                        raise AssertionError(f"the page does not show {expect!r}")
                    times[action].append(time.perf_counter() - t0)
                except Exception as exc:  # noqa: BLE001 - counted, never stops the others
                    errors.append(f"protocol session {i} {action}: {type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0][:160] if str(exc) else ''}")
    except Exception as exc:  # noqa: BLE001
        errors.append(f"protocol session {i} start: {type(exc).__name__}: {str(exc)[:160]}")


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def browser_slots(n: int, browsers: int) -> set[int]:
    """Which of the sessions 0 .. n-1 (in arrival order) use Chromium: ``browsers`` of them,
    spread evenly, so browsers meet the load at its start, middle and end."""
    return {(j * n) // browsers for j in range(browsers)} if browsers else set()


async def run_n(chromium: str, url: str, pid: int, n: int, args) -> dict:
    browsers = n if args.browsers is None else min(args.browsers, n)
    times = {a: [] for a in ACTIONS}
    ptimes = {a: [] for a in ACTIONS}
    slots = browser_slots(n, browsers)
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
        cpu0, server0 = cpu_s(), cpu_s(pid)
        try:
            await asyncio.wait_for(asyncio.gather(*(
                session(browser, url, i, args.action_timeout, times, errors, args.ramp)
                if i in slots else
                protocol_session(url, i, args.action_timeout, ptimes, errors, args.ramp)
                for i in range(n))), timeout=args.deadline)
        except asyncio.TimeoutError:
            errors.append(f"deadline of {args.deadline:.0f} s reached")
        wall = time.perf_counter() - t0
        cpu_all, cpu_server = cpu_s() - cpu0, cpu_s(pid) - server0
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
    return {"n": n, "browsers": browsers, "wall": wall, "load": load, "times": times,
            "ptimes": ptimes, "errors": errors, "rest": rest,
            "peak": sampler.peak, "closed": closed, "settled": settled,
            "cpu_server": cpu_server, "cpu_other": cpu_all - cpu_server}


def table(results: list[dict]) -> str:
    """One row per N and kind of client (Chromium, or the websocket protocol)."""
    head = ("| sessions | client | add p50 / p95 s | recall p50 / p95 s | night p50 / p95 s | "
            "errors | RSS at rest MB | peak MB | after close MB | settled MB | load avg | "
            "CPU s server / rest |")
    rows = [head, "|" + "---|" * 12]
    for r in results:
        kinds = [("Chromium", "times", r["browsers"], lambda e: not e.startswith("protocol")),
                 ("protocol", "ptimes", r["n"] - r["browsers"],
                  lambda e: e.startswith("protocol"))]
        for name, key, count, mine in kinds:
            if not count:
                continue
            cells = [f"{pct(r[key][a], .5):.1f} / {pct(r[key][a], .95):.1f}" for a in ACTIONS]
            errs = sum(map(mine, r["errors"]))
            rows.append(f"| {r['n']} | {count} {name} | " + " | ".join(cells) +
                        f" | {errs} | {r['rest']:.0f} | {r['peak']:.0f} | "
                        f"{r['closed']:.0f} | {r['settled']:.0f} | {r['load']:.1f} | "
                        f"{r['cpu_server']:.0f} / {r['cpu_other']:.0f} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[5, 10, 20])
    ap.add_argument("--action-timeout", type=float, default=120.0,
                    help="seconds one action may take before it counts as an error")
    ap.add_argument("--deadline", type=float, default=420.0,
                    help="seconds all sessions of one N may take together")
    ap.add_argument("--browsers", type=int, default=None,
                    help="how many of the N sessions use Chromium (default: all); the others "
                         "speak the websocket protocol (no rendering on this machine)")
    ap.add_argument("--ramp", type=float, default=0.5,
                    help="seconds between two sessions' arrivals")
    ap.add_argument("--settle", type=float, default=160.0,
                    help="seconds to wait after the sessions close (Streamlit keeps a closed "
                         "session 120 s for a reconnect)")
    args = ap.parse_args()
    bad = [n for n in args.sessions if not 1 <= n <= MAX_SESSIONS]
    if bad:
        sys.exit(f"--sessions must be in [1, {MAX_SESSIONS}], got {bad}")
    if args.browsers is not None and not 0 <= args.browsers <= MAX_SESSIONS:
        sys.exit(f"--browsers must be in [0, {MAX_SESSIONS}], got {args.browsers}")
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
