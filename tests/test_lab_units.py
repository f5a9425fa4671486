"""Unit tests of the lab's pure helpers (no Streamlit, fast hashing encoder)."""
import json
import math

import numpy as np
import pytest

from lab import analysis, charts
from lab.nights import player
from lab.workspace import demos, files, memory_rows
from nuonuo_core import HashingEncoder, HybridMemory, MemoryConfig


@pytest.fixture
def mem():
    m = HybridMemory(MemoryConfig(code_dim=4096, k=16, device="cpu"), encoder=HashingEncoder())
    memory_rows.add_rows(m, demos.load("teaching")[:10])
    return m


# --- import parsing -------------------------------------------------------------------------
def test_csv_rows_and_per_row_errors():
    data = b"cue,target,paraphrases,importance\nkeys?,hook,where keys|key spot,2\n" \
           b",empty cue,,1\nfoo,bar,,nan\nbaz,qux,,-1\nonly,three\n"
    res = memory_rows.parse(data, "csv")
    assert [r.cue for r in res.rows] == ["keys?"]
    assert res.rows[0].paraphrases == ["where keys", "key spot"] and res.rows[0].importance == 2
    msgs = {e.row: e.message for e in res.errors}
    assert "cue is empty" in msgs[3]
    assert msgs[4] == "importance must be a number in (0, 100], got 'nan'"
    assert msgs[5] == "importance must be a number in (0, 100], got '-1'"
    assert "fields" in msgs[6]
    assert list(res.preview().status) == ["ok"] and len(res.errors_frame()) == 4


@pytest.mark.parametrize("bad, message", [
    (b'cue,target\n"unclosed,quote\n', "malformed CSV"),
    (b"question,answer\na,b\n", "'cue' column"),
    (b"cue,colour\na,b\n", "unknown columns"),
    (b"   \n", "empty"),
    (b"\xff\xfe\x00bad", "UTF-8"),
])
def test_malformed_csv_is_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        memory_rows.parse(bad, "csv")


def test_oversized_upload_refused():
    with pytest.raises(ValueError, match="limit is 5 MB"):
        memory_rows.parse(b"cue\n" + b"x" * (memory_rows.MAX_UPLOAD_BYTES + 1), "csv")


def test_json_and_text_formats():
    res = memory_rows.parse(json.dumps({"memories": [{"cue": "a", "target": "b"}, "plain",
                                            {"cue": "c", "importance": float("nan")},
                                            {"cue": "d", "colour": 1}, 7]}), "json")
    assert [r.cue for r in res.rows] == ["a", "plain"]
    assert [e.row for e in res.errors] == [3, 4, 5]
    with pytest.raises(ValueError, match="malformed JSON"):
        memory_rows.parse("[{", "json")
    res = memory_rows.parse("# comment\nsky -> blue\ngrass => green\n\nlonely cue\n", "text")
    assert [(r.cue, r.target) for r in res.rows] == [("sky", "blue"), ("grass", "green"),
                                                     ("lonely cue", None)]


@pytest.mark.parametrize("value", [float("nan"), "nan", math.inf, 0, -2, "abc", True])
def test_importance_rejects_nan_and_non_positive(value):
    with pytest.raises(ValueError, match="importance"):
        memory_rows.check_importance(value)


def test_add_rows_mixed_targets_and_tables(mem):
    n = len(mem)
    ids = memory_rows.add_rows(mem, [memory_rows.make_row("solo"),
                                     memory_rows.make_row("q", "a", ["q2"], 2.0)])
    assert len(mem) == n + 2 and len(ids) == 2
    table = memory_rows.memories_frame(mem)
    assert set(table.cue) >= {"solo", "q"}
    assert json.loads(memory_rows.export_json(mem))[-1]["cue"] in {"solo", "q"}
    again = memory_rows.rows_of(mem)
    assert len(again) == len(mem) and again[-1].paraphrases in ([], ["q2"])
    assert memory_rows.answer_text(mem, ids[0]) in {"solo", "a"}
    assert memory_rows.answer_text(mem, -1) == "—"


def test_chain_rows():
    rows = demos.chain_rows("a, b, c\nx → y")
    assert [(r.cue, r.target) for r in rows] == [("a", "b"), ("b", "c"), ("x", "y")]
    with pytest.raises(ValueError, match="at least two"):
        demos.chain_rows("alone")
    with pytest.raises(ValueError, match="no chain"):
        demos.chain_rows("  \n")


def test_demo_sets_are_clean():
    for key in demos.DEMOS:
        assert len(demos.load(key)) >= 10
    assert any(r.importance > 1 for r in demos.load("assistant"))
    with pytest.raises(KeyError):
        demos.load("nope")


# --- workspaces ---------------------------------------------------------------------------
OWNER = "owner_key_for_tests_0001"


@pytest.mark.parametrize("name", ["../evil", "a/b", "", " ", ".hidden", "x" * 80, "a\\b",
                                  "..", "con:", files.AUTOSAVE])
def test_workspace_names_validated(name, tmp_path):
    with pytest.raises(ValueError):
        files.path_for(name, OWNER, tmp_path)


def test_workspace_roundtrip_and_corrupt_file(mem, tmp_path):
    files.save(mem, "demo 1", owner=OWNER, base=tmp_path)
    assert files.list_names(OWNER, tmp_path) == ["demo 1"]
    back = files.open_named("demo 1", HashingEncoder(), owner=OWNER, base=tmp_path)
    assert back.ids() == mem.ids() and back.get(0) == mem.get(0)
    (tmp_path / OWNER / "broken.nuonuo").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ValueError, match="not a valid NuoNuo memory file"):
        files.open_named("broken", HashingEncoder(), owner=OWNER, base=tmp_path)
    with pytest.raises(ValueError, match="no saved workspace"):
        files.open_named("missing", HashingEncoder(), owner=OWNER, base=tmp_path)
    with pytest.raises(ValueError, match="limit"):
        files.from_bytes(b"x" * 11, HashingEncoder(), limit=10)


def test_workspace_folder_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NUONUO_WORKSPACES", str(tmp_path / "ws"))
    assert files.path_for("a", OWNER).parent == (tmp_path / "ws" / OWNER).resolve()


# --- analysis, nights, charts ---------------------------------------------------------------
def test_analysis_frames_and_charts(mem):
    q = mem.get(0)["cue"]
    ans = analysis.answers(mem, q, 0.0)
    assert set(ans.method) == {"hopfield", "hebbian", "cosine"}
    assert (ans[ans["rank"] == 1].id == 0).all()
    att, en, tr = analysis.settle_frames(mem, q, 0.05)
    assert tr.settled_id == 0 and 0 < tr.noisy_cosine < 1 and len(en) == att.step.max() + 1
    raw = analysis.noise_sweep(mem, [0.0, 0.3], seeds=3)
    assert len(raw) == 2 * 3 * 3 and set(raw.seed) == {0, 1, 2}
    assert (raw[raw.noise_std == 0].recall_at_1 == 1).all()
    sweep = analysis.noise_summary(raw)
    assert len(sweep) == 6 and (sweep.draws == 3).all()
    w, units = analysis.w_view(mem)
    assert w.shape == (len(units), len(units)) and w.sum() > 0
    wf = analysis.w_frame(w, units)
    assert len(wf) == np.count_nonzero(w) and (wf.w != 0).all()
    codes = analysis.codes_frame(mem, [0, 1])
    assert len(codes) == 2 * 2 * mem.config.k
    att_b, summary = analysis.beta_sweep(mem, q, [0.5, 64], noise_std=0.05)
    assert summary.max_weight.iloc[1] > summary.max_weight.iloc[0]
    assert summary.effective_patterns.iloc[0] > summary.effective_patterns.iloc[1]
    for fig in (charts.noise_sweep(sweep), charts.attention(att), charts.energy(en),
                charts.w_heatmap(w, units), charts.raster(codes, 4096),
                charts.beta_attention(att_b[att_b.beta == 64], 64), charts.beta_curve(summary)):
        assert fig.layout.title.text
    fig = charts.noise_sweep(sweep)
    lines = [t for t in fig.data if t.showlegend is not False]
    assert {t.name: t.line.color for t in lines} == charts.METHOD_COLORS
    # equal curves stay visible: each method its own dash and marker (issue 17)
    assert len({t.line.dash for t in lines}) == 3 and len({t.marker.symbol for t in lines}) == 3
    bands = [t for t in fig.data if t.fill == "toself"]
    for band in bands:     # the band of each method lies around its mean, in its colour
        method = band.name.split()[0]
        d = sweep[sweep.method == method]
        assert max(band.y) == pytest.approx(d.ci_high.max())
        assert min(band.y) == pytest.approx(d.ci_low.min())


def test_chain_and_graph():
    m = HybridMemory(MemoryConfig(code_dim=4096, k=16, device="cpu"), encoder=HashingEncoder())
    memory_rows.add_rows(m, demos.chain_rows("red key, blue box, old map, island"))
    df, res = analysis.chain_frame(m, m.ids()[0], 3)
    assert list(df.recalled) == ["red key", "blue box", "old map", "island"]
    assert (df.cosine == 1).all() and (df.support == 1).all() and res.stop == "hops"
    memory_rows.add_rows(m, [memory_rows.make_row("lonely", "pair"),
                             memory_rows.make_row("self only")])
    nodes, edges = analysis.graph_data(m)       # the unchained pair is left out
    assert nodes == ["red key", "blue box", "old map", "island"] and len(edges) == 3
    pos = analysis.layered_layout(nodes, edges)
    assert [pos[v][0] for v in nodes] == [0, 1, 2, 3] and len({p[1] for p in pos.values()}) == 1
    fig = charts.graph(nodes, edges, list(df.recalled), pos)
    assert len(fig.layout.annotations) == 3


def _layout_reference(nodes, edges):
    """The lab's former hand-written layout (union of edge ends, queue BFS), kept as the
    reference the networkx one must reproduce."""
    succ, indeg, comp = {}, {v: 0 for v in nodes}, {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        indeg[b] += 1
        merged = comp.get(a, {a}) | comp.get(b, {b})
        for v in merged:
            comp[v] = merged
    pos, row = {}, 0
    for v in nodes:
        if v in pos:
            continue
        members = [u for u in nodes if u in comp.get(v, {v})]
        roots = [u for u in members if indeg[u] == 0] or members[:1]
        depth, queue = {r: 0 for r in roots}, list(roots)
        while queue:
            u = queue.pop(0)
            for w in succ.get(u, []):
                if w not in depth:
                    depth[w] = depth[u] + 1
                    queue.append(w)
        used = {}
        for u in members:
            d = depth.get(u, 0)
            pos[u] = (float(d), -float(row + used.get(d, 0)))
            used[d] = used.get(d, 0) + 1
        row += max(used.values())
    return pos


def test_layered_layout_forks_loops_and_lone_items():
    nodes = ["a", "b", "c", "d", "x", "y", "lone", "p", "q", "r", "s"]
    edges = [("a", "b"), ("a", "c"), ("c", "d"),            # a fork: c's branch a row down
             ("x", "y"), ("y", "x"),                         # a closed loop starts at x
             ("p", "q"), ("r", "q"), ("s", "r"), ("r", "s")]  # p is a source, r/s a loop
    pos = analysis.layered_layout(nodes, edges)
    assert pos == {"a": (0, 0), "b": (1, 0), "c": (1, -1), "d": (2, 0),
                   "x": (0, -2), "y": (1, -2), "lone": (0, -3),
                   "p": (0, -4), "q": (1, -4), "r": (0, -5), "s": (0, -6)}
    assert analysis.layered_layout([], []) == {}


@pytest.mark.parametrize("seed", range(40))
def test_layered_layout_matches_the_former_layout(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 14))
    nodes = [f"n{i}" for i in rng.permutation(n)]
    edges = [(nodes[a], nodes[b]) for a, b in rng.integers(0, n, (int(rng.integers(0, 2 * n)), 2))
             if rng.random() < 0.9]                         # self-loops and repeats included
    assert analysis.layered_layout(nodes, edges) == _layout_reference(nodes, edges)


def test_w_view_refuses_big_code_dim():
    m = HybridMemory(MemoryConfig(code_dim=8192, device="cpu"), encoder=HashingEncoder())
    with pytest.raises(ValueError, match="4096"):
        analysis.w_view(m)


def test_night_lab_forgets_without_replay():
    rows = [memory_rows.make_row(f"fact {i} of the lab", f"answer {i}", importance=3.0 if i % 4 == 0
                        else 1.0) for i in range(12)]
    lab = player.NightLab(demos.split_days(rows, 4), HashingEncoder(), code_dim=4096, k=16)
    for _ in range(4):
        lab.step(player.NightParams())
    met = lab.metrics_frame()
    assert list(met.night.unique()) == [1, 2, 3, 4] and set(met.run) == set(player.RUNS)
    fg = lab.forgetting_frame().set_index(["age", "run"]).recall
    assert fg[(3, "without replay")] == 0 and fg[(3, "with replay")] > 0
    table = lab.memories_frame()
    assert (table.priority == "★").sum() == 3 and len(table) == 12
    assert set(lab.survival_frame().learn_day) == {1, 2, 3}
    assert charts.survival(lab.survival_frame()).data and charts.night_metrics(met).data
    pri = lab.priority_frame().set_index(["night", "run", "group"]).recall
    assert pri[(4, "with replay", "★ priority")] == 1.0
    assert len(charts.priority(lab.priority_frame()).data) == 4
    with pytest.raises(ValueError, match="keep_fraction"):
        lab.step(player.NightParams(keep_fraction=2.0))
    with pytest.raises(ValueError, match=r"homeostasis must be a (finite )?number in .*, got nan"):
        lab.step(player.NightParams(homeostasis=float("nan")))
    with pytest.raises(ValueError, match="empty"):
        player.NightLab([], HashingEncoder())


def test_lab_is_not_imported_by_core():
    import pathlib
    core = pathlib.Path(__file__).resolve().parents[1] / "nuonuo_core"
    for path in core.rglob("*.py"):
        text = path.read_text()
        assert "import lab" not in text and "from lab" not in text, path


def test_latency_and_capacity_sweeps_small():
    lat = analysis.latency_sweep(sizes=(20, 40), queries=4, code_dim=1024)
    assert set(lat.method) == set(analysis.METHODS) and (lat.ms_per_query > 0).all()
    cap = analysis.capacity_sweep(sizes=(20,), code_dim=1024)
    assert (cap.recall_at_1 >= 0).all() and len(cap) == 3
    assert np.isfinite(cap.recall_at_1).all()
