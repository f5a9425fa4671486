"""Owners, autosave slot, rebuild, limits and the CSV round trip (pure lab layer, no Streamlit)."""
import json
import math

import pytest

from lab import limits
from lab.workspace import demos, files, memory_rows
from nuonuo_core import HashingEncoder, HybridMemory, MemoryConfig

A, B = "alice_owner_key_0000001", "bob_owner_key_000000002"


@pytest.fixture
def mem():
    m = HybridMemory(MemoryConfig(code_dim=1024, k=8, device="cpu"), encoder=HashingEncoder())
    memory_rows.add_rows(m, demos.load("teaching")[:6])
    return m


# --- owners ----------------------------------------------------------------------------------
def test_two_owners_never_see_each_others_workspaces(mem, tmp_path):
    files.save(mem, "private note", owner=A, base=tmp_path)
    assert files.list_names(A, tmp_path) == ["private note"]
    assert files.list_names(B, tmp_path) == []
    with pytest.raises(ValueError, match="no saved workspace named 'private note'"):
        files.open_named("private note", HashingEncoder(), owner=B, base=tmp_path)
    small = HybridMemory(MemoryConfig(code_dim=256, k=4, device="cpu"), encoder=HashingEncoder())
    files.save(small, "private note", owner=B, base=tmp_path)   # B's own, same name
    a = files.open_named("private note", HashingEncoder(), owner=A, base=tmp_path)
    b = files.open_named("private note", HashingEncoder(), owner=B, base=tmp_path)
    assert len(a) == 6 and len(b) == 0            # A's file was not overwritten by B
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([A, B])


def test_overwrite_needs_overwrite_true(mem, tmp_path):
    files.save(mem, "w", owner=A, base=tmp_path)
    empty = HybridMemory(MemoryConfig(code_dim=256, k=4, device="cpu"), encoder=HashingEncoder())
    with pytest.raises(files.NameTaken, match="already exists"):
        files.save(empty, "w", owner=A, base=tmp_path)
    assert len(files.open_named("w", HashingEncoder(), owner=A, base=tmp_path)) == 6
    files.save(empty, "w", owner=A, base=tmp_path, overwrite=True)
    assert len(files.open_named("w", HashingEncoder(), owner=A, base=tmp_path)) == 0


@pytest.mark.parametrize("owner", ["../" + A, A + "/x", "/etc", "", " " * 20, "a" * 65,
                                   "short", "..", "dot.in.the.key.12345", A + "\n", None, 7,
                                   "%2e%2e%2fxxxxxxxxxxxxxx"])
def test_bad_owner_keys_refused(owner, mem, tmp_path):
    with pytest.raises(ValueError, match="owner key"):
        files.save(mem, "x", owner=owner, base=tmp_path)
    with pytest.raises(ValueError, match="owner key"):
        files.list_names(owner, tmp_path)
    assert not any(tmp_path.iterdir())


def test_new_owner_keys_are_valid_and_distinct():
    keys = {files.new_owner() for _ in range(200)}
    assert len(keys) == 200 and all(files.check_owner(k) == k for k in keys)
    assert all(len(k) == 24 for k in keys)


def test_autosave_slot_restores_and_is_not_a_named_workspace(mem, tmp_path):
    assert files.restore(HashingEncoder(), A, tmp_path) is None
    files.autosave(mem, "my lab", A, tmp_path)
    back, name = files.restore(HashingEncoder(), A, tmp_path)
    assert name == "my lab" and back.records() == mem.records()
    assert files.list_names(A, tmp_path) == []
    assert files.restore(HashingEncoder(), B, tmp_path) is None
    (tmp_path / A / (files.AUTOSAVE + ".nuonuo")).write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a valid NuoNuo memory file"):
        files.restore(HashingEncoder(), A, tmp_path)


def test_rebuild_reencodes_without_touching_the_original(mem):
    mem.set_recall_params(beta=4.0)
    memory_rows.add_rows(mem, [memory_rows.make_row("paraphrased", "answer", ["other words"], 3.0)])
    before = mem.records()
    new, dropped = files.rebuild(mem, HashingEncoder(), code_dim=4096, k=12, seed=3,
                                      lr=0.5)
    assert dropped == 0 and mem.records() == before and mem.config.code_dim == 1024
    assert (new.config.code_dim, new.config.k, new.config.seed, new.config.lr,
            new.config.beta) == (4096, 12, 3, 0.5, 4.0)
    key = ["cue", "target", "paraphrases", "importance"]
    assert [{k: r[k] for k in key} for r in new.records()] == \
           [{k: r[k] for k in key} for r in before]
    q = mem.get(mem.ids()[-1])["cue"]
    _, ids = new.recall([q], k=1, method="cosine")
    assert new.get(int(ids[0][0]))["target"] == "answer"
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 256\]"):
        files.rebuild(mem, HashingEncoder(), code_dim=256, k=300)


# --- limits ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -5, 100.0001, 1e5, 1e308, math.inf, math.nan, "nan",
                                   "abc", True, None, [1]])
def test_importance_range(value):
    with pytest.raises(ValueError, match=r"importance must be a number in \(0, 100\], got"):
        limits.number("importance", value, *limits.IMPORTANCE, lo_open=True)


def test_number_accepts_bounds_and_converts():
    assert limits.number("importance", "100", 0, 100, lo_open=True) == 100.0
    assert limits.number("k", 4.0, 1, 256, integer=True) == 4
    with pytest.raises(ValueError, match=r"k must be a whole number in \[1, 256\], got 2\.5"):
        limits.number("k", 2.5, 1, 256, integer=True)
    with pytest.raises(ValueError, match="got 'xxxx"):
        limits.number("k", "x" * 10_000, 1, 256, integer=True)
    assert len(str(pytest.raises(ValueError, limits.number, "k", "x" * 10_000, 1, 2).value)) < 120


@pytest.mark.parametrize("bad", [0, -3, 51, 2.5, "x"])
def test_memories_per_day_range(bad):
    with pytest.raises(ValueError, match=r"memories per day must be a whole number in \[1, 50\]"):
        demos.split_days(demos.load("teaching"), bad)


# --- JSON and file limits ----------------------------------------------------------------------
def test_deep_json_is_a_message_not_a_traceback():
    deep = "[" * 100_000 + "]" * 100_000                 # 200 KB
    with pytest.raises(ValueError, match="nested too deeply"):
        memory_rows.parse(deep, "json")
    with pytest.raises(ValueError, match="17 levels reached; at most 16"):
        memory_rows.parse("[" * 17 + "]" * 17, "json")
    res = memory_rows.parse(json.dumps({"memories": [{"cue": "a", "paraphrases": [["x"]]}]}),
                            "json")
    assert res.rows == [] and "paraphrase must be text" in res.errors[0].message


def test_too_large_file_is_a_message():
    with pytest.raises(ValueError, match="limit is 5 MB"):
        memory_rows.parse(b"[" + b'"a",' * (2 * 2**20) + b'"a"]', "json")
    with pytest.raises(ValueError, match="at most 5000"):
        memory_rows.parse("\n".join(f"cue {i}" for i in range(5001)), "text")


def test_csv_importance_out_of_range_rows_are_errors_good_rows_kept():
    text = ("cue,target,importance\nok one,a,1\nhuge,b,1e308\nnegative,c,-5\nbig,d,1e5\n"
            "ok two,e,100\ninf,f,inf\n")
    res = memory_rows.parse(text, "csv")
    assert [(r.cue, r.importance) for r in res.rows] == [("ok one", 1.0), ("ok two", 100.0)]
    assert {e.row: e.message for e in res.errors} == {
        3: "importance must be a number in (0, 100], got '1e308'",
        4: "importance must be a number in (0, 100], got '-5'",
        5: "importance must be a number in (0, 100], got '1e5'",
        7: "importance must be a number in (0, 100], got 'inf'"}


# --- CSV round trip ----------------------------------------------------------------------------
HARD = [
    memory_rows.make_row('He said "hi", then left', "a, b, and c",
                         ["one, two", 'quote " inside'], 2.5),
    memory_rows.make_row("line one\nline two", "target\r\nwith CRLF",
                         ["para | with bar", "x"], 0.01),
    memory_rows.make_row("ünïcødé ☕ 日本語", "emoji 🍎", ["[starts with bracket]"], 100.0),
    memory_rows.make_row("plain", None, [], 1.0),
    memory_rows.make_row("=SUM(A1)", "-1", ["a\nb"], 1.1),
    memory_rows.make_row("dup", "dup", ["dup", "dup"], 3.0),
]


def test_export_csv_round_trips_everything(tmp_path):
    m = HybridMemory(MemoryConfig(code_dim=1024, k=8, device="cpu"), encoder=HashingEncoder())
    memory_rows.add_rows(m, HARD)
    m.add_vectors(HashingEncoder()(["vector only"]))     # no text: not exported
    text = memory_rows.export_csv(m)
    assert text.splitlines()[0] == "cue,target,paraphrases,importance"
    res = memory_rows.parse(text, "csv")
    assert res.errors == []
    got = [(r.cue, r.target, r.paraphrases, r.importance) for r in res.rows]
    want = [(g["cue"], g["target"], g["paraphrases"], g["importance"]) for g in m.records()
            if g["cue"]]
    assert got == want and len(got) == len(HARD)
    by_cue = {r.cue: r for r in res.rows}
    assert by_cue["line one\nline two"].paraphrases == ["para | with bar", "x"]
    assert by_cue["=SUM(A1)"].paraphrases == ["a\nb"]
    assert by_cue["plain"].target is None
    # and again through a second memory: the export is stable
    m2 = HybridMemory(MemoryConfig(code_dim=1024, k=8, device="cpu"), encoder=HashingEncoder())
    memory_rows.add_rows(m2, res.rows)
    assert memory_rows.export_csv(m2) == text


def test_hand_written_paraphrases_still_split_on_bar():
    res = memory_rows.parse("cue,paraphrases\nq,a | b|c\nr,[not json\n", "csv")
    assert res.rows[0].paraphrases == ["a", "b", "c"]
    assert res.rows[1].paraphrases == ["[not json"]


def test_work_per_request_is_bounded(mem, tmp_path, monkeypatch):
    top = memory_rows.MAX_PARAPHRASES
    with pytest.raises(ValueError, match=f"paraphrases: at most {top} per memory, got {top + 1}"):
        memory_rows.make_row("q", "a", [f"p{i}" for i in range(top + 1)])
    res = memory_rows.parse(json.dumps([{"cue": f"c{i}", "target": "t",
                                "paraphrases": [f"p{j}" for j in range(40)]}
                               for i in range(500)]), "json")
    assert len(res.rows) == 500
    n = len(mem)
    with pytest.raises(ValueError, match="21,000 texts to encode .* at most 20,000 at once"):
        memory_rows.add_rows(mem, res.rows)
    full = limits.WORKSPACE_BYTES
    room = full - limits.file_bytes(mem)
    one = limits.growth(mem.config, rows=1, memories=1, text_bytes=1)
    monkeypatch.setattr(limits, "WORKSPACE_BYTES", full - room + one)
    with pytest.raises(ValueError, match="adding 2 memories could make this workspace's file"):
        memory_rows.add_rows(mem, [memory_rows.make_row("a"), memory_rows.make_row("b")])
    assert len(mem) == n
    memory_rows.add_rows(mem, [memory_rows.make_row("a")])     # exactly one more fits
    assert len(mem) == n + 1
    monkeypatch.setattr(limits, "WORKSPACE_BYTES", full)
    monkeypatch.setattr(files, "MAX_SAVED", 2)
    for name in ("one", "two"):
        files.save(mem, name, owner=A, base=tmp_path)
    with pytest.raises(ValueError, match="2 saved workspaces, the most allowed"):
        files.save(mem, "three", owner=A, base=tmp_path)
    files.save(mem, "two", owner=A, base=tmp_path, overwrite=True)


def test_streamlit_config_stops_the_file_watcher():
    import tomllib
    from pathlib import Path

    cfg = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml")
                        .read_text())
    assert cfg["server"]["fileWatcherType"] == "none"
    assert {".venv", "data", "workspaces"} <= set(cfg["server"]["folderWatchBlacklist"])
    assert cfg["server"]["address"] == "localhost"
