"""Real browser (Chromium via playwright): the Conversation memory page as a stakeholder uses it.

From Home, one click opens the example conversation with a question already answered; a
suggested question is clicked, its top turn, channel bars, W link and settling charts draw;
then a small CSV chat is uploaded and asked, and a malformed one gives a message (no
traceback). Screenshots go to artifacts/browser/. Skipped when no Chromium is found, except in
CI (NUONUO_REQUIRE_BROWSER=1).
"""
import re

import pytest

from scripts.devserver import CHROMIUM_ARGS, ROOT, chromium_or_skip, idle, running_server

pytestmark = pytest.mark.browser
CHROMIUM = chromium_or_skip()
sync_api = pytest.importorskip("playwright.sync_api")
SHOTS = ROOT / "artifacts" / "browser"
WAIT = 90_000
CHAT = ("speaker,text,time\n"
        "Maya,We adopted a dog from the shelter last week!,2024-03-02\n"
        "Leo,No way! What is it called?,2024-03-02\n"
        "Maya,She's a beagle called Pepper and she steals socks.,2024-03-02\n"
        "Leo,I started learning the cello in April.,2024-05-10\n")


def top_hit(page) -> str:
    return page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()


def test_home_to_an_answer_with_its_reasons_then_your_own_chat(tmp_path, monkeypatch):
    SHOTS.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))    # a cold cache: a clone
    monkeypatch.setenv("NUONUO_DATA_DIR", str(tmp_path / "no-data"))   # and no data folder
    with running_server(tmp_path / "ws") as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading", name=re.compile("NuoNuo Lab")).wait_for(timeout=WAIT)
        page.get_by_role("button", name=re.compile("Ask the example conversation")).click()
        page.get_by_role("heading", name=re.compile("Conversation memory")).wait_for(timeout=WAIT)
        page.get_by_text(re.compile("Her name is Biscuit")).first.wait_for(timeout=WAIT)
        idle(page)
        assert "Biscuit" in top_hit(page)
        assert page.get_by_text(re.compile(r"148 turns · 8 sessions")).count() == 1

        page.get_by_role("button", name="When did Priya adopt Biscuit?").click()
        page.get_by_text(re.compile(r"Labelled evidence \(temporal\): S4:7 at #1")).wait_for(
            timeout=WAIT)
        idle(page)
        # channel bars, attention, energy, recall: four charts, each drew its data
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 4",
                               timeout=WAIT)
        plots = page.locator(".js-plotly-plot")
        for i in range(4):
            assert plots.nth(i).locator("g.trace, g.point, path.point, g.hm").count() > 0
        legend = " ".join(plots.nth(0).locator("g.legend text.legendtext").all_text_contents())
        for name in ("dense cue", "BM25", "tokens", "speaker", "W hop"):
            assert name in legend, legend
        # exactly one such section; retried, as a rerun may briefly show the stale copy too
        sync_api.expect(page.get_by_role("heading", name="Recall against the labelled questions",
                                         exact=True)).to_have_count(1, timeout=WAIT)
        page.screenshot(path=str(SHOTS / "conversation_example.png"), full_page=True)

        page.get_by_text("Your own chat").click()
        page.get_by_text(re.compile("Upload a chat to ask it questions")).wait_for(timeout=WAIT)
        upload = page.locator('[data-testid="stMain"] [data-testid="stFileUploaderDropzoneInput"]')
        upload.set_input_files(
            files=[{"name": "chat.csv", "mimeType": "text/csv", "buffer": CHAT.encode()}])
        page.get_by_text(re.compile(r"4 turns · 2 sessions")).wait_for(timeout=WAIT)
        box = page.get_by_role("textbox", name="Your question, in your own words")
        box.fill("What is the name of Maya's pet?")
        box.press("Enter")
        page.get_by_text(re.compile("#1 Maya: She's a beagle called Pepper")).wait_for(
            timeout=WAIT)
        idle(page)
        page.screenshot(path=str(SHOTS / "conversation_upload.png"), full_page=True)

        upload.set_input_files(
            files=[{"name": "chat.csv", "mimeType": "text/csv",
                    "buffer": b"name,message\nMaya,hi\n"}])
        alert = page.locator('[data-testid="stAlertContentError"]').first
        alert.wait_for(timeout=WAIT)
        assert "the CSV header must name some of" in alert.inner_text()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.get_by_text("LoCoMo conversation").click()
        page.get_by_text(re.compile("No LoCoMo data found")).wait_for(timeout=WAIT)
        assert "snap-research/locomo" in page.get_by_text(
            re.compile("No LoCoMo data found")).inner_text()
        browser.close()
    assert all((SHOTS / n).stat().st_size > 10_000
               for n in ("conversation_example.png", "conversation_upload.png"))
