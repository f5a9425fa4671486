"""Saving and loading a memory: one safetensors file (tensors) with a JSON header (the rest).

Never pickle. Writes are atomic (temporary file in the same folder, fsync, rename). A file
that is missing, truncated, corrupt, of another format version or inconsistent gives a
ValueError (or FileNotFoundError) naming the problem; nothing half-loaded is returned.
"""
from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path

import torch

FORMAT = "nuonuo-memory"
FORMAT_VERSION = 1
MAX_HEADER = 200 * 2**20

_TENSORS = ("_ids", "_target_codes", "_importance", "_day", "_in_replay", "_row_mem",
            "_row_codes", "_row_strength")


def _read_header(data: bytes) -> dict:
    if len(data) < 8:
        raise ValueError(f"file is too short to be a memory file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        raise ValueError("file is truncated or its header is corrupt")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"header is not valid JSON: {exc}") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("not a NuoNuo memory file (no 'nuonuo-memory' header)")
    return meta


class PersistenceMixin:
    """Adds ``to_bytes``/``from_bytes`` and ``save``/``load`` to HybridMemory."""

    def to_bytes(self) -> bytes:
        from safetensors.torch import save

        tensors = {name[1:]: getattr(self, name).contiguous().cpu() for name in _TENSORS}
        tensors["cue_emb"] = self._index.emb.contiguous().cpu()
        tensors.update(self._w.state_dict())
        meta = {"format": FORMAT, "version": str(FORMAT_VERSION),
                "state": json.dumps({"config": self.config.to_dict(), "texts": self._texts,
                                     "next_id": self._next_id, "day": self.day,
                                     "projection_fingerprint": self._sep.fingerprint()})}
        return save(tensors, metadata=meta)

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically to ``path`` (a '.nuonuo' file); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.to_bytes()
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, encoder=None, device: str | None = None):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no memory file at {str(path)!r}")
        return cls.from_bytes(path.read_bytes(), encoder=encoder, device=device,
                              source=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, encoder=None, device: str | None = None,
                   source: str = "data"):
        """Rebuild a memory from :meth:`to_bytes` output; ``device`` overrides the saved one."""
        from safetensors import SafetensorError
        from safetensors.torch import load

        from .config import MemoryConfig

        try:
            meta = _read_header(data)
            if meta.get("version") != str(FORMAT_VERSION):
                raise ValueError(f"format version {meta.get('version')!r} is not supported "
                                 f"(this build reads version {FORMAT_VERSION})")
            state = json.loads(meta["state"])
            tensors = load(data)
            cfg = state["config"]
            if device is not None:
                cfg = {**cfg, "device": device}
            mem = cls(MemoryConfig.from_dict(cfg), encoder=encoder)
            if abs(mem._sep.fingerprint() - state["projection_fingerprint"]) > 1e-6 * max(
                    1.0, abs(state["projection_fingerprint"])):
                raise ValueError("the random projection rebuilt from the seed differs from "
                                 "the saved one (different torch build?)")
            mem._load_state(tensors, state)
            return mem
        except (KeyError, TypeError, RuntimeError, struct.error, json.JSONDecodeError,
                ValueError, SafetensorError) as exc:
            raise ValueError(f"{source} is not a valid NuoNuo memory file: {exc}") from None

    def _load_state(self, tensors: dict, state: dict) -> None:
        n, rows, k = tensors["ids"].shape[0], tensors["row_mem"].shape[0], self.config.k
        shapes = {"target_codes": (n, k), "importance": (n,), "day": (n,), "in_replay": (n,),
                  "row_codes": (rows, k), "row_strength": (rows,),
                  "cue_emb": (rows, self.config.embed_dim)}
        for name, shape in shapes.items():
            if tuple(tensors[name].shape) != shape:
                raise ValueError(f"tensor {name!r} has shape {tuple(tensors[name].shape)}, "
                                 f"expected {shape}")
        if len(state["texts"]) != n:
            raise ValueError(f"{len(state['texts'])} text records for {n} memories")
        codes = torch.cat([tensors["target_codes"].reshape(-1), tensors["row_codes"].reshape(-1)])
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.config.code_dim):
            raise ValueError("codes index units outside code_dim")
        if rows and (int(tensors["row_mem"].min()) < 0 or int(tensors["row_mem"].max()) >= n):
            raise ValueError("cue rows point to missing memories")
        self._w.load_state(tensors)
        dev = {"_target_codes", "_row_mem", "_row_codes"}
        for name in _TENSORS:
            t = tensors[name[1:]]
            setattr(self, name, t.to(self.device) if name in dev else t)
        self._index.add(tensors["cue_emb"].to(self.device))
        self._texts = state["texts"]
        self._next_id, self.day = int(state["next_id"]), int(state["day"])
