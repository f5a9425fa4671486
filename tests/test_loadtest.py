"""The load test's own machinery (scripts/loadtest.py): one Chromium session and two over the
websocket protocol run add, recall and a night against a live server without errors, and
each kind is timed and reported apart; a client sending a wrongly typed widget value gets the
page's error message, and its session and the server keep working. Skipped without
Chromium, except in CI."""
import argparse
import asyncio
import sys

import pytest

from scripts.devserver import ROOT, chromium_or_skip, running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = chromium_or_skip()
sys.path.insert(0, str(ROOT / "scripts"))
import loadtest  # noqa: E402
from st_protocol import ProtocolSession  # noqa: E402


def test_browser_slots_spread_the_browsers():
    assert loadtest.browser_slots(20, 2) == {0, 10}
    assert loadtest.browser_slots(5, 5) == {0, 1, 2, 3, 4}
    assert loadtest.browser_slots(7, 0) == set()


def test_mixed_sessions_add_recall_and_sleep_without_errors(tmp_path):
    args = argparse.Namespace(action_timeout=90.0, deadline=240.0, ramp=0.2, settle=0.0,
                              browsers=1)
    info: dict = {}
    with running_server(tmp_path / "ws", info=info) as url:
        r = asyncio.run(loadtest.run_n(CHROMIUM, url, info["pid"], 3, args))
        asyncio.run(hostile_widget_value(url))
    assert r["errors"] == []
    assert {a: len(v) for a, v in r["times"].items()} == {"add": 1, "recall": 1, "night": 1}
    assert {a: len(v) for a, v in r["ptimes"].items()} == {"add": 2, "recall": 2, "night": 2}
    rows = loadtest.table([r]).splitlines()
    assert rows[2].startswith("| 3 | 1 Chromium |") and rows[3].startswith("| 3 | 2 protocol |")
    assert r["cpu_server"] > 0 and r["rest"] > 100      # the model is loaded at rest


async def hostile_widget_value(url: str) -> None:
    async with ProtocolSession(url) as s:
        await s.open()
        await s.goto("Memories")
        s.set("text_input", "Cue", "string_value", "A cue before the attack")
        await s.press("Add memory")
        assert s.shows("Added 1 memory")
        await s.goto("Recall & noise")
        radio = s.widget("radio", "Query")
        s.values[radio.id] = ("int_value", 1)          # the web client sends the option text
        await s.rerun()
        assert s.shows("Something went wrong on this page")
        assert not any(kind == "exception" for kind, _ in s.elements)   # no traceback
        s.values[radio.id] = ("string_value", "Type a query")   # the page failed at the radio
        await s.rerun()
        s.set("text_input", "Query text", "string_value", "cue before the attack")
        await s.rerun()                                  # the same session recovers
        assert s.shows("A cue before the attack") and not s.shows("Something went wrong")
