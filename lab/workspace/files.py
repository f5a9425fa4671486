"""Workspaces saved by name, private to an owner: ``$NUONUO_WORKSPACES/<owner>/<name>.nuonuo``.

An owner is a random key (:func:`new_owner`, kept in the browser's URL); one owner never lists,
opens or overwrites another's workspaces. Owner keys and names are validated (strict charset
and length, no path separators, no '..'); files are written atomically by
``HybridMemory.save``; opening a corrupt file raises ValueError without touching the caller's
current workspace. Each owner also has one autosave slot (:func:`autosave` /
:func:`restore`) that is not a named workspace. Pure: no Streamlit.

Limits that agree: a workspace file is at most ``limits.WORKSPACE_BYTES`` (= the upload
limit), so the lab can open every file it writes; additions, nights and rebuilds that could
grow it past that are refused before they run (``limits.check_room``). Every file the lab
opens must have a config its own forms could make (``limits.check_workspace_config``,
checked before anything is allocated).

Concurrency: two tabs (threads) or two server processes of one owner may save at once.
Every write goes through a uniquely named temporary file (``nuonuo_core.atomic``); a name is
created with an exclusive create (``overwrite=False``: of two racing savers exactly one
wins, the other gets :class:`NameTaken`); the count of saved workspaces and the autosave's
pair of files (workspace, display name) are changed under the owner's lock (a ``flock`` on
``.lock`` in the owner's folder, so threads and processes both wait for it).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import threading
from pathlib import Path

from nuonuo_core import HybridMemory
from nuonuo_core.atomic import atomic_write

from lab import limits

SUFFIX = ".nuonuo"
UPLOAD_LIMIT = limits.UPLOAD_LIMIT   # = server.maxUploadSize; the largest file the lab writes
MAX_FILE_BYTES = 200 * 2**20     # files saved on disk before that bound (opened, not written)
MAX_SAVED = 50               # named workspaces per owner
LOCK = ".lock"
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


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def owner_lock(owner: str, base=None):
    """Hold the owner's lock: a thread lock (tabs served by this process) and an exclusive
    ``flock`` on the owner's ``.lock`` file (other server processes)."""
    home = folder(owner, base)
    home.mkdir(parents=True, exist_ok=True)
    with _THREAD_LOCKS_GUARD:
        tlock = _THREAD_LOCKS.setdefault(str(home), threading.Lock())
    with tlock:
        fd = os.open(home / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield home
        finally:
            os.close(fd)          # releases the flock


def _taken(name: str) -> NameTaken:
    return NameTaken(f"a workspace named {check_name(name)!r} already exists; confirm to "
                     f"overwrite it")


def save(mem: HybridMemory, name: str, owner: str, overwrite: bool = False,
         base=None) -> Path:
    """Save ``mem`` as the owner's workspace ``name``; an existing one is replaced only with
    ``overwrite=True`` (else :class:`NameTaken`). Without ``overwrite`` the file is created
    exclusively: of two sessions saving the same new name at once, exactly one wins."""
    path = path_for(name, owner, base)
    limits.check_file(mem)
    if path.exists() and not overwrite:
        raise _taken(name)
    data = mem.to_bytes()
    with owner_lock(owner, base):
        if not path.exists() and len(list_names(owner, base)) >= MAX_SAVED:
            raise ValueError(f"you have {MAX_SAVED} saved workspaces, the most allowed; "
                             f"overwrite one of them instead")
        try:
            return atomic_write(path, data, overwrite=overwrite)
        except FileExistsError:
            raise _taken(name) from None


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
    """Open workspace bytes: at most ``limit`` bytes, a config inside the lab's own ranges
    (checked before the projection or W is built), then the engine's full checks."""
    if len(data) > limit:
        raise ValueError(f"{source} is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{limit // 2**20} MB")
    return HybridMemory.from_bytes(data, encoder=encoder, source=source,
                                   check_config=limits.check_workspace_config)


# --- autosave slot ------------------------------------------------------------------------------
def autosave(mem: HybridMemory, name: str, owner: str, base=None) -> Path:
    """Write the session's workspace (and its display name) to the owner's autosave slot.
    Safe with several tabs of one owner at once: each write has its own temporary file and
    the pair (workspace, name) is replaced under the owner's lock."""
    path = _file(AUTOSAVE, owner, base)
    meta = json.dumps({"name": check_name(name)}).encode("utf-8")
    limits.check_file(mem)
    data = mem.to_bytes()
    with owner_lock(owner, base):
        atomic_write(path, data)
        atomic_write(path.with_suffix(".json"), meta)
    return path


def restore(encoder, owner: str, base=None) -> tuple[HybridMemory, str] | None:
    """The owner's autosaved workspace and its name, or None if there is none.
    A damaged slot raises ValueError (the caller starts empty and says so)."""
    path = _file(AUTOSAVE, owner, base)
    if not path.is_file():
        return None
    mem = _read(path, encoder, "the autosaved workspace")
    try:
        meta = path.with_suffix(".json")
        if meta.stat().st_size > 4096:
            raise ValueError("name file too large")
        name = check_name(limits.load_json(meta.read_text("utf-8"), 2, 8)["name"])
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
    limits.check_workspace_config(cfg)
    rows = memory_rows.rows_of(mem)
    new = HybridMemory(cfg, encoder=encoder)
    limits.check_room(new, limits.rows_growth(cfg, rows), f"rebuilding with k = {cfg.k}")
    if rows:
        memory_rows.add_rows(new, rows, bounded=False)
    return new, len(mem) - len(rows)
