"""What makes a rerun cheap under many sessions, each checked by what it must preserve:
the shared encoder's demo embeddings equal fresh ones, the lab's chart template is still
plotly_white, a projection's checksum is computed once, the thread set-up happens once."""
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from lab import charts
from lab.server import startup
from lab.workspace import demos
from lab.workspace.encoding import KnownTexts
from nuonuo_core.encoders import HashingEncoder
from nuonuo_core.separation import PatternSeparator


class Counting(HashingEncoder):
    def __init__(self):
        super().__init__()
        self.seen = []

    def __call__(self, texts):
        self.seen.append(list(texts))
        return super().__call__(texts)


def test_known_texts_are_encoded_once_and_equal_fresh_embeddings():
    base = Counting()
    texts = demos.texts()
    enc = KnownTexts(base, texts)
    assert len(base.seen) == 1 and len(base.seen[0]) == len(set(texts)) == len(enc)
    fresh = HashingEncoder()
    mixed = [texts[3], "typed by a visitor", texts[3], "typed by a visitor", texts[0]]
    out = enc(mixed)
    assert out.dtype == np.float32 and out.shape == (5, base.dim)
    assert np.array_equal(out, fresh(mixed))
    assert base.seen[1] == ["typed by a visitor"]           # once, and only the new text
    assert enc(["typed by a visitor"]).shape == (1, base.dim)
    assert base.seen[2] == ["typed by a visitor"]           # a visitor's text is never kept
    assert enc([]).shape == (0, base.dim)
    with pytest.raises(ValueError, match="non-empty"):
        enc(["  "])
    assert enc.token_vectors(["a b"])[0][0] == ["a", "b"]    # other methods pass through


def test_remembering_encoder_embeds_each_text_once_across_calls():
    """The night player's memo: its two twins and its probes ask for the same texts."""
    base = Counting()
    enc = KnownTexts(base, remember=True)
    assert len(enc) == 0 and base.seen == []
    first = enc(["a cue", "a target", "a cue"])
    again = enc(["a target", "new text", "a cue"])
    assert base.seen == [["a cue", "a target"], ["new text"]]
    assert np.array_equal(again, HashingEncoder()(["a target", "new text", "a cue"]))
    assert np.array_equal(first[0], again[2]) and len(enc) == 3


def test_charts_keep_the_lab_template_without_naming_it_each_time():
    fig = charts._style(go.Figure(), "title", "x", "y")
    assert fig.layout.template == pio.templates[charts.TEMPLATE]
    saved = pio.templates.default
    try:
        pio.templates.default = "plotly_dark"                # someone changed the default
        assert charts.template_kw() == {"template": charts.TEMPLATE}
        fig = charts._style(go.Figure(), "title", "x", "y")
        assert fig.layout.template == pio.templates[charts.TEMPLATE]
    finally:
        pio.templates.default = saved


def test_projection_fingerprint_is_cached_per_key_and_unchanged(monkeypatch):
    a = PatternSeparator(384, 1024, 20, seed=123)
    want = float(np.float64(a.projection.double().abs().sum().item()))
    assert a.fingerprint() == want
    b = PatternSeparator(384, 1024, 20, seed=123)
    monkeypatch.setattr(b.projection.__class__, "double", lambda self: 1 / 0)  # not again
    assert b.fingerprint() == want
    monkeypatch.undo()
    assert PatternSeparator(384, 1024, 20, seed=124).fingerprint() != want


def test_threads_from_env_is_bounded():
    assert [startup.threads_from_env(v) for v in (None, "", "0", "-2", "x", "2", "99", " 3 ")] \
        == [1, 1, 1, 1, 1, 2, 16, 3]


def test_no_page_or_lab_module_renders_html():
    """Safe by default: no unsafe_allow_html anywhere in the app (user text or not)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    hits = [str(p.relative_to(root)) for folder in ("pages", "lab") for p in
            (root / folder).rglob("*.py") if "unsafe_allow_html" in p.read_text("utf-8")]
    hits += ["app.py"] if "unsafe_allow_html" in (root / "app.py").read_text("utf-8") else []
    assert hits == []
