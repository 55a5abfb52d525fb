"""Put a model folder in place atomically, safe against other processes doing the same.

A folder is built under a temporary name beside its final place and renamed into it, so a
reader sees either no folder, the old one, or the whole new one. Two processes may build the
same folder at once: the first rename wins and the other keeps the winner's folder when it is
sound, so neither ever deletes a folder another one has just put in place and may be reading.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

_STALE_S = 3600.0  # a temporary folder untouched this long was left by a killed process


def build_dir(folder: Path) -> Path:
    """A new empty temporary folder beside ``folder`` (same file system, so rename works)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(folder)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))


def _remove_stale(folder: Path) -> None:
    now = time.time()
    for leftover in folder.parent.glob(f".{folder.name}-*"):
        try:
            if now - leftover.stat().st_mtime > _STALE_S:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass  # another process removed it first


def publish(tmp: Path, folder: Path, sound: Callable[[Path], bool]) -> Path:
    """Rename the finished ``tmp`` to ``folder``. A folder already there is kept when
    ``sound(folder)`` (another process won the race); otherwise it is moved aside and
    removed, and ``tmp`` takes its place."""
    for _ in range(5):
        try:
            os.rename(tmp, folder)  # atomic; fails when folder is a non-empty directory
            return folder
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
        if folder.is_dir() and not folder.is_symlink() and sound(folder):
            shutil.rmtree(tmp, ignore_errors=True)
            return folder
        aside = folder.with_name(f".{folder.name}-old-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(folder, aside)
        except FileNotFoundError:
            continue  # another process moved it aside first; try our rename again
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink(missing_ok=True)
    raise OSError(f"could not put {folder} in place: other processes keep replacing it")
