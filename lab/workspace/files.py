"""Workspaces saved by name, private to an owner: ``$NUONUO_WORKSPACES/<owner>/<name>.nuonuo``.

An owner is a random key (:func:`new_owner`, kept in the browser's URL); one owner never lists,
opens or overwrites another's workspaces. Owner keys and names are validated (strict charset
and length, no path separators, no '..'); files are written atomically by
``HybridMemory.save``; opening a corrupt file raises ValueError without touching the caller's
current workspace. Each owner also has one autosave slot (:func:`autosave` /
:func:`restore`) that is not a named workspace. Pure: no Streamlit.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

from nuonuo_core import HybridMemory

SUFFIX = ".nuonuo"
MAX_FILE_BYTES = 200 * 2**20
UPLOAD_LIMIT = 20 * 2**20    # matches server.maxUploadSize (MB) in .streamlit/config.toml
MAX_SAVED = 50               # named workspaces per owner
AUTOSAVE = "_autosave"       # a name check_name refuses, so no user name can collide
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
_OWNER = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class NameTaken(ValueError):
    """Saving would overwrite an existing workspace and ``overwrite`` was not given."""


def root(path: str | os.PathLike | None = None) -> Path:
    return Path(path if path is not None else os.environ.get("NUONUO_WORKSPACES", "workspaces"))


def new_owner() -> str:
    """A fresh random owner key (24 URL-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)


def check_owner(owner) -> str:
    if not isinstance(owner, str) or not _OWNER.fullmatch(owner):
        shown = repr(owner) if not isinstance(owner, str) or len(owner) <= 70 else \
            repr(owner[:67] + "…")
        raise ValueError(f"owner key {shown} is not valid: it must be 16-64 letters, digits, "
                         f"'_' or '-'")
    return owner


def check_name(name: str) -> str:
    if not isinstance(name, str):
        raise ValueError("workspace name must be text")
    name = name.strip()
    if not name:
        raise ValueError("workspace name is empty")
    if ".." in name or not _NAME.fullmatch(name):
        shown = name if len(name) <= 70 else name[:67] + "…"
        raise ValueError(f"workspace name {shown!r} is not allowed: use 1-64 letters, digits, "
                         f"spaces, '_', '-' or '.', starting with a letter or digit")
    return name


def folder(owner: str, base=None) -> Path:
    """The owner's own folder (not created here)."""
    top = root(base).resolve()
    path = (top / check_owner(owner)).resolve()
    if path.parent != top:
        raise ValueError("owner key is not valid")
    return path


def _file(stem: str, owner: str, base=None) -> Path:
    home = folder(owner, base)
    path = (home / (stem + SUFFIX)).resolve()
    if path.parent != home:
        raise ValueError(f"workspace name {stem!r} is not allowed")
    return path


def path_for(name: str, owner: str, base=None) -> Path:
    return _file(check_name(name), owner, base)


def list_names(owner: str, base=None) -> list[str]:
    """The owner's saved workspaces (never the autosave slot, never another owner's)."""
    home = folder(owner, base)
    if not home.is_dir():
        return []
    out = []
    for p in home.iterdir():
        if p.is_file() and p.name.endswith(SUFFIX):
            try:
                out.append(check_name(p.name[:-len(SUFFIX)]))
            except ValueError:
                continue
    return sorted(out)


def exists(name: str, owner: str, base=None) -> bool:
    return path_for(name, owner, base).is_file()


def save(mem: HybridMemory, name: str, owner: str, overwrite: bool = False,
         base=None) -> Path:
    """Save ``mem`` as the owner's workspace ``name``; an existing one is replaced only with
    ``overwrite=True`` (else :class:`NameTaken`)."""
    path = path_for(name, owner, base)
    if path.exists() and not overwrite:
        raise NameTaken(f"a workspace named {check_name(name)!r} already exists; confirm to "
                        f"overwrite it")
    if not path.exists() and len(list_names(owner, base)) >= MAX_SAVED:
        raise ValueError(f"you have {MAX_SAVED} saved workspaces, the most allowed; "
                         f"overwrite one of them instead")
    path.parent.mkdir(parents=True, exist_ok=True)
    return mem.save(path)


def open_named(name: str, encoder, owner: str, base=None) -> HybridMemory:
    path = path_for(name, owner, base)
    if not path.is_file():
        raise ValueError(f"there is no saved workspace named {check_name(name)!r}")
    return _read(path, encoder, f"workspace {check_name(name)!r}")


def _read(path: Path, encoder, source: str) -> HybridMemory:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{source} is larger than {MAX_FILE_BYTES // 2**20} MB")
    return from_bytes(path.read_bytes(), encoder, source=source)


def from_bytes(data: bytes, encoder, source: str = "the uploaded file",
               limit: int = MAX_FILE_BYTES) -> HybridMemory:
    if len(data) > limit:
        raise ValueError(f"{source} is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{limit // 2**20} MB")
    return HybridMemory.from_bytes(data, encoder=encoder, source=source)


# --- autosave slot ------------------------------------------------------------------------------
def autosave(mem: HybridMemory, name: str, owner: str, base=None) -> Path:
    """Write the session's workspace (and its display name) to the owner's autosave slot."""
    path = _file(AUTOSAVE, owner, base)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = path.with_suffix(".json")
    tmp = meta.with_name(meta.name + ".tmp")
    tmp.write_text(json.dumps({"name": check_name(name)}), encoding="utf-8")
    mem.save(path)
    os.replace(tmp, meta)
    return path


def restore(encoder, owner: str, base=None) -> tuple[HybridMemory, str] | None:
    """The owner's autosaved workspace and its name, or None if there is none.
    A damaged slot raises ValueError (the caller starts empty and says so)."""
    path = _file(AUTOSAVE, owner, base)
    if not path.is_file():
        return None
    mem = _read(path, encoder, "the autosaved workspace")
    try:
        name = check_name(json.loads(path.with_suffix(".json").read_text("utf-8"))["name"])
    except (OSError, ValueError, KeyError, TypeError):
        name = "untitled"
    return mem, name


def rebuild(mem: HybridMemory, encoder, **changes) -> tuple[HybridMemory, int]:
    """A new memory with ``changes`` to its config (D, k, seed, lr, …) holding ``mem``'s text
    memories re-encoded (cues, targets, paraphrases, importance); ``mem`` is not touched.
    Returns (new memory, number of vector-only memories that could not be carried over).
    Nights already slept are not replayed: the new memory starts at day 0."""
    import dataclasses

    from . import memory_rows

    cfg = dataclasses.replace(mem.config, **changes)   # MemoryConfig validates
    new = HybridMemory(cfg, encoder=encoder)
    rows = memory_rows.rows_of(mem)
    if rows:
        memory_rows.add_rows(new, rows, bounded=False)
    return new, len(mem) - len(rows)
