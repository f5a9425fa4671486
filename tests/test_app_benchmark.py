"""AppTest of the Benchmark page on the tiny LoCoMo fixture, plus its helpers."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lab import benchmark

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "locomo_dir"


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "8_Benchmark.py"), default_timeout=180)


def test_benchmark_page_runs_and_shows_table_and_chart(tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))
    at = page().run()
    at.text_input(key="bench_data").set_value(str(FIXTURE)).run()
    assert not at.exception and not at.error
    at.multiselect(key="bench_methods").set_value(["cosine", "hybrid"]).run()
    assert at.multiselect(key=f"bench_convs:{FIXTURE}").value == ["conv-test"]
    at.button(key="bench_run").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table.index) == ["cosine", "hybrid"]
    assert list(table.columns) == ["R@1", "R@5", "R@10", "R@25", "R@50"]
    assert ((table >= 0) & (table <= 1)).all().all()
    assert (table["R@50"] >= table["R@1"]).all()  # recall never falls as k grows
    assert len(at.get("plotly_chart")) == 1
    assert any(b.label.startswith("⬇ Chart data") for b in at.get("download_button"))
    cats = at.selectbox(key="bench_cat").options
    assert cats[0] == "overall" and len(cats) > 1
    at.selectbox(key="bench_cat").set_value(cats[1]).run()
    assert not at.exception


def test_benchmark_page_reports_missing_data_clearly():
    at = page().run()
    at.text_input(key="bench_data").set_value("/nowhere/locomo").run()
    assert "no LoCoMo data at '/nowhere/locomo'" in at.error[0].value


def test_table_pivots_records_in_run_order():
    import pandas as pd

    df = pd.DataFrame([{"method": m, "metric": "recall", "category": "overall", "k": k,
                        "value": v, "n": 3} for m, v in (("b", 0.5), ("a", 0.25))
                       for k in (1, 5)])
    t = benchmark.table(df, "overall")
    assert list(t.index) == ["b", "a"] and t.loc["a", "R@5"] == 0.25
