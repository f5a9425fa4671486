"""One atomic file write for the whole package (memory files, embedding-cache shards).

A write goes to ``.{name}.{pid}-{random}.nuonuo-tmp`` in the target folder (a name unique to
the writer: process id and 64 random bits), is flushed and fsynced, renamed over the target
(or, with ``overwrite=False``, hard-linked to it: an exclusive create that fails with
FileExistsError when the target exists, so of two racing creators exactly one wins), and the
folder is fsynced so the rename survives a power cut. A process killed mid-write (kill -9)
leaves its temporary file behind; the next write into that folder removes the temporary
files of this naming whose writer is gone: another process that is no longer alive, or this
process when no thread of it has the file in flight (checked under the same lock that a
writer holds while it registers its file, so a writer's file is never removed under it).
"""
from __future__ import annotations

import os
import re
import secrets
import threading
from pathlib import Path
from typing import Callable, IO

SUFFIX = ".nuonuo-tmp"
_NAME = re.compile(r"^\..+\.(\d+)-[0-9a-f]{16}" + re.escape(SUFFIX) + "$")
_active: set[str] = set()  # this process's writes in flight (other threads)
_lock = threading.Lock()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove temporary files of our naming in ``folder`` left by dead writers; returns them."""
    removed: list[Path] = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = _NAME.match(p.name)
        if not m:
            continue
        pid = int(m.group(1))
        if pid != os.getpid() and _alive(pid):
            continue
        with _lock:   # a writer registers its file under this lock before creating it
            if pid == os.getpid() and str(p) in _active:
                continue
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: bytes | Callable[[IO[bytes]], None],
                 overwrite: bool = True) -> Path:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically.
    ``overwrite=False``: create ``path`` only if it does not exist (FileExistsError
    otherwise, and nothing is written); of several writers racing, exactly one succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(8)}{SUFFIX}"
    with _lock:
        _active.add(str(tmp))
    try:
        with open(tmp, "xb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _create(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        with _lock:
            _active.discard(str(tmp))
    return path


def _create(tmp: Path, path: Path) -> None:
    """Give the complete file ``tmp`` the name ``path`` only if no file has it (atomic)."""
    try:
        os.link(tmp, path)          # fails with FileExistsError if path exists
    except FileExistsError:
        raise FileExistsError(f"{str(path)!r} already exists") from None
    except OSError:                 # pragma: no cover - file systems without hard links
        with open(path, "xb") as f, open(tmp, "rb") as src:
            while chunk := src.read(1 << 20):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
    tmp.unlink()
