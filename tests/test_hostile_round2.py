"""Issue 20 (the second hostile round): one test per defect, each failing on the code before
the fix. Probes 1-2 are measured in one child process (peak resident memory and time of the
refusal); the concurrency acceptance (3 threads x 60 autosaves of one owner; two processes
racing to create one name) runs in the normal suite."""
from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import rewrite, unit_rows
from lab import limits
from lab.sweep import jobs
from lab.workspace import files, memory_rows
from nuonuo_core import HashingEncoder, HybridMemory, MemoryConfig, atomic, persistence
from nuonuo_core.limits import LIMITS
from nuonuo_core.store import MAX_DAY, MAX_ID

ROOT = Path(__file__).resolve().parents[1]
A, B = "owner-aaaaaaaaaaaaaaaa", "owner-bbbbbbbbbbbbbbbb"
CPU = dict(device="cpu")


def _probe_module():
    spec = importlib.util.spec_from_file_location("probe_hostile",
                                                  ROOT / "scripts" / "probe_hostile.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- 1, 2: small files must cost little ---------------------------------------------------------
CHILD = r"""
import json, re, sys, time
sys.path.insert(0, sys.argv[1])
import torch, safetensors.torch  # imported before measuring
from lab.workspace import files, memory_rows
from nuonuo_core import HybridMemory

def status(key):
    return int(re.search(key + r':\s+(\d+)', open('/proc/self/status').read()).group(1))

def measure(fn):
    try:
        open('/proc/self/clear_refs', 'w').write('5')   # the peak starts again from here
    except OSError:
        pass
    before, t = status('VmRSS'), time.perf_counter()
    try:
        fn()
        out = 'accepted'
    except Exception as exc:
        out = f'{type(exc).__name__}: {exc}'
    return {'s': time.perf_counter() - t, 'mb': (status('VmHWM') - before) / 1024, 'out': out}

res = {}
for name in sys.argv[2:]:
    data = open(name, 'rb').read()
    if name.endswith('.json'):
        res[name] = measure(lambda: memory_rows.parse(data, 'json'))
    elif '.core.' in name:
        res[name] = measure(lambda: HybridMemory.from_bytes(data))
    else:
        res[name] = measure(lambda: files.from_bytes(data, None,
                                                          limit=files.UPLOAD_LIMIT))
print(json.dumps(res))
"""


def _measure(tmp_path, blobs: dict[str, bytes]) -> dict:
    paths = []
    for name, data in blobs.items():
        p = tmp_path / name
        p.write_bytes(data)
        paths.append(str(p))
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), *paths], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return {Path(k).name: v for k, v in res.items()}


def test_probes_1_and_2_small_hostile_files_are_refused_cheaply(tmp_path):
    """Probe 1: an empty workspace whose config costs gigabytes (dense W at D = 16384, d =
    4096, a separate projection, top_k 10000, steps 1000), right and wrong fingerprint; a
    core-level file whose shapes contradict its dense config. Probe 2: 19 MB of ``[[],…]`` in
    the state JSON and in the header; a 5 MB import of ``[{},…]``. Each is refused, costing
    < 100 MB and < 2 s (before: +4.3 GB, +2.5 GB, +0.5 GB, 8 s)."""
    probe = _probe_module()
    dense = probe.empty_tensors(20, 4096)
    dense["target_codes"] = torch.zeros(1, 20, dtype=torch.int32)   # n = 0 but (1, k): a lie
    blobs = {
        "big.right.nuonuo": probe.probe1(True),
        "big.wrong.nuonuo": probe.probe1(False),
        "shapes.core.nuonuo": persistence.dump(
            MemoryConfig(w_format="dense", code_dim=16384, embed_dim=4096, **CPU).to_dict(),
            dense, {"texts": [], "next_id": 0, "day": 0, "w_form": "cells"}, 1.0),
        "state.nuonuo": probe.probe2("state"),
        "header.nuonuo": probe.probe2("header"),
        "import.json": b"[" + b"{}," * (5 * 2**20 // 3 - 1) + b"{}]",
    }
    res = _measure(tmp_path, blobs)
    for name, r in res.items():
        assert r["out"] != "accepted", name
        assert r["mb"] < 100 and r["s"] < 2.0, (name, r)
    assert "outside what the lab allows" in res["big.right.nuonuo"]["out"]
    assert "outside what the lab allows" in res["big.wrong.nuonuo"]["out"]
    assert "target_codes must have shape" in res["shapes.core.nuonuo"]["out"]
    assert "the state holds more than" in res["state.nuonuo"]["out"]
    assert "the header holds more than" in res["header.nuonuo"]["out"]
    assert "at most 5000" in res["import.json"]["out"]


@pytest.mark.parametrize("change, word", [
    (dict(top_k=10_000), "top_k"), (dict(max_steps=1000), "max_steps"),
    (dict(beta=5000.0), "beta"), (dict(code_dim=2048), "code_dim"),
    (dict(embed_dim=4096, code_dim=1024), "embed_dim"),
    (dict(w_format="dense", code_dim=4096), "dense"),
])
def test_lab_opens_only_workspaces_its_forms_could_make(change, word):
    mem = HybridMemory(MemoryConfig(code_dim=1024, k=8, **CPU), encoder=HashingEncoder())
    ok = files.from_bytes(mem.to_bytes(), HashingEncoder())
    assert ok.config == mem.config
    cfg = MemoryConfig(**{**mem.config.to_dict(), **change})
    data = HybridMemory(cfg, encoder=HashingEncoder()).to_bytes()
    with pytest.raises(ValueError, match=word):
        files.from_bytes(data, HashingEncoder())
    assert len(HybridMemory.from_bytes(data)) == 0      # the engine itself still opens it


def test_every_lab_form_range_lies_inside_the_engines():
    """Issue 21 point 3: the lab's ranges are derived from the engine's table and inside it;
    the disagreements of the last round (top_k, seed, eps) are gone."""
    engine = set(LIMITS.values())
    for name, lim in limits.FORMS.items():
        parent = lim if lim in engine else lim.parent
        assert parent in engine and lim.inside(parent), name
    for table in (limits.RECALL, limits.REBUILD, limits.NIGHT):
        for name, lim in table.items():
            assert lim is limits.FORMS[name], name
    with pytest.raises(ValueError, match=r"homeostasis must be a number in \[0.05, 1\]"):
        from lab.nights import player
        player.NightParams(homeostasis=0.01).check()
    assert limits.SEED_RANGE == (0, 2**32 - 1) == (LIMITS["seed"].lo, LIMITS["seed"].hi)
    assert limits.FORMS["top_k"].hi == 1000 and LIMITS["top_k"].hi == 10_000
    assert "the engine allows [1, 10000]" in limits.FORMS["top_k"].help()
    assert set(limits.CODE_DIMS) <= set(range(LIMITS["code_dim"].lo, LIMITS["code_dim"].hi + 1))
    with pytest.raises(ValueError, match="does not lie inside the engine's"):
        LIMITS["top_k"].narrow(hi=20_000)
    with pytest.raises(ValueError, match="does not lie inside the engine's"):
        LIMITS["eps"].narrow(lo=0.0)
    # MemoryConfig, the store and consolidation read the same table
    from nuonuo_core import config, consolidation, inputs, store
    assert config.RANGES["top_k"] == (1, 10_000, False)
    assert (store.MAX_DAY, store.MAX_ID, consolidation.MAX_EPOCHS, inputs.MAX_HOPS) == (
        LIMITS["day"].hi, LIMITS["next_id"].hi, LIMITS["epochs"].hi, LIMITS["hops"].hi)
    assert memory_rows.MAX_TEXT == LIMITS["text_chars"].hi and \
        memory_rows.MAX_PARAPHRASES == LIMITS["paraphrases"].hi


# --- 3: parse first, then bound ----------------------------------------------------------------
@pytest.mark.parametrize("text", ["1_000_000", "+40000000", " 4e7 ", "4000.0e1", "1_0_0_0_0"])
def test_sweep_size_cap_reads_the_number_the_text_denotes(text):
    with pytest.raises(ValueError, match=r"n_memories = \d+ is too large for the lab"):
        jobs.page_grid("noise", {}, {"n_memories": text}, "0")


def test_sweep_form_passes_the_parsed_number_on():
    grid = jobs.page_grid("noise", {"code_dim": "256, +512"}, {"n_memories": "1_000"},
                           "0, +1")
    assert grid.fixed["n_memories"] == 1000 and type(grid.fixed["n_memories"]) is int
    assert dict(grid.axes)["code_dim"] == (256, 512) and grid.seeds == (0, 1)
    for bad in ("1e999", "nan", "0x10", "1__0", "12abc", "--5"):
        with pytest.raises(ValueError, match="n_memories must be a whole number"):
            jobs.page_grid("noise", {}, {"n_memories": bad}, "0")
    assert limits.number("k", "1_6", 1, 256, integer=True) == 16
    with pytest.raises(ValueError, match=r"k must be a whole number in \[1, 256\]"):
        limits.number("k", "+1e9", 1, 256, integer=True)


# --- 5, 6: whatever the engine can reach, it saves and loads ----------------------------------
def _with_state(mem: HybridMemory, **state) -> HybridMemory:
    return HybridMemory.from_bytes(rewrite(mem.to_bytes(), state=lambda s: s.update(state)))


def test_the_clock_refuses_a_night_past_its_last_day():
    mem = HybridMemory(MemoryConfig(code_dim=256, k=4, **CPU))
    mem.add_vectors(unit_rows(3))
    mem = _with_state(mem, day=MAX_DAY)
    before = mem.store.w.stats()
    with pytest.raises(ValueError, match="the last one"):
        mem.consolidate(epochs=2)
    assert mem.day == MAX_DAY and mem.store.w.stats() == before   # nothing changed
    assert HybridMemory.from_bytes(mem.to_bytes()).day == MAX_DAY
    with pytest.raises(ValueError, match=r"day must be an int in \[0, 1000000000\]"):
        mem.add_vectors(unit_rows(1), day=MAX_DAY + 1)


def test_ids_stop_at_their_limit_and_every_reachable_state_loads():
    mem = HybridMemory(MemoryConfig(code_dim=256, k=4, **CPU))
    mem.add_vectors(unit_rows(2))
    mem = _with_state(mem, next_id=MAX_ID - 1)
    with pytest.raises(ValueError, match="used up its ids"):
        mem.add_vectors(unit_rows(2, seed=1))
    assert mem.add_vectors(unit_rows(1, seed=2)) == [MAX_ID - 1]
    back = HybridMemory.from_bytes(mem.to_bytes())
    assert back.ids() == mem.ids() and back.store.next_id == MAX_ID


@pytest.mark.parametrize("w_format", ["sparse", "dense"])
def test_nights_that_underflow_w_still_save_and_load(w_format):
    mem = HybridMemory(MemoryConfig(code_dim=256, k=4, w_format=w_format, **CPU))
    mem.add_vectors(unit_rows(5))
    mem.consolidate(epochs=60, homeostasis=0.01, prune_threshold=0.0, replay=False)
    mem.validate()
    back = HybridMemory.from_bytes(mem.to_bytes())
    assert back.stats()["w_nnz"] == mem.stats()["w_nnz"] == 0
    assert back.remove(back.ids()[:2]) == 2 and len(back.add_vectors(unit_rows(1))) == 1
    back.validate()


def test_contribution_keys_are_safe_for_the_largest_legal_id():
    """The largest id with the largest code_dim: id · D + column must not wrap, and remove
    must take exactly the new memory's W cells (before: keys wrapped to memory 0)."""
    D = LIMITS["code_dim"].hi
    mem = HybridMemory(MemoryConfig(code_dim=D, embed_dim=8, k=4, **CPU))
    keep = mem.add_vectors(unit_rows(1, d=8))
    mem = _with_state(mem, next_id=MAX_ID - 1)
    cells = mem.stats()["w_nnz"]
    (new,) = mem.add_vectors(unit_rows(1, d=8, seed=3), targets=unit_rows(1, d=8, seed=4))
    assert new == MAX_ID - 1
    keys = mem.store.contrib.state_dict(mem.store.ids)["c_keys"]   # id · D + column, as saved
    assert set((keys // D).tolist()) == {keep[0], new}
    mem.validate()
    mem.remove([new])
    assert mem.stats()["w_nnz"] == cells and mem.ids() == keep
    mem.validate()


@pytest.fixture
def two():
    mem = HybridMemory(MemoryConfig(code_dim=1024, k=8, **CPU))
    mem.add_vectors(unit_rows(2), targets=unit_rows(2, seed=1))
    return mem


@pytest.mark.parametrize("lie, message", [
    (lambda t: t["c_vals"].zero_(), "contributions must be finite and > 0"),
    (lambda t: t["row_mem"].copy_(t["row_mem"].flip(0)), "owned by the wrong memory"),
    (lambda t: t["w_vals"].mul_(2), "more than the memories' contributions"),
    (lambda t: t["c_keys"].sub_(torch.where(t["c_keys"] >= 1024, 1024, 0)),
     "sorted, unique|no memory's contribution|wrong memory"),
])
def test_validate_checks_that_contributions_sum_to_w(two, lie, message):
    with pytest.raises(ValueError, match=message):
        HybridMemory.from_bytes(rewrite(two.to_bytes(), tensors=lie))


def test_contributions_filed_under_another_memory_are_caught(two):
    """Memory 1's share filed under memory 0 (what the overflow did): same keys count,
    sorted and unique, but W is no longer their sum."""
    def refile(t):
        keys = t["c_keys"]
        mem1 = keys >= 1024
        moved = keys.clone()
        moved[mem1] -= 1024
        uniq, inv = torch.unique(moved, return_inverse=True)
        vals = torch.zeros(uniq.shape[0]).index_add_(0, inv, t["c_vals"])
        t["c_keys"], t["c_vals"] = uniq, vals
    data = rewrite(two.to_bytes(), tensors=refile)
    with pytest.raises(ValueError, match="wrong memory|no memory's contribution"):
        HybridMemory.from_bytes(data)


# --- 7, 8: concurrent writers ------------------------------------------------------------------
def test_three_tabs_autosaving_one_owner_never_fail(tmp_path):
    """Acceptance: 3 threads x 60 autosaves of one owner, 0 errors; the slot opens after."""
    mems = []
    for i in range(3):
        m = HybridMemory(MemoryConfig(code_dim=256, k=4, **CPU), encoder=HashingEncoder())
        m.add_vectors(unit_rows(i + 1, seed=i))
        mems.append(m)
    errors, start = [], threading.Barrier(3)

    def tab(i):
        start.wait()
        for _ in range(60):
            try:
                files.autosave(mems[i], f"tab {i}", A, base=tmp_path)
            except Exception as exc:          # noqa: BLE001 - the test counts every failure
                errors.append(repr(exc))

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    mem, name = files.restore(HashingEncoder(), A, base=tmp_path)
    assert name in {"tab 0", "tab 1", "tab 2"} and len(mem) == int(name[-1]) + 1  # a pair
    leftovers = [p.name for p in (tmp_path / A).iterdir() if p.name.endswith(atomic.SUFFIX)]
    assert leftovers == []


def test_cleaning_never_removes_a_file_a_writer_registers_meanwhile(tmp_path, monkeypatch):
    """A writer that registers its temporary file after the cleaner began listing the folder
    must keep it (before: the cleaner's snapshot of writers in flight missed it)."""
    from pathlib import Path as P
    late = tmp_path / f".w.nuonuo.{os.getpid()}-{'ab' * 8}{atomic.SUFFIX}"
    real = P.iterdir

    def iterdir(self):
        if self == tmp_path and not late.exists():
            with atomic._lock:
                atomic._active.add(str(late))     # the writer registers, then creates
            late.write_bytes(b"in flight")
        return real(self)

    monkeypatch.setattr(P, "iterdir", iterdir)
    atomic.clean_stale(tmp_path)
    assert late.exists()
    with atomic._lock:
        atomic._active.discard(str(late))
    monkeypatch.undo()
    assert atomic.clean_stale(tmp_path) == [late] and not late.exists()


def test_two_sessions_saving_one_new_name_exactly_one_wins(tmp_path):
    mems = [HybridMemory(MemoryConfig(code_dim=256, k=4, **CPU)) for _ in range(2)]
    for i, m in enumerate(mems):
        m.add_vectors(unit_rows(i + 1, seed=i))
    def session(i, r, start, outcome):
        start.wait()
        try:
            files.save(mems[i], f"new {r}", A, base=tmp_path)
            outcome[i] = "saved"
        except files.NameTaken:
            outcome[i] = "asked"

    for r in range(20):
        start, outcome = threading.Barrier(2), [None, None]
        ts = [threading.Thread(target=session, args=(i, r, start, outcome)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert sorted(outcome) == ["asked", "saved"], (r, outcome)
        won = files.open_named(f"new {r}", None, A, base=tmp_path)
        assert len(won) == outcome.index("saved") + 1


RACER = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from lab.workspace import files as ws
from nuonuo_core import HybridMemory, MemoryConfig
base, i, rounds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
m = HybridMemory(MemoryConfig(code_dim=256, k=4, device="cpu"))
m.add_vectors(np.eye(384, dtype=np.float32)[: i + 1])
out = []
for r in range(rounds):
    open(os.path.join(base, f"ready-{r}-{i}"), "w").close()     # a two-process barrier
    while not os.path.exists(os.path.join(base, f"ready-{r}-{1 - i}")):
        time.sleep(0.0005)
    try:
        ws.save(m, f"race {r}", "owner-aaaaaaaaaaaaaaaa", base=os.path.join(base, "ws"))
        out.append("saved")
    except ws.NameTaken:
        out.append("asked")
    except Exception as exc:
        out.append(f"error {exc!r}")
print(json.dumps(out))
"""


def test_two_processes_racing_to_create_one_name(tmp_path):
    """Acceptance: two processes create the same new names at once: 0 errors and exactly
    one winner per name (the winner's file is the one on disk)."""
    rounds = 8
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(ROOT), str(tmp_path), str(i),
                               str(rounds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(2)]
    got = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        got.append(json.loads(out.strip().splitlines()[-1]))
    for r in range(rounds):
        assert sorted([got[0][r], got[1][r]]) == ["asked", "saved"], (r, got)
        won = files.open_named(f"race {r}", None, A, base=tmp_path / "ws")
        assert len(won) == [got[0][r], got[1][r]].index("saved") + 1


# --- 9: what the lab writes, it can open ------------------------------------------------------
def test_workspace_file_stays_within_the_upload_limit():
    mem = HybridMemory(MemoryConfig(**CPU), encoder=HashingEncoder())
    refused = None
    for b in range(40):                                   # up to 40,000 memories
        rows = [memory_rows.make_row(f"memory {b}-{i}", f"target {b}-{i}")
                for i in range(1000)]
        try:
            memory_rows.add_rows(mem, rows)
        except ValueError as exc:
            refused = str(exc)
            break
    assert refused is not None and "20 MB" in refused and "file" in refused
    data = mem.to_bytes()
    assert len(data) <= files.UPLOAD_LIMIT
    assert abs(limits.file_bytes(mem) - len(data)) < 8192
    back = files.from_bytes(data, HashingEncoder(), limit=files.UPLOAD_LIMIT)
    assert len(back) == len(mem)
    with pytest.raises(ValueError, match="this night could make"):
        from lab.nights import player
        player.sleep_workspace(mem, player.NightParams(epochs=5, replay_noise=0.1))
    with pytest.raises(ValueError, match="rebuilding with k = 64 could make"):
        files.rebuild(mem, HashingEncoder(), k=64)


# --- 11-13: imports and exports ----------------------------------------------------------------
def test_json_row_without_a_cue_is_a_row_error():
    res = memory_rows.parse('[{"cue": "good row"}, {"target": "x"}]', "json")
    assert [r.cue for r in res.rows] == ["good row"]
    assert [(e.row, "no cue" in e.message) for e in res.errors] == [(2, True)]


FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3",
            "'=already quoted", "''=two", "'tis the season", "a\tb"]


def _everything() -> HybridMemory:
    mem = HybridMemory(MemoryConfig(code_dim=1024, k=8, **CPU), encoder=HashingEncoder())
    top, many = LIMITS["text_chars"].hi, LIMITS["paraphrases"].hi
    mem.add(["lone\rcr", "line\u2028sep", "x" * top, "para", "[starts like json",
             "crlf\r\nand\nlf", "quote \"in\" it, with comma"] + FORMULAS,
            paraphrases=[["p\rq"], ["a\u2029b"], [], [f"v{i}" for i in range(many)],
                         ["[json-like", "a|b"], [], ["=1+1", "'tis"]] + [[]] * len(FORMULAS),
            importance=[0.1 + i / 7 for i in range(7 + len(FORMULAS))])
    mem.add(["with target"], targets=["y" * top], importance=100.0)
    return mem


def _memories(mem: HybridMemory) -> list[dict]:
    return [{k: g[k] for k in ("cue", "target", "paraphrases", "importance")}
            for g in mem.records()]


def test_export_then_import_is_the_identity_for_everything_the_engine_holds():
    mem = _everything()
    want = _memories(mem)
    for fmt, text in (("csv", memory_rows.export_csv(mem)),
                      ("json", memory_rows.export_json(mem))):
        res = memory_rows.parse(text.encode("utf-8"), fmt)
        assert res.errors == [], (fmt, res.errors[:3])
        back = HybridMemory(mem.config, encoder=HashingEncoder())
        memory_rows.add_rows(back, res.rows)
        assert sorted(_memories(back), key=str) == sorted(want, key=str), fmt
    new, dropped = files.rebuild(mem, HashingEncoder(), k=4)
    assert dropped == 0 and sorted(_memories(new), key=str) == sorted(want, key=str)


def test_texts_the_engine_cannot_hold_are_refused_at_add():
    mem = HybridMemory(MemoryConfig(code_dim=256, k=4, **CPU), encoder=HashingEncoder())
    with pytest.raises(ValueError, match="10,000"):
        mem.add(["x" * (LIMITS["text_chars"].hi + 1)])
    with pytest.raises(ValueError, match="paraphrases"):
        mem.add(["q"], paraphrases=[[f"p{i}" for i in range(LIMITS["paraphrases"].hi + 1)]])
    assert mem.add(["  padded  "]) == [0] and mem.get(0)["cue"] == "padded"


def test_csv_export_neutralises_formulas_and_import_restores_them():
    import csv
    import io as pyio

    mem = _everything()
    rows = list(csv.reader(pyio.StringIO(memory_rows.export_csv(mem), newline="")))[1:]
    for r in rows:
        for cell in r[:3]:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
    cues = [r[0] for r in rows]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cues and "''=already quoted" in cues
    assert "'tis the season" in cues                       # not a formula: kept as is
    res = memory_rows.parse("cue,paraphrases\n'@SUM(1),'=a|b\n", "csv")
    assert (res.rows[0].cue, res.rows[0].paraphrases) == ("@SUM(1)", ["=a", "b"])


# --- 14: every refusal of an upload is a message -----------------------------------------------
def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b""))


def test_decompression_bomb_png_is_a_clear_value_error():
    from nuonuo_core.pattern_sets import image_pattern

    with pytest.raises(ValueError, match="decompression bomb"):
        image_pattern(_png_header(20000, 20000))
    with pytest.raises(ValueError, match="each side must be in"):
        image_pattern(_png_header(5000, 5000))


# --- 16: IVF below its training size ----------------------------------------------------------
@pytest.mark.parametrize("cfg", [dict(index="ivf"), dict(index="auto", ann_threshold=1)])
def test_ivf_falls_back_to_the_exact_scan_below_its_training_size(cfg):
    pytest.importorskip("faiss")
    from nuonuo_core.index import IVF_MIN_ROWS

    x = unit_rows(10, seed=5)
    mem = HybridMemory(MemoryConfig(code_dim=1024, k=8, **cfg, **CPU))
    flat = HybridMemory(MemoryConfig(code_dim=1024, k=8, index="flat", **CPU))
    for m in (mem, flat):
        m.add_vectors(x)
    for method in ("hopfield", "cosine"):
        for q in (x[:1], x[:4]):
            got, want = mem.recall_vectors(q, 3, method), flat.recall_vectors(q, 3, method)
            assert np.array_equal(got[1], want[1]) and np.allclose(got[0], want[0])
    assert mem.stats()["index"] == "flat" and IVF_MIN_ROWS >= 16


# --- mutations that survived the last suite ----------------------------------------------------
def test_checksum_covers_the_state_json():
    """An edited cue text (state JSON) is refused by the checksum itself."""
    mem = HybridMemory(MemoryConfig(code_dim=256, k=4, **CPU), encoder=HashingEncoder())
    mem.add(["the original cue"])
    edited = rewrite(mem.to_bytes(), resign=False,
                     state=lambda s: s["texts"][0].update(cue="an edited cue"))
    with pytest.raises(ValueError, match="checksum mismatch"):
        HybridMemory.from_bytes(edited)


def test_checksum_covers_the_tensor_table():
    """Swapping two same-shaped tensors in the header table (the bytes stay) is refused by
    the checksum itself."""
    mem = HybridMemory(MemoryConfig(code_dim=256, k=4, **CPU))
    mem.add_vectors(unit_rows(3), targets=unit_rows(3, seed=1))
    data = mem.to_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    a, b = header["row_codes"], header["target_codes"]
    assert a["shape"] == b["shape"]
    a["data_offsets"], b["data_offsets"] = b["data_offsets"], a["data_offsets"]
    raw = json.dumps(header, separators=(",", ":")).encode()
    assert len(raw) <= n
    raw += b" " * (n - len(raw))
    swapped = data[:8] + raw + data[8 + n:]
    with pytest.raises(ValueError, match="checksum mismatch"):
        HybridMemory.from_bytes(swapped)


def test_list_names_lists_only_the_owners_own_files(tmp_path):
    mem = HybridMemory(MemoryConfig(code_dim=256, k=4, **CPU))
    files.save(mem, "a one", A, base=tmp_path)
    files.save(mem, "b one", B, base=tmp_path)
    files.save(mem, "b two", B, base=tmp_path)
    files.autosave(mem, "b auto", B, base=tmp_path)
    assert files.list_names(A, tmp_path) == ["a one"]
    assert files.list_names(B, tmp_path) == ["b one", "b two"]
