"""The night player page past 12 nights: a nights range slider, the score switch."""
from pathlib import Path

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest

def xs(values) -> list:
    """A trace's x values; Plotly may ship them as a typed array {dtype, bdata}."""
    if isinstance(values, dict) and "bdata" in values:
        values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return sorted({int(v) for v in values})


PAGE = next((Path(__file__).resolve().parents[1] / "pages").glob("4_*.py"))


def test_long_run_range_slider_and_score_switch(tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_WORKSPACES", str(tmp_path / "ws"))
    at = AppTest.from_file(str(PAGE), default_timeout=300).run()
    at.number_input(key="per_day").set_value(2).run()            # 12 days + 3 nights
    at.button(key="play").click().run()
    assert not at.exception
    assert any(m.startswith("**Night 15**") for m in (e.value for e in at.markdown))
    shown = at.slider(key="night_range")
    assert shown.value == (1, 15)
    shown.set_value((5, 10)).run()
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(figs) == 4
    assert xs(figs[0]["data"][0]["x"]) == [5, 6, 7, 8, 9, 10]         # W per night
    assert xs(figs[1]["data"][0]["x"]) == [5, 6, 7, 8, 9, 10]         # learning days
    assert xs(figs[2]["data"][0]["x"]) == list(range(0, 15))          # ages: not zoomed
    lab = at.session_state["night_lab"]
    assert at.radio(key="metric").value == "recall"
    at.radio(key="metric").set_value("code_cos").run()
    assert not at.exception
    assert '"code cosine (seed\'s metric)"' in at.get("plotly_chart")[1].proto.spec
    assert lab.nights == 15
