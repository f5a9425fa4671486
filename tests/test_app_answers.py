"""Issue 17 in the lab (AppTest): "no memory matches" with the nearest memory and the
threshold, thresholds a visitor moves, chains that say why they stop, the sidebar right after
Sleep and Save, and the page settings, drawings and night stepper a reload brings back."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lab.patterns import completion as lp
from lab.patterns import view
from lab.workspace import demos, memory_rows, state, uistate
from nuonuo_core import (DEFAULT_MIN_SCORE, HashingEncoder, HybridMemory, MemoryConfig,
                         get_minilm_encoder)

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
OWNER = "answerslab_owner_0001"
UNHELD = "What's my favourite football team?"


def page(name: str, owner: str | None = OWNER) -> AppTest:
    path = next((ROOT / "pages").glob(f"{name}*.py"))
    at = AppTest.from_file(str(path), default_timeout=TIMEOUT)
    if owner:
        at.query_params["owner"] = owner
    return at


def texts(elements) -> list[str]:
    return [re.sub(r"\\(.)", r"\1", e.value) for e in elements]


def live(at: AppTest, name: str, slot: str = ""):
    """The slider of one live setting (its key carries the value in force)."""
    found = [s for s in at.slider if s.key.startswith(f"live_{name}{slot}#")]
    assert len(found) == 1, [s.key for s in at.slider]
    assert found[0].value == pytest.approx(getattr(at.session_state[state.MEM_KEY].config,
                                                   name))      # it shows the value in force
    return found[0]


def ok(at: AppTest) -> None:
    assert not at.exception, texts(at.exception)


def panel(at: AppTest, method: str):
    return next(c for c in at.columns if any(f"■ {method}**" in m.value for m in c.markdown))


@pytest.fixture(scope="module")
def assistant():
    def make():
        mem = HybridMemory(MemoryConfig(device="cpu"), encoder=get_minilm_encoder())
        memory_rows.add_rows(mem, demos.load("assistant"))
        return mem
    return make


def ask(at: AppTest, question: str) -> AppTest:
    at.radio(key="mode").set_value("Type a query").run()
    at.text_input(key="query").set_value(question).run()
    ok(at)
    return at


def test_unheld_question_says_no_memory_matches_and_the_threshold_trades(assistant):
    mem = assistant()
    at = page("3_")
    at.session_state[state.MEM_KEY] = mem
    at.session_state[state.NAME_KEY] = "demo"
    ask(at.run(), UNHELD)
    # word match (the default) scores hopfield and cosine: said in one line, one threshold
    assert any(c.startswith("Hopfield and cosine score a question by **word match**")
               for c in texts(at.caption))
    for method in ("hopfield", "hebbian", "cosine"):
        words = method != "hebbian"
        # hidden while the query was empty, the slider comes back at the threshold in force,
        # in the browser too (which mounts it at its default: it showed -1.00 beside 0.59)
        slider = (live(at, "min_score_words", method) if words
                  else live(at, f"min_score_{method}"))
        assert slider.proto.default[0] == pytest.approx(mem.text_min_score(method))
        assert slider.label == f"{method} threshold" + (" (word match)" if words else "")
        col = panel(at, method)
        assert texts(col.warning) == ["∅ No memory matches"], method
        assert not col.success, method                 # nothing shown as an answer
        ev = texts(col.caption)[0]
        r = mem.recall_details([UNHELD], k=3, method=method)
        nearest = memory_rows.answer_text(mem, int(r.best_ids[0, 0]))
        assert ev.startswith("Not an answer: the nearest memory") and nearest in ev
        assert f"matches only {r.best_scores[0, 0]:.2f}, below the threshold " \
               f"{mem.text_min_score(method):.2f}" in ev
        assert ("× word coverage" in ev) == words
        table = col.table[0].value
        assert set(table.verdict) == {"below"}
        assert np.allclose(table.match, np.round(r.best_scores[0, :len(table)], 3))
    # the settled state's self-similarity is labelled as what it is, never as a confidence;
    # its match score is the hopfield panel's (word match)
    settling = next(c for c in texts(at.caption) if c.startswith("Settling reached"))
    assert "not an answer: no memory matches" in settling and "self-similarity" in settling
    score = float(mem.recall_details([UNHELD], k=1, method="hopfield").best_scores[0, 0])
    assert f"match score {score:.2f} against the threshold 0.22" in settling
    # a visitor lowers the word-match threshold on the hopfield slider: the nearest memory
    # becomes an answer, its confidence beside it; cosine's slider shows the same setting
    lower = round(score - 0.02, 2)
    live(at, "min_score_words", "hopfield").set_value(lower).run()
    ok(at)
    assert mem.config.min_score_words == pytest.approx(lower)
    assert live(at, "min_score_words", "cosine").value == pytest.approx(lower)
    col = panel(at, "hopfield")
    assert not col.warning and texts(col.caption)[0].startswith(
        f"Confidence: match {score:.2f} ≥ threshold {lower:.2f}")
    said = [t for t in texts(at.markdown) if t.startswith("- hopfield at ")]
    assert said and f"- hopfield at {lower:.2f}: answers" in said[0]
    at.button(key="th_reset").click().run()
    assert mem.config.min_score_words == 0.22
    # word match off (a workspace saved before it existed): each method its own threshold
    mem.set_recall_params(word_match=False)
    at.run()
    ok(at)
    assert not any(c.startswith("Hopfield and cosine score") for c in texts(at.caption))
    score = float(mem.recall_details([UNHELD], k=1, method="hopfield").best_scores[0, 0])
    assert live(at, "min_score_hopfield").value == DEFAULT_MIN_SCORE["hopfield"]
    live(at, "min_score_hopfield").set_value(round(score - 0.05, 2)).run()
    ok(at)
    assert mem.config.min_score_hopfield == pytest.approx(round(score - 0.05, 2))
    col = panel(at, "hopfield")
    assert not col.warning and texts(col.caption)[0].startswith(
        f"Confidence: match {score:.2f} ≥ threshold {score - 0.05:.2f} (the query's cosine "
        f"with the memory's best cue)")
    assert texts(panel(at, "cosine").warning) == ["∅ No memory matches"]   # its own threshold
    said = [t for t in texts(at.markdown) if t.startswith("- hopfield at ")]
    assert said and f"- hopfield at {score - 0.05:.2f}: answers" in said[0]
    at.button(key="th_reset").click().run()
    assert mem.config.min_score_hopfield == DEFAULT_MIN_SCORE["hopfield"]


def test_energy_axis_shows_no_rounding_rise_and_is_defined():
    from lab import analysis, charts

    flat = pd.DataFrame({"step": [0, 1, 2], "energy": [-0.5, -0.5 + 1.2e-7, -0.5 + 0.9e-7]})
    lo, hi = charts.energy_range(flat.energy)
    assert hi - lo >= charts.ENERGY_FLAT * 1.0               # float rounding stays flat
    assert "stays at -0.500" in analysis.energy_sentence(flat, 16)
    falling = pd.DataFrame({"step": [0, 1, 2], "energy": [0.1, -0.45, -0.5]})
    lo, hi = charts.energy_range(falling.energy)
    assert lo < -0.5 and hi > 0.1
    text = analysis.energy_sentence(falling, 16)
    assert text.startswith("E(ξ) = −(1/β)·log Σᵢ exp(β xᵢᵀξ) + ½‖ξ‖²")
    assert "falls from 0.100 to -0.500 in 2 steps (−0.600)" in text


def test_chain_that_stops_says_why():
    at = page("5_").run()
    at.button(key="chain_demo").click().run()
    ok(at)
    at.slider(key="hops").set_value(10).run()
    ok(at)
    path = next(t for t in texts(at.markdown) if t.startswith("**Path:**"))
    assert path == ("**Path:** red key → blue box → old map → hidden island → golden coin → "
                    "dragon statue")                 # exactly the stored chain
    stop = texts(at.warning)[-1]
    mem = at.session_state[state.MEM_KEY]
    res = mem.chain_details(mem.ids()[0], hops=10)
    assert res.stop == "no_link" and len(res.hops) == 5
    assert stop.startswith("The chain walked 5 hops of 10 and stopped: the next memory has "
                           "no stored link from the last one")
    assert f"support {res.refused.support:.2f} < 0.50" in stop
    # every hop that counts had a stored link: support 1.0 in the chart's data
    assert at.session_state["nuonuo_ui"]["hops"] == 10
    # following any decoded memory (support 0) walks on into cross-talk
    live(at, "chain_min_support").set_value(0.0).run()
    path = next(t for t in texts(at.markdown) if t.startswith("**Path:**"))
    assert path.count("→") > 4
    # a stored cycle stops at the first revisit
    live(at, "chain_min_support").set_value(0.5).run()
    at.text_area(key="chain_text").set_value("ping, pong, ping")
    at.button(key="chain_add").click().run()
    start = next(o for o in at.selectbox(key="chain_start").options if o.endswith(" ping"))
    at.selectbox(key="chain_start").set_value(int(start.split()[0][1:])).run()
    ok(at)
    assert "already visited" in texts(at.warning)[-1]


def test_sidebar_reflects_sleep_and_save_at_once(assistant):
    at = page("4_")
    at.session_state[state.MEM_KEY] = assistant()
    at.session_state[state.NAME_KEY] = "untitled"
    at.run()
    line = texts(at.sidebar.markdown)[0]
    assert line.startswith("**Workspace** `untitled`") and "day 0" in line
    at.button(key="sleep_ws").click().run()
    ok(at)
    assert "day 1" in texts(at.sidebar.markdown)[0]      # in the same run as the night
    done = next(s for s in texts(at.success) if s.startswith("Night 1 done"))
    assert "replay added +" in done and "homeostasis removed −" in done
    at.button(key="sleep_ws").click().run()
    assert "day 2" in texts(at.sidebar.markdown)[0]
    at.sidebar.text_input(key="ws_save_name").set_value("my demo")
    at.sidebar.button(key="ws_save").click().run()
    ok(at)
    assert texts(at.sidebar.markdown)[0].startswith("**Workspace** `my demo`")


def test_night_budget_adds_up():
    from lab.nights import player

    rows = demos.load("teaching")
    lab = player.NightLab(demos.split_days(rows, 8), HashingEncoder())
    lab.step(player.NightParams(epochs=3, homeostasis=0.7, prune_threshold=0.1))
    for m in lab.metrics:
        total = m["w_norm_before"] - m["homeostasis_removed"] + m["replay_added"] \
            - m["pruning_removed"]
        assert total == pytest.approx(m["w_norm"], rel=1e-5)
        assert m["homeostasis_removed"] > 0
        assert (m["replay_added"] > 0) == (m["run"] == "with replay")
    assert "replay added" in lab.budget_sentence()


def test_recall_controls_come_back_after_a_reload(assistant):
    at = page("3_")
    at.session_state[state.MEM_KEY] = assistant()
    at.session_state[state.NAME_KEY] = "demo"
    ask(at.run(), "where did I park")
    at.slider(key="noise").set_value(0.05).run()
    at.slider(key="sweep_seeds").set_value(3).run()
    ok(at)
    saved = json.loads((Path(uistate.files.folder(OWNER)) / uistate.FILE).read_text())
    assert saved["settings"]["query"] == "where did I park"
    fresh = page("3_").run()                        # a reload: a new session, the same owner
    ok(fresh)
    assert fresh.radio(key="mode").value == "Type a query"
    assert fresh.text_input(key="query").value == "where did I park"
    assert fresh.slider(key="noise").value == 0.05
    assert fresh.slider(key="sweep_seeds").value == 3
    # leaving the page and coming back (Streamlit forgets a page's widgets) keeps them too
    away = page("5_").run()
    back = page("3_").run()
    assert back.slider(key="noise").value == 0.05 and away is not back


def test_drawing_survives_a_rerun_and_a_fresh_session():
    ink = np.zeros((32, 32), dtype=bool)
    ink[6:26, 10:14] = True                          # a bar: what the canvas would send
    bits = lp.hex_of_ink(ink)
    at = page("9_").run()
    at.selectbox(key="pc_set").set_value("own").run()
    ok(at)
    at.session_state[view.CANVAS_KEY] = bits         # a stroke ended (see view.on_stroke)
    at.text_input(key="pc_label").set_value("bar")
    at.button(key="pc_add_draw").click().run()
    ok(at)
    assert at.selectbox(key="pc_t_own").value == "bar"       # the selector names it
    mo = next(m.value for m in at.markdown if m.value.startswith("**Step ") and
              "pattern bar" in m.value)
    assert mo
    at.run()                                                  # a rerun keeps it
    assert [lbl for lbl, _ in at.session_state[view.OWN_KEY]] == ["bar"]
    at.slider(key="pc_n_own").set_value(5).run()     # the chosen pattern stays chosen
    assert at.selectbox(key="pc_t_own").value == "bar"
    fresh = page("9_").run()                         # a reload: the same owner, new session
    ok(fresh)
    assert fresh.selectbox(key="pc_set").value == "own"
    assert fresh.selectbox(key="pc_t_own").value == "bar"
    own = fresh.session_state[view.OWN_KEY]
    assert [lbl for lbl, _ in own] == ["bar"]
    assert np.array_equal(own[0][1], lp.drawing_pattern(ink))
    assert fresh.session_state[view.CANVAS_KEY] == bits   # the canvas comes back too
    assert fresh.slider(key="pc_n_own").value == 5
    # a label that is a letter of the set is refused: the selector stays unambiguous
    fresh.text_input(key="pc_label").set_value("A")
    fresh.button(key="pc_add_draw").click().run()
    assert any("label 'A' is taken" in e for e in texts(fresh.error))


def test_the_canvas_value_from_the_browser_is_checked():
    ink = lp.ink_of_hex("f" + "0" * 255)
    assert ink[0, :4].all() and ink.sum() == 4
    assert lp.hex_of_ink(ink) == "f" + "0" * 255
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.random((32, 32)) < 0.5
        assert np.array_equal(lp.ink_of_hex(lp.hex_of_ink(x)), x)
    for bad in ("F" * 256, "0" * 255, "0" * 257, "g" * 256, 5, None, ["0"] * 256,
                "0" * 10**6):
        with pytest.raises(ValueError, match="must be 256 hex digits"):
            lp.ink_of_hex(bad)


def test_night_stepper_comes_back_after_a_reload():
    at = page("4_").run()
    at.slider(key="homeostasis").set_value(0.6)
    at.button(key="step").click().run()
    at.slider(key="homeostasis").set_value(0.8)
    at.button(key="step").click().run()
    ok(at)
    before = at.session_state["night_lab"].metrics_frame()
    fresh = page("4_").run()
    ok(fresh)
    assert any(m.startswith("**Night 2**") for m in texts(fresh.markdown))
    assert fresh.slider(key="homeostasis").value == 0.8
    pd.testing.assert_frame_equal(fresh.session_state["night_lab"].metrics_frame(), before)
    fresh.button(key="reset").click().run()
    assert page("4_").run().session_state["night_lab"].nights == 0


def test_hostile_settings_file_is_refused_with_a_message(workspace_dir):
    home = workspace_dir / OWNER
    home.mkdir(parents=True)
    (home / uistate.FILE).write_text(json.dumps({"version": 1, "settings": {
        "noise": 7.0, "mode": "Type a query", "query": "kept", "evil": "x" * 100}}))
    at = page("3_")
    at.session_state[state.MEM_KEY] = HybridMemory(MemoryConfig(device="cpu"),
                                                   encoder=get_minilm_encoder())
    at.session_state[state.NAME_KEY] = "demo"
    memory_rows.add_rows(at.session_state[state.MEM_KEY], demos.load("assistant")[:3])
    at.run()
    ok(at)
    assert any("not valid and start from their defaults: noise" in w for w in texts(at.warning))
    assert at.text_input(key="query").value == "kept" and at.slider(key="noise").value == 0.0
    (home / uistate.FILE).write_bytes(b"[" * 5000)
    again = page("3_")
    again.session_state[state.MEM_KEY] = at.session_state[state.MEM_KEY]
    again.session_state[state.NAME_KEY] = "demo"
    again.run()
    ok(again)
    assert any("could not be read" in w for w in texts(again.warning))
