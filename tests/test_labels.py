"""Labels that fit: wrapped titles and node labels, stacked long equations."""
from lab import charts, ui


def test_titles_wrap_at_word_boundaries_and_keep_subtitles():
    t = charts.wrap_title("Attention over the top-K candidates at each step")
    assert t == "Attention over the top-K candidates at<br>each step"
    assert all(len(line) <= charts.TITLE_WIDTH for line in t.split("<br>"))
    assert charts.wrap_title("Forgetting curve<br><sup>recall@1, strict</sup>") == \
        "Forgetting curve<br><sup>recall@1, strict</sup>"
    fig = charts.energy(__import__("pandas").DataFrame({"step": [0, 1], "energy": [0., 1.]}))
    assert fig.layout.margin.t == 54 and fig.layout.yaxis.automargin


def test_node_labels_two_short_lines():
    assert charts.wrap_label("golden coin") == "golden coin"
    assert charts.wrap_label("morning alarm clock rings") == "morning<br>alarm clock…"
    assert charts.wrap_label("supercalifragilistic") == "supercalifra<br>gilistic"
    assert charts.wrap_label("") == ""
    for text in ("a b c d e f g h i j k l m n o p", "x" * 100, "🍎 " * 30):
        lines = charts.wrap_label(text).split("<br>")
        assert len(lines) <= 2 and all(len(line) <= 12 for line in lines)


def test_graph_labels_alternate_and_are_not_clipped():
    nodes = ["red key", "blue box", "old map", "hidden island"]
    pos = {v: (float(i), 0.0) for i, v in enumerate(nodes)}
    fig = charts.graph(nodes, list(zip(nodes, nodes[1:])), nodes[:2], pos)
    trace = fig.data[0]
    assert list(trace.textposition) == ["top center", "bottom center"] * 2
    assert trace.cliponaxis is False
    assert tuple(fig.layout.xaxis.range) == (-0.6, 3.6)


def test_long_equations_stack_short_ones_stay():
    eq = (r"W \leftarrow h\,W;\quad W \mathrel{+}= \eta\,\mathrm{imp}_m\, c_{t(m)} c_{m}^\top"
          r";\quad w_{ij} \leftarrow 0 \text{ if } |w_{ij}| < \theta")
    assert ui.stack_equation(eq) == (
        r"\begin{gathered}W \leftarrow h\,W \\ W \mathrel{+}= \eta\,\mathrm{imp}_m\, "
        r"c_{t(m)} c_{m}^\top \\ w_{ij} \leftarrow 0 \text{ if } |w_{ij}| < \theta"
        r"\end{gathered}")
    assert ui.stack_equation(r"a \qquad b") == r"a \qquad b"
    assert ui.stack_equation("x" * 100) == "x" * 100     # one part: nothing to stack
