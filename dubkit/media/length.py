"""How long a file really is, from its packets rather than from its header.

A header's declared duration is only a claim: a 600 KB file can declare ten hours. Anything that
sizes memory by a duration (padding a dub to the source's length) uses ``real_duration``.
"""
from __future__ import annotations

import os
import re
import subprocess

from dubkit.media.ffmpeg_bin import ffmpeg_path
from dubkit.media.probe import MediaInfo, ffmpeg_url
from dubkit.types import Seconds

_OUT_TIME = re.compile(rb"^out_time_us=(\d+)\s*$", re.MULTILINE)
# seconds: a header may claim this much past the last packet and still be believed (the last
# packet's own duration, an edit list, a subtitle that ends after the picture)
DECLARED_SLACK = 1.0


def packet_duration(path: str | os.PathLike[str]) -> Seconds | None:
    """Where the audio and video packets of ``path`` end, in seconds, found by copying them to
    nowhere (no decoding: about as fast as reading the file). None when ffmpeg reads none."""
    try:
        proc = subprocess.run(
            [ffmpeg_path(), "-hide_banner", "-nostdin", "-v", "error", "-i", ffmpeg_url(path),
             "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "null",
             "-progress", "pipe:1", "-nostats", "-"],
            stdin=subprocess.DEVNULL, capture_output=True,
        )
    except OSError:
        return None
    found = _OUT_TIME.findall(proc.stdout)
    if not found:
        return None
    return int(found[-1]) / 1_000_000


def real_duration(info: MediaInfo) -> Seconds | None:
    """The duration of ``info``'s file that can be trusted: the declared one when the packets
    bear it out (within ``DECLARED_SLACK``), else where the packets end."""
    measured = packet_duration(info.path)
    if measured is None:
        return None
    if info.duration is not None and info.duration <= measured + DECLARED_SLACK:
        return info.duration
    return measured
