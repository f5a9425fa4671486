"""Real browser (Chromium via playwright): owners and autosave.

Browser A gets a private key in its URL, adds a memory, saves a named workspace, exports CSV
then JSON (the pair that used to fail with MediaFileStorageError) and reloads: its workspace
comes back. Browser B (another context) sees none of it, until it opens A's explicit link.
Skipped when no Chromium is found, except in CI (NUONUO_REQUIRE_BROWSER=1).
"""
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from lab.workspace import memory_rows
from scripts.devserver import (CHROMIUM_ARGS, ROOT, chromium_or_skip, goto, idle,
                           running_server)

pytestmark = pytest.mark.browser
CHROMIUM = chromium_or_skip()
sync_api = pytest.importorskip("playwright.sync_api")
SHOTS = ROOT / "artifacts" / "browser"
WAIT = 60_000
SECRET = 'Alice\'s secret, with "quotes"'


def owner_of(page) -> str:
    page.wait_for_function("() => location.search.includes('owner=')", timeout=WAIT)
    return parse_qs(urlparse(page.url).query)["owner"][0]


def open_home(browser, url: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000},
                               accept_downloads=True).new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=re.compile("NuoNuo Lab")).wait_for(timeout=WAIT)
    return page


def download(page, label: str, dest):
    with page.expect_download(timeout=WAIT) as dl:
        page.get_by_role("button", name=label).click()
    assert dl.value.failure() is None
    dl.value.save_as(dest)
    return dest.read_text(encoding="utf-8")


def test_owner_isolation_reload_restores_and_exports(tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ws = tmp_path / "ws"
    with running_server(ws) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        a = open_home(browser, url)
        key_a = owner_of(a)
        goto(a, "Memories")
        a.get_by_role("textbox", name="Cue", exact=True).fill(SECRET)
        a.get_by_role("textbox", name="Target (optional)").fill("kept in the blue box")
        a.get_by_role("button", name="Add memory").click()
        a.get_by_role("heading", name="Stored memories (1)").wait_for(timeout=WAIT)
        assert owner_of(a) == key_a                     # the key survives page changes
        a.get_by_text("Save, open, download, upload").click()
        a.get_by_role("textbox", name="Save as").fill("alice notes")
        a.get_by_role("button", name=re.compile("Save workspace")).click()
        a.get_by_text("Saved workspace 'alice notes'.").wait_for(timeout=WAIT)
        assert (ws / key_a / "alice notes.nuonuo").is_file()

        # Export CSV then Export JSON, twice in a row: every download arrives (no rerun
        # between clicks, so no MediaFileStorageError)
        idle(a)
        for i in range(2):
            csv_text = download(a, "⬇ Export CSV", tmp_path / f"m{i}.csv")
            json_text = download(a, "⬇ Export JSON", tmp_path / f"m{i}.json")
            rows = memory_rows.parse(csv_text, "csv").rows
            assert [(r.cue, r.target) for r in rows] == [(SECRET, "kept in the blue box")]
            assert json.loads(json_text)[0]["cue"] == SECRET

        # reload (F5): the same key, the workspace comes back
        a.reload(wait_until="domcontentloaded")
        a.get_by_role("heading", name="Stored memories (1)").wait_for(timeout=WAIT)
        a.get_by_text("Restored your autosaved workspace (1 memory).").wait_for(timeout=WAIT)
        a.get_by_text("alice notes", exact=True).wait_for(timeout=WAIT)   # its name too
        assert owner_of(a) == key_a
        a.screenshot(path=str(SHOTS / "4_reload_restored.png"), full_page=True)

        # another browser: its own key, an empty workspace, no saved workspaces of A
        b = open_home(browser, url)
        key_b = owner_of(b)
        assert key_b != key_a
        goto(b, "Memories")
        b.get_by_role("heading", name="Stored memories (0)").wait_for(timeout=WAIT)
        b.get_by_text("Save, open, download, upload").click()
        opener = b.get_by_role("button", name="📂 Open")
        opener.wait_for(timeout=WAIT)
        assert opener.is_disabled()                     # nothing of B's own to open
        b.get_by_role("combobox", name=re.compile("Saved workspaces")).click()
        b.wait_for_timeout(500)
        body = b.locator("body").inner_text()
        assert "alice notes" not in body and SECRET not in body
        b.keyboard.press("Escape")
        b.screenshot(path=str(SHOTS / "5_other_owner.png"), full_page=True)
        assert sorted(p.name for p in ws.iterdir()) == [key_a]   # B wrote nothing yet

        # the explicit link: A's key in the URL shows A's workspace
        b.goto(f"{url}/?owner={key_a}", wait_until="domcontentloaded")
        b.get_by_text(re.compile("Restored your autosaved workspace")).wait_for(timeout=WAIT)
        browser.close()
