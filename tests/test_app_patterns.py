"""AppTest for page 9 (pattern completion): change the flips, step, switch sets, capacity."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lab.patterns import completion as lp
from lab.patterns import view

PAGE = Path(__file__).resolve().parents[1] / "pages" / "9_Pattern_completion.py"
LOOSE_S = 20.0   # the 2 s target is measured and reported, not asserted on a shared machine


@pytest.fixture(autouse=True)
def workspace_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_WORKSPACES", str(tmp_path / "ws"))


def captions(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**Step ")]


def timed(action) -> float:
    t = time.perf_counter()
    action()
    return time.perf_counter() - t


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_pattern_page_interacts():
    at = AppTest.from_file(str(PAGE), default_timeout=180).run()
    ok(at)
    assert at.title[0].value.endswith("Pattern completion")
    cl, mo, hy = captions(at)
    assert "pattern A" in mo and "overlap 1.000" in mo
    assert any("307 of 1024 pixels differ" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 6           # images, 3 strips, energy, overlap
    at.toggle(key="pc_show_stored").set_value(True).run()
    assert len(at.get("plotly_chart")) == 7           # + the stored-pattern gallery
    times = {}
    times["flip"] = timed(lambda: at.slider(key="pc_flip").set_value(0.1).run())
    ok(at)
    assert any("102 of 1024 pixels differ" in c.value for c in at.caption)
    times["step"] = timed(lambda: at.slider(key="pc_step").set_value(0).run())
    ok(at)
    assert all(c.startswith("**Step 0: ") and "overlap 0.900" in c for c in captions(at))
    at.slider(key="pc_n_glyphs").set_value(3)
    times["three letters"] = timed(lambda: at.slider(key="pc_flip").set_value(0.3).run())
    ok(at)
    cl, mo, _ = captions(at)                           # back at the last step
    assert "a mixture of patterns" in cl and "pattern A" in mo
    times["random set"] = timed(lambda: at.selectbox(key="pc_set").set_value("random").run())
    at.slider(key="pc_flip").set_value(0.1)
    times["300 stored"] = timed(lambda: at.slider(key="pc_n_random").set_value(300).run())
    ok(at)
    cl, mo, hy = captions(at)
    assert "a spurious state" in cl and float(cl.rsplit(" ", 1)[1]) < 0.9
    assert "pattern 0" in mo and "overlap 1.000" in mo
    times["sync"] = timed(lambda: at.radio(key="pc_update").set_value("sync").run())
    ok(at)
    n_charts = len(at.get("plotly_chart"))
    times["capacity"] = timed(lambda: at.button(key="pc_capacity").click().run())
    ok(at)
    assert len(at.get("plotly_chart")) == n_charts + 1
    cap = at.session_state["pc_capacity_df"]
    classical = cap[cap.model == "classical"].set_index("load").overlap
    modern = cap[cap.model == "modern"].overlap
    assert classical.iloc[0] >= 0.98 and classical.iloc[-1] <= 0.9 and modern.min() >= 0.98
    print({k: round(v, 2) for k, v in times.items()})
    assert max(times.values()) < LOOSE_S, times


def test_own_patterns_are_stored_with_letters():
    grid = np.zeros((lp.DRAW_SIDE, lp.DRAW_SIDE), dtype=bool)
    grid[8:24, 8:24] = True
    at = AppTest.from_file(str(PAGE), default_timeout=180)
    at.session_state[view.OWN_KEY] = [("box", lp.drawing_pattern(grid))]
    at.run()
    at.selectbox(key="pc_set").set_value("own").run()
    ok(at)
    assert at.selectbox(key="pc_t_own").options[:2] == ["box", "A"]
    _, mo, _ = captions(at)
    assert "pattern box" in mo
    with pytest.raises(ValueError, match="0 of 1024 pixels"):
        lp.drawing_pattern(np.zeros((32, 32)))
    with pytest.raises(ValueError, match="1024 of 1024 pixels"):
        lp.drawing_pattern(np.ones((32, 32)))
    with pytest.raises(ValueError, match=r"\(16, 16\)"):
        lp.drawing_pattern(np.ones((16, 16)))
