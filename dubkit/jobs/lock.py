"""One dubkit at a time in a job folder: a job holds an exclusive lock on ``<job>/.lock`` while
it runs, so two runs (two batches, or a batch and a ``translate``) never write the same
project.json and cache at once; the second is told who holds it.

The lock is ``flock``: released by the kernel when the holder exits however it ends (kill -9
included), so a stale lock never blocks a resume. On network file systems that do not honour
``flock`` across machines, give each machine its own output folders.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from dubkit.errors import JobBusy

LOCK_NAME = ".lock"


@contextlib.contextmanager
def job_lock(job_dir: Path) -> Iterator[None]:
    """Hold the job folder's lock for the block (creating the folder if needed); raise
    ``JobBusy`` at once when another process holds it. A folder this call created and that the
    block left empty is removed again."""
    job_dir = Path(job_dir)
    created = not job_dir.exists()
    job_dir.mkdir(parents=True, exist_ok=True)
    path = job_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise JobBusy(f"another dubkit (process {holder}) is working in {job_dir}: wait "
                          "for it to finish, then run this again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            if created and [p.name for p in job_dir.iterdir()] == [LOCK_NAME]:
                path.unlink()  # the job wrote nothing: leave no empty folder behind
                job_dir.rmdir()
    finally:
        os.close(fd)  # closing releases the lock
