"""Read and write RTTM, the NIST "who spoke when" format that diarization tools exchange.

Only SPEAKER lines are used:
``SPEAKER <uri> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>``, times in seconds.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from dubkit.errors import InputError
from dubkit.types import Turn


def write_rttm(turns: Iterable[Turn], path_or_file: str | os.PathLike | IO[str], uri: str) -> None:
    """Write ``turns`` of recording ``uri`` as RTTM SPEAKER lines (times to the millisecond)."""
    if not uri or any(c.isspace() for c in uri):
        raise InputError(f"RTTM uri must be one word without spaces, got {uri!r}")
    lines = []
    for t in turns:
        if any(c.isspace() for c in t.speaker) or not t.speaker:
            raise InputError(f"RTTM speaker names must be one word, got {t.speaker!r}")
        lines.append(
            f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        )
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "w", encoding="utf-8") as f:
            f.writelines(lines)
    else:
        path_or_file.writelines(lines)


def read_rttm(path: str | os.PathLike | IO[str]) -> dict[str, list[Turn]]:
    """Turns per recording uri, each list sorted by start; lines other than SPEAKER are skipped."""
    if isinstance(path, (str, os.PathLike)):
        if not Path(path).is_file():
            raise InputError(f"RTTM file {path} does not exist")
        with open(path, encoding="utf-8") as f:
            return _parse(f, str(path))
    return _parse(path, getattr(path, "name", "<stream>"))


def _parse(lines: Iterable[str], where: str) -> dict[str, list[Turn]]:
    out: dict[str, list[Turn]] = {}
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise InputError(f"{where}:{number}: a SPEAKER line needs at least 8 fields")
        try:
            start, duration = float(fields[3]), float(fields[4])
        except ValueError:
            raise InputError(f"{where}:{number}: start and duration must be numbers") from None
        if duration < 0:
            raise InputError(f"{where}:{number}: negative duration {duration}")
        # Rounded: 6.69 + 0.43 must read back as 7.12, not 7.1199999.
        end = round(start + duration, 6)
        out.setdefault(fields[1], []).append(Turn(start, end, fields[7]))
    for turns in out.values():
        turns.sort(key=lambda t: (t.start, t.end, t.speaker))
    return out
