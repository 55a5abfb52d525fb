"""Write files under a temporary name in the same folder and rename when complete, so a crash
never leaves a half-written file where the final one belongs."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dubkit.errors import DiskFull

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: os.umask can only be read by setting it
_NEARLY_FULL = 1 << 20  # bytes: a failed write with less free than this is a full disk


def is_disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether ``exc``, raised while writing into ``folder``, means the disk is full. Some
    writers (libsndfile: "System error") lose the errno, so free space is checked too."""
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def disk_full_error(path: Path) -> DiskFull:
    return DiskFull(f"no space left on the device writing {path}: free some space (or choose "
                    "another output folder with -o), then run the same command again")


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``final`` (same suffix) to write; rename it over ``final``
    when the block succeeds, remove it when it fails. A full disk raises ``DiskFull``."""
    final = Path(final)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.",
                                        suffix=f".part{final.suffix}", dir=final.parent)
    except OSError as exc:
        if is_disk_full(exc, final.parent):
            raise disk_full_error(final) from None
        raise
    os.close(fd)
    os.chmod(tmp_name, 0o666 & ~_UMASK)  # mkstemp's 0600 would stick to the final file
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, final)
    except Exception as exc:
        if is_disk_full(exc, final.parent):
            raise disk_full_error(final) from None
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
