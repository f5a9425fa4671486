"""The phase map (lab/nights/phase.py) and its section on the Consolidation page."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.nights import phase

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"homeostasis": (0.5, 0.95), "prune_threshold": (1e-3, 0.1), "nights": 2,
         "epochs": (1, 5), "n_pairs": 10, "new_per_night": 10, "code_dim": 512}


@pytest.fixture(scope="module")
def small_df():
    phase.GRID.update(SMALL)
    seen = []
    try:
        df = phase.run(lambda f, t: seen.append(f))
    finally:
        phase.GRID.clear()
    assert seen[-1] == 1.0 and len(seen) == 2 * 2 * 2 * 2
    return df


def test_heatmap_cells_are_the_records(small_df):
    fig = phase.heatmap(small_df, 2)
    maps = [t for t in fig.data if t.type == "heatmap"]
    assert len(maps) == 4  # (replay, no replay) × (1, 5 epochs)
    d = phase.at_night(small_df, 2)
    nr5 = d[(d.arm == "no_replay") & (d.epochs == 5)].set_index(
        ["homeostasis", "prune_threshold"]).survival
    # the no-replay, 5-epoch panel is the 4th; rows h (0.5, 0.95), columns θ (1e-3, 0.1)
    assert maps[3].z.tolist() == [[nr5[(0.5, 1e-3)], nr5[(0.5, 0.1)]],
                                  [nr5[(0.95, 1e-3)], nr5[(0.95, 0.1)]]]
    assert nr5[(0.5, 1e-3)] == 0.0 and nr5[(0.95, 1e-3)] == 1.0  # 0.5^10 < 1e-3 pruned
    # outlines: the seed's cell (θ 1e-3 = column 0, h 0.95 = row 1) on all four panels, ours
    # (e) (θ 0.1, h 0.95) only on the two 5-epoch panels
    boxes = [(round(b.x0 + 0.46), round(b.y0 + 0.44), b.line.color) for b in fig.layout.shapes]
    assert boxes.count((0, 1, "#E45756")) == 4 and boxes.count((1, 1, "#17BECF")) == 2
    names = {t.name for t in fig.data if t.type == "scatter"}
    assert {"seed: h 0.95, θ 0.001", "ours (e): h 0.95, θ 0.1"} <= names
    assert "strict" in fig.layout.title.text
    assert "code cosine" in phase.heatmap(small_df, 9, "code_cos").layout.title.text


def test_page_section_computes_on_a_button(monkeypatch):
    monkeypatch.setattr(phase, "GRID", dict(SMALL))
    at = AppTest.from_file(str(ROOT / "pages" / "4_Consolidation_nights.py"),
                           default_timeout=120).run()
    assert not at.exception
    at.button(key="phase_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    df = at.session_state["phase_df"]
    assert len(df) == 16 * 3 and set(df.night) == {0, 1, 2}
    at.slider(key="phase_night").set_value(1).run()      # cached: no recompute
    assert at.session_state["phase_df"] is df
    assert not at.exception
