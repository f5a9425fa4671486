"""Memory files: one safetensors file (tensors) whose metadata holds the JSON state and a
sha256 checksum. Never pickle.

Reading trusts nothing, and refusing costs little. In order, before any tensor, projection or
W is allocated: the header length against the file size; the header JSON (its values counted
and bounded while it is read, :mod:`nuonuo_core.safejson`); every tensor entry (known name,
dtype, shape, offsets that tile the data region exactly, so shapes are bounded by the file
size); the checksum over the tensor table, the state and the tensor bytes; the state JSON
(bounded by the memories and cue rows the table declares); the config's ranges and, for a
caller such as the lab, its own narrower ranges; the tensor shapes against the config. Only
then is the projection rebuilt (its fingerprint checked), the tensors read (at most the
file's size) and the store rebuilt and validated (:meth:`MemoryStore.validate`). So opening
costs the config's fixed part (projection, a dense W: bounded by the limits table) plus a
small multiple of the file's size. Any failure is a ValueError naming the problem; nothing
half-loaded is returned. Writes are atomic (:mod:`nuonuo_core.atomic`).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, NoReturn

import torch

from . import safejson

if TYPE_CHECKING:
    from .config import MemoryConfig

FORMAT = "nuonuo-memory"
FORMAT_VERSION = 3
#: older memory formats this build still reads (converted on load, see ``parse``)
READS_ALSO = (2,)
MAX_HEADER = 64 * 2**20
_DTYPES = {"F32": (torch.float32, 4), "I64": (torch.int64, 8), "I32": (torch.int32, 4),
           "BOOL": (torch.bool, 1), "F16": (torch.float16, 2)}
_TENSORS = {"ids": "I64", "target_codes": "I32", "importance": "F32", "days": "I64",
            "in_replay": "BOOL", "row_mem": "I64", "row_codes": "I32",
            "cue_emb": ("F16", "F32"), "w_keys": "I64", "w_vals": "F32", "c_keys": "I64",
            "c_vals": "F32"}
#: cue rows are float16 from format 3 on (float32 in format 2)
_EMB_DTYPE = {3: "F16", 2: "F32"}
# format 3 adds "w_form": "factored" (W is the contributions' sum, no cells saved) or "cells"
_STATE_KEYS = {"config", "texts", "next_id", "day", "projection_fingerprint", "w_form"}
_STATE_KEYS_V2 = _STATE_KEYS - {"w_form"}
# JSON bounds: the header is 12 tensor entries and the metadata (~120 values, 3 levels); the
# state is a few keys, the config and one text record per memory (a dict of 3 texts and a
# list of its paraphrases: 4 levels, at most ~6 values each, plus one value per extra row)
HEADER_ITEMS, HEADER_DEPTH = 512, 3
STATE_ITEMS, STATE_DEPTH = 256, 4


def _fail(message: str) -> NoReturn:
    raise ValueError(message)


def checksum(table: dict, state: str, data: bytes | memoryview) -> str:
    """sha256 over the tensor table (names, dtypes, shapes, offsets), the state and the bytes."""
    h = hashlib.sha256()
    h.update(json.dumps(table, sort_keys=True, separators=(",", ":")).encode())
    h.update(b"\0" + state.encode() + b"\0")
    h.update(data)
    return h.hexdigest()


def read_header(data: bytes, fmt: str = FORMAT, version: int = FORMAT_VERSION,
                tensors: dict | None = None,
                required: Iterable[str] | None = None,
                also: tuple[int, ...] = ()) -> tuple[dict, dict, int]:
    """Validate the header -> (metadata, tensor table, start of the data region).

    ``fmt``, ``version`` and ``tensors`` (name -> dtype, or a tuple of allowed dtypes) describe
    the file kind (default: a memory file); ``also``: older versions still read; ``required``
    names the tensors that must be present (default: all of ``tensors``)."""
    spec = _TENSORS if tensors is None else tensors
    need = set(spec) if required is None else set(required)
    if len(data) < 8:
        _fail(f"file is too short to be a memory file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        _fail(f"header length {n} does not fit the file ({len(data)} bytes, "
              f"header at most {MAX_HEADER})")
    header = safejson.loads(bytes(memoryview(data)[8:8 + n]), HEADER_ITEMS, HEADER_DEPTH,
                            what="the header")
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        _fail(f"not a NuoNuo {fmt.split('-')[-1]} file (no {fmt!r} header)")
    if meta.get("version") not in [str(v) for v in (version, *also)]:
        reads = " and ".join(str(v) for v in sorted((version, *also)))
        _fail(f"format version {str(meta.get('version'))[:20]!r} is not supported "
              f"(this build reads version{'s' if also else ''} {reads})")
    if set(meta) != {"format", "version", "state", "sha256"} or not all(
            isinstance(v, str) for v in meta.values()):
        _fail("header metadata must be the strings format, version, state and sha256")
    table = {k: v for k, v in header.items() if k != "__metadata__"}
    if not need <= set(table) <= set(spec):
        _fail(f"tensors must be {sorted(need)} (and optionally {sorted(set(spec) - need)}), "
              f"got {sorted(table)[:20]}")
    start, size = 8 + n, len(data) - 8 - n
    spans = []
    for name, entry in table.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            _fail(f"tensor {name!r} entry is malformed")
        dtype, shape, offs = entry["dtype"], entry["shape"], entry["data_offsets"]
        want = spec[name]
        allowed: tuple[str, ...] = tuple(want) if isinstance(want, tuple) else (str(want),)
        if dtype not in allowed:
            _fail(f"tensor {name!r} has dtype {str(dtype)[:10]!r}, expected "
                  f"{' or '.join(allowed)}")
        if not (isinstance(shape, list) and len(shape) <= 2 and all(
                type(d) is int and 0 <= d <= 2**31 for d in shape)):
            _fail(f"tensor {name!r} has a bad shape {str(shape)[:60]}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(
                type(o) is int and 0 <= o <= size for o in offs) and offs[0] <= offs[1]):
            _fail(f"tensor {name!r} has bad data offsets {str(offs)[:60]}")
        if math.prod(shape) * _DTYPES[dtype][1] != offs[1] - offs[0]:
            _fail(f"tensor {name!r}: shape {shape} does not match its {offs[1] - offs[0]} bytes")
        spans.append(tuple(offs))
    spans.sort()
    end = 0
    for a, b in spans:
        if a != end:
            _fail("tensor data regions overlap or leave gaps")
        end = b
    if end != size:
        _fail(f"tensor data ends at byte {end} of a {size}-byte data region")
    return meta, table, start


def counts(table: dict) -> tuple[int, int]:
    """(memories n, cue rows R) as the tensor table declares them."""
    return table["ids"]["shape"][0], table["row_mem"]["shape"][0]


def check_shapes(table: dict, config: "MemoryConfig") -> None:
    """Every tensor's shape as ``config`` (a MemoryConfig) and the declared n, R require,
    checked on the table alone (nothing is read or allocated)."""
    n, R = counts(table)
    k, d = config.k, config.embed_dim
    want = {"ids": [n], "target_codes": [n, k], "importance": [n], "days": [n],
            "in_replay": [n], "row_mem": [R], "row_codes": [R, k], "cue_emb": [R, d]}
    for name, shape in want.items():
        if table[name]["shape"] != shape:
            _fail(f"{name} must have shape {tuple(shape)} for {n} memories, {R} cue rows and "
                  f"this config, got {tuple(table[name]['shape'])}")
    for name in ("w_keys", "w_vals", "c_keys", "c_vals"):
        if len(table[name]["shape"]) != 1:
            _fail(f"{name} must be 1-d, got shape {tuple(table[name]['shape'])}")
    if table["w_keys"]["shape"] != table["w_vals"]["shape"] or \
            table["c_keys"]["shape"] != table["c_vals"]["shape"]:
        _fail("W and contribution keys and values must have equal lengths")
    if table["w_keys"]["shape"][0] > config.code_dim ** 2:
        _fail(f"W has {table['w_keys']['shape'][0]} cells, more than code_dim² allows")


def parse(data: bytes) -> tuple[dict, dict]:
    """Checked bytes -> (state dict with a ``config`` dict, the tensor table). Reads the
    header, the checksum and the state; allocates nothing beyond the state's JSON, whose
    values are bounded by the memories and cue rows the table declares. The tensors are read
    later by :func:`tensors` once the config has been checked. A format-2 file's state has no
    ``w_form`` (its W is always cells) and float32 rows; the store converts both."""
    meta, table, start = read_header(data, also=READS_ALSO)
    if checksum(table, meta["state"], memoryview(data)[start:]) != meta["sha256"]:
        _fail("checksum mismatch: the file is corrupt or was changed after saving")
    version = int(meta["version"])
    if table["cue_emb"]["dtype"] != _EMB_DTYPE[version]:
        _fail(f"tensor 'cue_emb' has dtype {table['cue_emb']['dtype']!r}, expected "
              f"{_EMB_DTYPE[version]} in format {version}")
    if len(table["ids"]["shape"]) != 1 or len(table["row_mem"]["shape"]) != 1:
        _fail("ids and row_mem must be 1-d")
    n, R = counts(table)
    state = safejson.loads(meta["state"], STATE_ITEMS + 6 * n + R, STATE_DEPTH,
                           what="the state")
    keys = _STATE_KEYS if version == FORMAT_VERSION else _STATE_KEYS_V2
    if not isinstance(state, dict) or set(state) != keys:
        _fail(f"state must hold exactly {sorted(keys)}")
    if version == FORMAT_VERSION and state["w_form"] not in ("factored", "cells"):
        _fail("w_form must be 'factored' or 'cells'")
    if not isinstance(state["config"], dict):
        _fail("state config must be an object")
    if type(state["next_id"]) is not int or type(state["day"]) is not int:
        _fail("next_id and day must be integers")
    if not isinstance(state["projection_fingerprint"], float):
        _fail("projection_fingerprint must be a number")
    if not isinstance(state["texts"], list) or len(state["texts"]) != n:
        _fail(f"the state must hold {n} text records, one per memory")
    return state, table


def tensors(data: bytes) -> dict[str, torch.Tensor]:
    """The file's tensors (CPU), after :func:`parse` accepted it (at most the file's size)."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        return load(bytes(data))
    except SafetensorError as exc:
        _fail(f"tensors cannot be read: {exc}")


def dump(config_dict: dict, tensors: dict[str, torch.Tensor], state: dict,
         fingerprint: float) -> bytes:
    """(config, store tensors and state, projection fingerprint) -> file bytes, checksummed."""
    from safetensors.torch import save

    body = json.dumps({**state, "config": config_dict, "projection_fingerprint": fingerprint},
                      allow_nan=False)
    meta = {"format": FORMAT, "version": str(FORMAT_VERSION), "state": body, "sha256": ""}
    blob = save(tensors, metadata=meta)  # the table is fixed by the tensors: sign it after
    meta_, table, start = _table_of(blob)
    meta["sha256"] = checksum(table, body, memoryview(blob)[start:])
    return save(tensors, metadata=meta)


def pack(tensors: dict[str, torch.Tensor], state: str, fmt: str, version: int) -> bytes:
    """Any file kind: tensors + a JSON ``state`` string -> checksummed safetensors bytes."""
    from safetensors.torch import save

    meta = {"format": fmt, "version": str(version), "state": state, "sha256": ""}
    blob = save(tensors, metadata=meta)
    _, table, start = _table_of(blob)
    meta["sha256"] = checksum(table, state, memoryview(blob)[start:])
    return save(tensors, metadata=meta)


def unpack(data: bytes, fmt: str, version: int, tensors: dict,
           state_bounds: Callable[[dict], tuple[int, int]],
           required: Iterable[str] = ()) -> tuple[Any, dict[str, torch.Tensor]]:
    """Checked bytes of a :func:`pack` file -> (state, parsed from its JSON; CPU tensors). The
    header, the tensor table (names, dtypes, shapes against the file size) and the checksum
    are verified, then the state JSON is parsed with the bounds ``state_bounds(table)`` gives
    (values, nesting: from the sizes the file itself declares), counted while it is read
    (:mod:`nuonuo_core.safejson`), all before any tensor is allocated; the caller validates
    the state."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    meta, table, start = read_header(data, fmt, version, tensors, required)
    if checksum(table, meta["state"], memoryview(data)[start:]) != meta["sha256"]:
        _fail("checksum mismatch: the file is corrupt or was changed after saving")
    items, depth = state_bounds(table)
    state = safejson.loads(meta["state"], items, depth, what="the state")
    try:
        return state, load(bytes(data))
    except SafetensorError as exc:
        _fail(f"tensors cannot be read: {exc}")


def _table_of(blob: bytes) -> tuple[dict, dict, int]:
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    return header.pop("__metadata__"), header, 8 + n


def resign(data: bytes) -> bytes:
    """Recompute the checksum of ``data`` (tests build deliberately inconsistent files)."""
    from safetensors.torch import load, save

    meta, table, start = _table_of(data)
    meta["sha256"] = checksum(table, meta["state"], memoryview(data)[start:])
    return save(load(data), metadata=meta)


def write_file(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> Path:
    from .atomic import atomic_write

    return atomic_write(path, data, overwrite=overwrite)


def read_file(path: str | os.PathLike) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no memory file at {str(path)!r}")
    return path.read_bytes()
