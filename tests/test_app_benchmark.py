"""AppTest of the Benchmark page on the tiny LoCoMo fixture, plus its helpers."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lab.conversation import benchmark

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "locomo_dir"


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "8_Benchmark.py"), default_timeout=180)


def test_benchmark_page_runs_and_shows_table_and_chart(tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NUONUO_DATA_DIR", str(FIXTURE))
    at = page().run()
    assert not at.exception and not at.error
    assert not at.main.text_input, "no free-text server path on the page"
    at.multiselect(key="bench_methods").set_value(["cosine", "hybrid"]).run()
    assert at.multiselect(key="bench_convs:folder").value == ["conv-test"]
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


def test_benchmark_page_without_data_says_where_locomo_comes_from(tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_DATA_DIR", str(tmp_path / "empty"))
    at = page().run()
    assert not at.exception and not at.error
    info = at.info[0].value
    assert "snap-research/locomo" in info and "data/locomo10.json" in info
    assert at.code[0].value == str(tmp_path / "empty")     # where to put it
    assert not at.main.text_input and not at.main.button            # no path field, nothing to run


def test_benchmark_upload_locomo10_and_hostile_uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("NUONUO_DATA_DIR", str(tmp_path / "empty"))
    at = page().run()
    tiny = (ROOT / "tests" / "fixtures" / "locomo10_tiny.json").read_bytes()
    at.file_uploader(key="bench_upload").set_value(("locomo10.json", tiny, "application/json"))
    at.run()
    assert not at.exception and not at.error
    picker = next(m for m in at.multiselect if m.key.startswith("bench_convs:upload:"))
    assert picker.options == ["conv-test"] and picker.value == ["conv-test"]
    for bad, message in ((b"[" * 100_000 + b"]" * 100_000, "nested"),
                         (b'{"secret_key": 1}', "not LoCoMo's data/locomo10.json"),
                         (b"\xff\xfe", "UTF-8"),
                         (b"x" * (benchmark.MAX_UPLOAD_BYTES + 1), "limit is 20 MB")):
        at.file_uploader(key="bench_upload").set_value(("locomo10.json", bad, "application/json"))
        at.run()
        assert not at.exception, message
        assert message in at.error[0].value.replace("\\", ""), at.error[0].value


def test_folder_errors_do_not_reveal_contents(tmp_path):
    (tmp_path / "x.json").write_text('{"private_field": "secret"}')
    import pytest

    with pytest.raises(ValueError) as err:
        benchmark.folder_conversations(tmp_path)
    assert "private_field" not in str(err.value) and "secret" not in str(err.value)
    assert benchmark.folder_conversations(tmp_path / "missing") is None


def test_table_pivots_records_in_run_order():
    import pandas as pd

    df = pd.DataFrame([{"method": m, "metric": "recall", "category": "overall", "k": k,
                        "value": v, "n": 3} for m, v in (("b", 0.5), ("a", 0.25))
                       for k in (1, 5)])
    t = benchmark.table(df, "overall")
    assert list(t.index) == ["b", "a"] and t.loc["a", "R@5"] == 0.25
    new = df.rename(columns={"k": "at_k"})                      # today's records: at_k
    assert benchmark.table(new, "overall").equals(t)
    assert [list(tr.x) for tr in benchmark.chart(new, "overall").data] == \
        [list(tr.x) for tr in benchmark.chart(df, "overall").data] == [[1, 5], [1, 5]]


def test_default_methods_hold_the_baseline_and_the_engines_default_row():
    """The page's default rows run from the flat cosine baseline to the engine's default
    configuration (hybrid+lists since issue 18): the row a visitor's memory answers with."""
    from nuonuo_core.retrieval import METHODS, PRESETS, RetrievalConfig

    default = [name for name, cfg in PRESETS.items() if cfg == RetrievalConfig()]
    assert default == ["hybrid+lists"]
    assert set(benchmark.DEFAULT_METHODS) <= set(METHODS)
    assert benchmark.DEFAULT_METHODS[0] == "cosine" and benchmark.DEFAULT_METHODS[-1] == default[0]
    assert len(set(benchmark.DEFAULT_METHODS)) == len(benchmark.DEFAULT_METHODS)
