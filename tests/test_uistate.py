"""The saved page settings (lab/workspace/uistate.py): bounded, validated, owner-private,
atomic; hostile files refused or reset with the names of what was reset."""
from __future__ import annotations

import json
import os
import threading

import pytest

from lab import limits
from lab.nights import player
from lab.patterns import completion as lp
from lab.workspace import files, uistate

OWNER = "uistate_owner_00000001"
OTHER = "uistate_owner_00000002"


def worst_case() -> dict:
    """Every setting at its largest: 12 drawings, the canvas, the longest query of escaped
    characters, the most runs of nights."""
    drawings = [[f"d{i:02d}" + "_" * 9, "f" * 256] for i in range(limits.OWN_PATTERNS)]
    assert all(len(label) == 12 for label, _ in drawings)
    seg = [uistate.MAX_NIGHTS // uistate.MAX_SEGMENTS, 10, 0.05, 0.123457, 0.2, 0.333333]
    return {"mode": "Type a query", "query": "\x01" * limits.UI_QUERY_CHARS, "pick": 2**46 - 1,
            "noise": 0.245, "sweep_max": 0.45, "sweep_seeds": 10, "chain_start": 2**46 - 1,
            "hops": 10, "beta": 0.25, "beta_noise": 0.195, "beta_query": 2**46 - 1,
            "raster_ids": [2**46 - 1] * 16, "night_source": "my workspace", "per_day": 50,
            "epochs": 10, "homeostasis": 0.05, "prune": 0.99, "replay_noise": 0.2,
            "keep": 0.95, "metric": "code_cos",
            "night_plan": {"source": "my workspace", "per_day": 50,
                           "workspace": [10**6, 2**61], "nights": [seg] * uistate.MAX_SEGMENTS},
            "pc_set": "random", "pc_n_glyphs": 36, "pc_n_random": 300, "pc_n_own": 36,
            "pc_flip": 0.49, "pc_occlude": True, "pc_beta": 1024, "pc_update": "sync",
            "pc_seed": 1_000_000, "pc_t_glyphs": "Z", "pc_t_random": "299",
            "pc_t_own": "d11_________", "pc_own": drawings, "pc_canvas": "a" * 256}


def test_every_setting_at_its_largest_fits_the_budget(tmp_path):
    values = worst_case()
    assert set(values) == set(uistate.SCHEMA)          # the case covers every key
    data = uistate.dumps(values)
    assert len(data) <= limits.UI_STATE_BYTES == 8192
    uistate.write(OWNER, values, base=tmp_path)
    back, reset = uistate.read(OWNER, base=tmp_path)
    assert reset == [] and back == values


def test_round_trip_unknown_keys_ignored_bad_values_named(tmp_path):
    good = {"noise": 0.1, "mode": "Pick a stored memory", "pc_beta": 64, "beta": 0.5}
    uistate.write(OWNER, good, base=tmp_path)
    assert uistate.read(OWNER, base=tmp_path) == (good, [])
    raw = {"version": 1, "settings": {**good, "unknown": [1, 2], "noise": 0.3,  # > 0.25
                                      "pc_beta": 64.0, "hops": True, "pick": -1,
                                      "query": "x" * (limits.UI_QUERY_CHARS + 1),
                                      "pc_own": [["A", "0" * 256], ["A", "0" * 256]],
                                      "pc_canvas": "0" * 255, "pc_occlude": "yes"}}
    uistate.path(OWNER, tmp_path).write_text(json.dumps(raw))
    back, reset = uistate.read(OWNER, base=tmp_path)
    assert back == {"mode": "Pick a stored memory", "beta": 0.5}
    assert sorted(reset) == sorted(["noise", "pc_beta", "hops", "pick", "query", "pc_own",
                                    "pc_canvas", "pc_occlude"])


@pytest.mark.parametrize("data, says", [
    (b"x" * (limits.UI_STATE_BYTES + 1), "at most 8,192 are read"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[" * 5000, "malformed JSON|nested"),
    (b'{"version": 2, "settings": {}}', "not a version-1 settings object"),
    (b'{"version": 1, "settings": []}', "not a version-1 settings object"),
    (b"[]", "not a version-1 settings object"),
    (b'{"version": 1, "settings": {"noise": NaN}}', "malformed JSON|NaN|not valid"),
    (b'{"version": 1, "settings": {"a": [[[[[[[[1]]]]]]]]}}', "deep|nest|depth"),
])
def test_hostile_files_are_refused_whole(tmp_path, data, says):
    p = uistate.path(OWNER, tmp_path)
    p.parent.mkdir(parents=True)
    p.write_bytes(data)
    try:
        back, reset = uistate.read(OWNER, base=tmp_path)
    except ValueError as exc:
        import re
        assert re.search(says, str(exc)), str(exc)
    else:             # NaN may parse; it never becomes a setting
        assert back == {} and reset == ["noise"], (back, reset)


def test_a_huge_file_is_not_read_into_memory(tmp_path, monkeypatch):
    p = uistate.path(OWNER, tmp_path)
    p.parent.mkdir(parents=True)
    with open(p, "wb") as f:
        f.truncate(10**9)                 # a sparse 1 GB file
    monkeypatch.setattr(type(p), "read_bytes", lambda self: pytest.fail("read a huge file"))
    with pytest.raises(ValueError, match="1,000,000,000 bytes"):
        uistate.read(OWNER, base=tmp_path)


def test_writes_are_owner_private_atomic_and_bounded(tmp_path):
    uistate.write(OWNER, {"noise": 0.1}, base=tmp_path)
    assert uistate.read(OTHER, base=tmp_path) == ({}, [])      # another owner sees nothing
    assert uistate.path(OWNER, tmp_path).parent == files.folder(OWNER, tmp_path)
    with pytest.raises(ValueError, match="owner key"):
        uistate.path("../" + OWNER, tmp_path)
    with pytest.raises(ValueError, match="not valid: noise"):
        uistate.write(OWNER, {"noise": 5.0}, base=tmp_path)
    assert uistate.read(OWNER, base=tmp_path)[0] == {"noise": 0.1}   # the old file stays
    # two tabs writing at once: every read sees a whole file, the last write wins
    errors: list[Exception] = []

    def tab(i: int) -> None:
        try:
            for j in range(40):
                uistate.write(OWNER, {"hops": 1 + (i + j) % 10, "query": str(i)}, base=tmp_path)
                uistate.read(OWNER, base=tmp_path)
        except Exception as exc:          # noqa: BLE001 - any error fails the test
            errors.append(exc)
    threads = [threading.Thread(target=tab, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    back, reset = uistate.read(OWNER, base=tmp_path)
    assert reset == [] and back["query"] in {"0", "1", "2"}
    left = [n for n in os.listdir(files.folder(OWNER, tmp_path)) if "tmp" in n]
    assert left == []                       # no temporary file left behind


def test_the_schema_agrees_with_the_pages():
    assert uistate._NIGHT_KEYS == player.PLAN_FIELDS
    assert uistate.MAX_OWN == lp.MAX_OWN
    assert uistate.HEX_BITS.pattern == rf"^[0-9a-f]{{{lp.HEX_DIGITS}}}$"
    assert uistate.PC_MAX == lp.MAX_STORED
    for key in ("noise", "sweep_max", "sweep_seeds", "hops", "per_day", "beta_noise"):
        assert uistate.SCHEMA[key].check(limits.PAGE[key].hi) == limits.PAGE[key].hi
        with pytest.raises(ValueError):
            uistate.SCHEMA[key].check(limits.PAGE[key].hi * 2 + 1)


def test_jsonable():
    import numpy as np
    assert uistate.jsonable(np.int64(3)) == 3 and type(uistate.jsonable(np.float32(0.5))) is float
    assert uistate.jsonable((1, 2)) == [1, 2] and uistate.jsonable(float("nan")) is None
    assert uistate.jsonable(object()) is None and uistate.jsonable([1, object()]) is None
