"""Probes 1-2 of issue 20: what refusing a small hostile workspace file costs.

    python scripts/probe_hostile.py            # every probe, one child process each

Each probe builds its file in this process, then opens it through the lab's upload path
(``lab.workspaces.from_bytes``) in a fresh child process that reports the refusal, the time
it took and the growth of its peak resident memory (VmHWM, reset before the call) during the call.
"""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import re, sys, time
sys.path.insert(0, sys.argv[2])
import torch, numpy, safetensors.torch  # warm the imports before measuring
from lab.workspace import files as workspaces, memory_rows as io
data = open(sys.argv[1], 'rb').read()
mode = sys.argv[3]
def status(key):
    return int(re.search(key + r':\s+(\d+)', open('/proc/self/status').read()).group(1))
open('/proc/self/clear_refs', 'w').write('5')  # reset the peak (VmHWM) to the current RSS
before = status('VmRSS')
t = time.perf_counter()
try:
    if mode == 'import':
        io.parse(data, 'json')
    else:
        workspaces.from_bytes(data, None, limit=workspaces.UPLOAD_LIMIT)
    outcome = 'ACCEPTED'
except Exception as exc:
    outcome = f'{type(exc).__name__}: {str(exc)[:150]}'
dt = time.perf_counter() - t
peak = status('VmHWM')
print(f'{dt:.3f}\t{(peak - before) / 1024:.0f}\t{outcome}')
"""


def empty_tensors(k: int, d: int) -> dict:
    import torch
    z = torch.zeros
    return {"ids": z(0, dtype=torch.int64), "target_codes": z(0, k, dtype=torch.int32),
            "importance": z(0), "days": z(0, dtype=torch.int64),
            "in_replay": z(0, dtype=torch.bool), "row_mem": z(0, dtype=torch.int64),
            "row_codes": z(0, k, dtype=torch.int32), "cue_emb": z(0, d, dtype=torch.float16),
            "w_keys": z(0, dtype=torch.int64), "w_vals": z(0),
            "c_keys": z(0, dtype=torch.int64), "c_vals": z(0)}


def big_config() -> dict:
    from nuonuo_core import MemoryConfig
    return MemoryConfig(w_format="dense", code_dim=16384, embed_dim=4096,
                        target_projection="separate", top_k=10_000, max_steps=1000,
                        device="cpu").to_dict()


def probe1(right_fingerprint: bool) -> bytes:
    """An empty, correctly signed workspace whose config costs gigabytes to build."""
    from nuonuo_core import persistence
    from nuonuo_core.separation import PatternSeparator
    cfg = big_config()
    fp = PatternSeparator(4096, 16384, 20, 0).fingerprint() if right_fingerprint else 1.0
    return persistence.dump(cfg, empty_tensors(20, 4096),
                            {"texts": [], "next_id": 0, "day": 0, "w_form": "cells"}, fp)


def resign_raw(header: dict, body: bytes) -> bytes:
    from nuonuo_core import persistence
    table = {k: v for k, v in header.items() if k != "__metadata__"}
    raw = json.dumps(header).encode()
    n, start = len(raw), 0
    del start
    meta = header["__metadata__"]
    meta["sha256"] = persistence.checksum(table, meta["state"], body)
    raw = json.dumps(header).encode()
    del n
    return struct.pack("<Q", len(raw)) + raw + body


def probe2(where: str, mb: int = 19) -> bytes:
    """A file whose state JSON (or header) is ``[[],[],…]`` (``mb`` megabytes of it)."""
    from nuonuo_core import MemoryConfig, persistence
    from nuonuo_core.separation import PatternSeparator
    cfg = MemoryConfig(device="cpu").to_dict()
    good = persistence.dump(cfg, empty_tensors(20, 384),
                            {"texts": [], "next_id": 0, "day": 0, "w_form": "cells"},
                            PatternSeparator(384, 16384, 20, 0).fingerprint())
    (n,) = struct.unpack("<Q", good[:8])
    header, body = json.loads(good[8:8 + n]), good[8 + n:]
    bomb = "[" + "[]," * (mb * 2**20 // 3) + "[]]"
    if where == "state":
        header["__metadata__"]["state"] = bomb
    else:
        header["junk"] = json.loads("[]")  # placeholder replaced below (keeps key order)
        raw = json.dumps(header).replace('"junk": []', '"junk": ' + bomb).encode()
        return struct.pack("<Q", len(raw)) + raw + body
    return resign_raw(header, body)


PROBES = {
    "1: dense D=16384, d=4096, separate, right fingerprint": lambda: probe1(True),
    "1: same, wrong projection fingerprint": lambda: probe1(False),
    "2: 19 MB state JSON [[],[],...]": lambda: probe2("state"),
    "2: 19 MB safetensors header [[],[],...]": lambda: probe2("header"),
    "2: 5 MB memory import (JSON) [{},{},...]":
        lambda: b"[" + b"{}," * (5 * 2**20 // 3 - 1) + b"{}]",
}


def run(name: str, data: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".nuonuo", delete=False) as f:
        f.write(data)
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, f.name, str(ROOT),
                              "import" if "import" in name else "workspace"],
                             capture_output=True, text=True, timeout=600)
    finally:
        Path(f.name).unlink()
    return (out.stdout.strip() or out.stderr.strip()[-300:])


def main() -> None:
    print("probe\tfile bytes\tseconds\tpeak +MB\toutcome")
    for name, make in PROBES.items():
        data = make()
        print(f"{name}\t{len(data):,}\t{run(name, data)}", flush=True)


if __name__ == "__main__":
    main()
