"""Write files under a temporary name in the same folder and rename when complete, so a crash
never leaves a half-written file where the final one belongs."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``final`` (same suffix) to write; rename it over ``final``
    when the block succeeds, remove it when it fails."""
    final = Path(final)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".part{final.suffix}",
                                    dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
