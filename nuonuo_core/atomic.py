"""One atomic file write for the whole package (memory files, embedding-cache shards).

A write goes to ``.{name}.{pid}-{random}.nuonuo-tmp`` in the target folder, is flushed and
fsynced, renamed over the target, and the folder is fsynced so the rename survives a power
cut. A process killed mid-write (kill -9) leaves its temporary file behind; the next write
into that folder removes every temporary file of this naming whose writer process is gone.
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
    with _lock:
        active = set(_active)
    for p in folder.iterdir():
        m = _NAME.match(p.name)
        if not m or str(p) in active:
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or not _alive(pid):  # our own pid: not in flight, so stale
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


def atomic_write(path: str | os.PathLike, data: bytes | Callable[[IO[bytes]], None]) -> Path:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically."""
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
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        with _lock:
            _active.discard(str(tmp))
    return path
