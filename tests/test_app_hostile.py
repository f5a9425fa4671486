"""Every page walked with hostile values (AppTest): no exception element ever, a message that
names the value and its range where one is refused, user text never rendered as markdown;
plus the Recall page's researcher controls and the Memories page's CSV export."""
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.workspace import demos, memory_rows, state
from nuonuo_core import HybridMemory, MemoryConfig, get_minilm_encoder

ROOT = Path(__file__).resolve().parents[1]
MARK = "**bold** <b>x</b> [link](http://evil) `code` $x^2$ # head"
HOSTILE_TEXT = [MARK, "x" * 10_000, "   ", "../../etc/passwd", "🍎🍌🍒", "a, b\u0000, c"]


def page(name: str) -> AppTest:
    path = ROOT / "app.py" if name == "app" else next((ROOT / "pages").glob(f"{name}*.py"))
    return AppTest.from_file(str(path), default_timeout=180)


@pytest.fixture(scope="module")
def chains_memory():
    def make():
        mem = HybridMemory(MemoryConfig(code_dim=4096, k=16, device="cpu"),
                           encoder=get_minilm_encoder())
        memory_rows.add_rows(mem, demos.load("chains"))
        return mem
    return make


def plain_text(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def check(at: AppTest) -> None:
    """No exception element; no hostile markdown rendered raw anywhere."""
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value for kind in ("markdown", "error", "warning", "info", "success", "caption")
             for e in at.get(kind)] + [e.value for e in at.sidebar.get("markdown")]
    for value in shown:
        assert "**bold**" not in value and "<b>x</b>" not in value, value


def errors(at: AppTest) -> list[str]:
    return [plain_text(e.value) for e in at.error] + \
        [plain_text(e.value) for e in at.sidebar.error]


def fill_texts(at: AppTest, value: str) -> None:
    for w in list(at.text_input) + list(at.text_area):
        w.set_value(value)


@pytest.mark.parametrize("name", ["app", "1_", "2_", "3_", "4_", "5_", "6_", "7_", "8_"])
def test_every_page_survives_hostile_text(name, chains_memory, tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_DATA_DIR", str(tmp_path / "no data"))
    at = page(name)
    at.session_state[state.MEM_KEY] = chains_memory()
    at.session_state[state.NAME_KEY] = "test"
    at.run()
    check(at)
    for value in HOSTILE_TEXT:
        fill_texts(at, value)
        at.run()
        check(at)
        for key in ("FormSubmitter:add_memory-Add memory", "chain_add", "ws_save", "ws_new"):
            fill_texts(at, value)            # form values count only with their submit click
            buttons = [b for b in list(at.button) + list(at.sidebar.button) if b.key == key]
            for b in buttons:
                if not b.disabled:
                    b.click().run()
                    check(at)
    assert len(at.session_state[state.MEM_KEY]) >= 13      # nothing lost on the way


def test_memories_form_and_import_hostile_values():
    at = page("2_").run()
    at.text_input[0].set_value("x" * 10_000)       # the server keeps at most 2,000 characters
    at.button(key="FormSubmitter:add_memory-Add memory").click().run()
    check(at)
    mem = at.session_state[state.MEM_KEY]
    assert [len(r["cue"]) for r in mem.records()] == [memory_rows.MAX_TEXT]
    mem.remove(mem.ids())
    at.text_input[0].set_value(MARK)
    for bad in (-5.0, 1e308, -1e308):
        at.number_input[0].set_value(bad)
        at.button(key="FormSubmitter:add_memory-Add memory").click().run()
        check(at)
        assert f"importance must be a number in (0, 100], got {bad!r}" in errors(at)[0]
    at.number_input[0].set_value(3.0)
    at.button(key="FormSubmitter:add_memory-Add memory").click().run()
    check(at)
    assert [r["cue"] for r in mem.records()] == [MARK]                # stored verbatim
    at.text_area(key="import_text").set_value("[" * 50_000 + "]" * 50_000)
    at.radio(key="import_fmt").set_value("json").run()
    check(at)
    assert any("nested too deeply" in e for e in errors(at))
    at.text_area(key="import_text").set_value(
        "cue,importance\ngood,2\nhuge,1e308\nneg,-5\n" + MARK.replace(",", " ") + ",1\n"
        + "y" * (memory_rows.MAX_TEXT + 1) + ",1\n")
    at.radio(key="import_fmt").set_value("csv").run()
    check(at)
    table = at.dataframe[1].value.set_index("row").error
    assert table[3] == "importance must be a number in (0, 100], got '1e308'"
    assert table[4] == "importance must be a number in (0, 100], got '-5'"
    assert table[6] == f"cue is longer than {memory_rows.MAX_TEXT:,} characters"
    assert at.dataframe[0].value.cue.tolist() == ["good", MARK.replace(",", " ")]


def test_export_csv_button_is_export_csv_and_reimports(chains_memory):
    at = page("2_")
    mem = chains_memory()
    memory_rows.add_rows(mem, [memory_rows.make_row('quote " and, comma', "line\nbreak",
                                                    ["p|q", "r"], 7.5)])
    at.session_state[state.MEM_KEY] = mem
    at.session_state[state.NAME_KEY] = "test"
    at.run()
    check(at)
    button = at.download_button(key="export_csv")
    proto = button.proto
    assert proto.label == "⬇ Export CSV"
    text = memory_rows.export_csv(mem)
    res = memory_rows.parse(text, "csv")
    assert not res.errors and len(res.rows) == len(mem)
    assert res.rows[-1].paraphrases == ["p|q", "r"] and res.rows[-1].importance == 7.5


def test_recall_controls_live_and_rebuild(chains_memory):
    at = page("3_")
    mem = chains_memory()
    at.session_state[state.MEM_KEY] = mem
    at.session_state[state.NAME_KEY] = "test"
    at.run()
    check(at)
    live = "FormSubmitter:recall_live-Apply recall settings"
    cases = [("rc_beta", -5.0, "beta must be a number in (0, 1000], got -5.0"),
             ("rc_beta", 1e308, "beta must be a number in (0, 1000], got 1e+308"),
             ("rc_top_k", 0, "top_k must be a whole number in [1, 1000], got 0"),
             ("rc_max_steps", 100_000, "max_steps must be a whole number in [1, 100], got 100000"),
             ("rc_eps", 2.0, "eps must be a number in [1e-09, 1], got 2.0")]
    for key, bad, message in cases:
        good = at.number_input(key=key).value
        at.number_input(key=key).set_value(bad)
        at.button(key=live).click().run()
        check(at)
        assert message in errors(at)[0], errors(at)
        assert at.session_state[state.MEM_KEY].config == mem.config     # nothing applied
        at.number_input(key=key).set_value(good)
    for key, value in (("rc_beta", 2.0), ("rc_top_k", 5), ("rc_max_steps", 3),
                       ("rc_eps", 0.01)):
        at.number_input(key=key).set_value(value)
    at.button(key=live).click().run()
    check(at)
    cfg = at.session_state[state.MEM_KEY].config
    assert (cfg.beta, cfg.top_k, cfg.max_steps, cfg.eps) == (2.0, 5, 3, 0.01)
    assert at.session_state[state.MEM_KEY] is mem and len(mem) == 13     # live, same memory
    assert any("Recall settings applied" in plain_text(s.value) for s in at.success)
    rebuild = "FormSubmitter:recall_rebuild-Rebuild with these settings"
    for key, bad, message in (("rc_k", 0, "k must be a whole number in [1, 256], got 0"),
                              ("rc_seed", -1,
                               "seed must be a whole number in [0, 4294967295], got -1"),
                              ("rc_lr", 1e308, "lr must be a number in (0, 100], got 1e+308")):
        good = at.number_input(key=key).value
        at.number_input(key=key).set_value(bad)
        at.button(key=rebuild).click().run()
        check(at)
        assert message in errors(at)[0], errors(at)
        assert at.session_state[state.MEM_KEY] is mem
        at.number_input(key=key).set_value(good)
    at.selectbox(key="rc_code_dim").set_value(1024)
    at.number_input(key="rc_k").set_value(8)
    at.number_input(key="rc_seed").set_value(5)
    at.number_input(key="rc_lr").set_value(0.5)
    at.button(key=rebuild).click().run()
    check(at)
    new = at.session_state[state.MEM_KEY]
    assert new is not mem and len(new) == len(mem) == 13              # nothing wiped
    assert (new.config.code_dim, new.config.k, new.config.seed, new.config.lr) == \
           (1024, 8, 5, 0.5)
    assert new.config.beta == 2.0 and new.config.top_k == 5            # live settings kept
    assert [r["cue"] for r in new.records()] == [r["cue"] for r in mem.records()]
    assert any("13 memories re-encoded" in plain_text(s.value) for s in at.success)
    # recall on the rebuilt workspace still answers the chain's first cue
    first = mem.get(mem.ids()[0])
    assert any(first["target"] in plain_text(i.value) for i in at.success)   # an answer
