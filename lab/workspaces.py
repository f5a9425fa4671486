"""Workspaces saved by name under one folder (``$NUONUO_WORKSPACES``, default ./workspaces).

Names are validated (letters, digits, space, ``_ . -``; no path separators, no '..'), files
are written atomically by ``HybridMemory.save``, and opening a corrupt file raises ValueError
without touching the caller's current workspace.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from nuonuo_core import HybridMemory

SUFFIX = ".nuonuo"
MAX_FILE_BYTES = 200 * 2**20
UPLOAD_LIMIT = 20 * 2**20    # matches server.maxUploadSize (MB) in .streamlit/config.toml
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def root(path: str | os.PathLike | None = None) -> Path:
    return Path(path if path is not None else os.environ.get("NUONUO_WORKSPACES", "workspaces"))


def check_name(name: str) -> str:
    if not isinstance(name, str):
        raise ValueError("workspace name must be text")
    name = name.strip()
    if not name:
        raise ValueError("workspace name is empty")
    if ".." in name or not _NAME.match(name):
        raise ValueError(f"workspace name {name!r} is not allowed: use 1-64 letters, digits, "
                         f"spaces, '_', '-' or '.', starting with a letter or digit")
    return name


def path_for(name: str, folder=None) -> Path:
    base = root(folder).resolve()
    path = (base / (check_name(name) + SUFFIX)).resolve()
    if path.parent != base:
        raise ValueError(f"workspace name {name!r} is not allowed")
    return path


def list_names(folder=None) -> list[str]:
    base = root(folder)
    if not base.is_dir():
        return []
    return sorted(p.name[:-len(SUFFIX)] for p in base.iterdir()
                  if p.is_file() and p.name.endswith(SUFFIX))


def save(mem: HybridMemory, name: str, folder=None) -> Path:
    return mem.save(path_for(name, folder))


def open_named(name: str, encoder, folder=None) -> HybridMemory:
    path = path_for(name, folder)
    if not path.is_file():
        raise ValueError(f"there is no saved workspace named {name!r}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"workspace file {path.name} is larger than "
                         f"{MAX_FILE_BYTES // 2**20} MB")
    return from_bytes(path.read_bytes(), encoder, source=f"workspace {name!r}")


def from_bytes(data: bytes, encoder, source: str = "the uploaded file",
               limit: int = MAX_FILE_BYTES) -> HybridMemory:
    if len(data) > limit:
        raise ValueError(f"{source} is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{limit // 2**20} MB")
    return HybridMemory.from_bytes(data, encoder=encoder, source=source)
