"""Memory files that cannot hurt the server (issue 9, points 12-16) and a seeded fuzz test."""
import json
import os
import resource
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from nuonuo_core import HashingEncoder, HybridMemory, MemoryConfig
from conftest import rewrite, unit_rows

CPU = dict(device="cpu")


@pytest.fixture(scope="module")
def saved():
    mem = HybridMemory(MemoryConfig(code_dim=1024, k=8, **CPU), encoder=HashingEncoder())
    mem.add(["the red key opens the shed", "lunch is at noon"], targets=["shed", "noon"],
            paraphrases=[["which key opens the shed"], []], importance=[3.0, 1.0])
    mem.add_vectors(unit_rows(12), targets=unit_rows(12, seed=1))
    mem.consolidate(epochs=1, replay_noise=0.1)
    return mem, mem.to_bytes()


def same_state(a: HybridMemory, b: HybridMemory) -> bool:
    ta, sa = a.store.state_dict()
    tb, sb = b.store.state_dict()
    return a.config == b.config and sa == sb and all(torch.equal(ta[n], tb[n]) for n in ta)


def test_huge_code_dim_in_header_is_refused_before_allocating(saved):
    _, data = saved
    for dim in (2**20, 2**22):
        bad = rewrite(data, state=lambda s, dim=dim: s["config"].update(code_dim=dim))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(ValueError, match=r"code_dim must be an int in \[2, 131072\]"):
            HybridMemory.from_bytes(bad)
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


@pytest.mark.parametrize("name, lie, message", [
    ("next_id 0", dict(state=lambda s: s.update(next_id=0)), "next_id 0 must be above"),
    ("ids reversed", dict(tensors=lambda t: t.update(ids=t["ids"].flip(0).contiguous())),
     "strictly increasing"),
    ("ids repeated", dict(tensors=lambda t: t["ids"].__setitem__(1, 0)), "strictly increasing"),
    ("texts [7]", dict(state=lambda s: s["texts"].__setitem__(0, 7)), "text record 0"),
    ("texts not a list", dict(state=lambda s: s.update(texts="abc")), "text records"),
    ("text field type", dict(state=lambda s: s["texts"][0].update(target=3)), "text record 0"),
    ("NaN embeddings", dict(tensors=lambda t: t["cue_emb"].__setitem__(0, float("nan"))),
     "finite unit rows"),
    ("negative importance", dict(tensors=lambda t: t["importance"].__setitem__(0, -1.0)),
     "importance must lie in"),
    ("huge importance", dict(tensors=lambda t: t["importance"].__setitem__(0, 1e30)),
     "importance must lie in"),
    ("row owner missing", dict(tensors=lambda t: t["row_mem"].__setitem__(0, 99)),
     "missing memories"),
    ("unsorted codes", dict(tensors=lambda t: t["row_codes"].__setitem__(0, t["row_codes"][0]
                                                                         .flip(0).clone())),
     "ascending"),
    ("W NaN", dict(tensors=lambda t: t["w_vals"].__setitem__(0, float("nan"))), "finite"),
    ("W negative", dict(tensors=lambda t: t["w_vals"].__setitem__(0, -2.0)), "> 0"),
    ("contribution of a stranger", dict(tensors=lambda t: t["c_keys"].__setitem__(
        -1, 10**6 * 1024)), "belong to stored"),
    ("days negative", dict(tensors=lambda t: t["days"].__setitem__(0, -3)), "days must lie"),
    ("next_id float", dict(state=lambda s: s.update(next_id=1e3)), "integers"),
    ("bool day", dict(state=lambda s: s.update(day=True)), "integers"),
    ("extra state key", dict(state=lambda s: s.update(evil=1)), "exactly"),
    ("unknown config", dict(state=lambda s: s["config"].update(evil=1)), "unknown MemoryConfig"),
    ("bad config type", dict(state=lambda s: s["config"].update(k="8")), "k must be an int"),
])
def test_header_lies_are_refused(saved, name, lie, message):
    _, data = saved
    with pytest.raises(ValueError, match="is not a valid NuoNuo memory file") as err:
        HybridMemory.from_bytes(rewrite(data, **lie))
    assert message in str(err.value), name


def test_checksum_refuses_every_byte_flip_in_tensor_data(saved):
    mem, data = saved
    start = 8 + struct.unpack("<Q", data[:8])[0]
    rng = np.random.default_rng(13)
    for off in rng.integers(start, len(data), 200):
        bad = bytearray(data)
        bad[off] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises(ValueError, match="checksum mismatch"):
            HybridMemory.from_bytes(bytes(bad))
    assert same_state(HybridMemory.from_bytes(data), mem)


def test_fuzzed_files_load_identically_or_raise_value_error(saved):
    """A few hundred seeded byte flips and header-field mutations: each load either rebuilds
    the identical state or raises ValueError; none hangs or grows memory much."""
    mem, data = saved
    rng = np.random.default_rng(2024)
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    junk = [-1, 0, 2**63, 10**30, 1.5, "x", None, [], {}, [2**40, 2**40], [0, 2**62], True]
    cases = []
    for _ in range(200):
        bad = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            bad[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        cases.append(bytes(bad))
    for _ in range(150):
        h = json.loads(json.dumps(header))
        name = [k for k in h if k != "__metadata__"][int(rng.integers(0, len(h) - 1))]
        field = ["dtype", "shape", "data_offsets"][int(rng.integers(0, 3))]
        h[name][field] = junk[int(rng.integers(0, len(junk)))]
        if rng.random() < 0.3:
            meta_key = ["format", "version", "state", "sha256"][int(rng.integers(0, 4))]
            h["__metadata__"][meta_key] = str(junk[int(rng.integers(0, len(junk)))])
        body = json.dumps(h).encode()
        cases.append(struct.pack("<Q", len(body)) + body + data[8 + n:])
    for length in (2**64 - 1, 2**40, len(data), 0):
        cases.append(struct.pack("<Q", length) + data[8:])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = {"identical": 0, "refused": 0}
    for blob in cases:
        t = time.perf_counter()
        try:
            back = HybridMemory.from_bytes(blob)
        except ValueError:
            outcomes["refused"] += 1
        else:
            assert same_state(back, mem)
            outcomes["identical"] += 1
        assert time.perf_counter() - t < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB
    assert outcomes["refused"] >= 300


def test_stale_temporary_files_are_cleaned_and_folder_fsynced(tmp_path, saved, monkeypatch):
    mem, _ = saved
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.nuonuo.{dead.pid}-0123456789abcdef.nuonuo-tmp"
    stale.write_bytes(b"x" * 1000)
    alive = tmp_path / f".m.nuonuo.{os.getppid()}-0123456789abcdef.nuonuo-tmp"
    alive.write_bytes(b"y")
    other = tmp_path / "notes.tmp"
    other.write_bytes(b"z")
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.path.isdir(
        f"/proc/self/fd/{fd}")) or real(fd))
    mem.save(tmp_path / "m.nuonuo")
    assert not stale.exists() and alive.exists() and other.exists()
    assert synced == [False, True]  # the file, then its folder
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, "m.nuonuo", "notes.tmp"])


def test_killed_save_leaves_nothing_after_the_next_save(tmp_path, saved):
    code = ("import sys, time; sys.path.insert(0, '.');"
            "from nuonuo_core import atomic; import os\n"
            "def slow(f):\n    f.write(b'x' * 10**6); f.flush(); print('writing', flush=True);"
            " time.sleep(60)\n"
            f"atomic.atomic_write({str(tmp_path / 'm.nuonuo')!r}, slow)")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    assert p.stdout.readline().strip() == b"writing"
    p.kill()
    p.wait()
    assert [q for q in tmp_path.iterdir() if q.name.endswith(".nuonuo-tmp")]
    saved[0].save(tmp_path / "m.nuonuo")
    assert [q.name for q in tmp_path.iterdir()] == ["m.nuonuo"]


def test_a_file_saved_on_cuda_opens_anywhere(saved):
    mem, data = saved
    on_gpu = rewrite(data, state=lambda s: s["config"].update(device="cuda"))
    back = HybridMemory.from_bytes(on_gpu)
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert back.device.type == want and len(back) == len(mem)
    q = unit_rows(4, seed=5)
    assert np.array_equal(back.recall_vectors(q, 2)[1], mem.recall_vectors(q, 2)[1])


def test_empty_and_emptied_memories_round_trip():
    mem = HybridMemory(MemoryConfig(code_dim=1024, k=8, **CPU))
    assert same_state(HybridMemory.from_bytes(mem.to_bytes()), mem)
    mem.remove(mem.add_vectors(unit_rows(3)))
    back = HybridMemory.from_bytes(mem.to_bytes())
    assert same_state(back, mem) and back.add_vectors(unit_rows(1)) == [3]
