"""Subtitles as input: a file (SRT, WebVTT or ASS/SSA, read by pysubs2) or a subtitle stream of
the media (``track:N``, the N-th subtitle stream counted from 0, converted to SRT by ffmpeg).

Every way a file can be unusable is one error that names it: unreadable, not UTF-8, no cue, a
cue that ends before it starts or lies past the end of the media.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from dubkit.errors import InputError, MediaError, first_line
from dubkit.media.ffmpeg_bin import run_ffmpeg
from dubkit.media.probe import MediaInfo
from dubkit.media.subtitles import Cue

SUBTITLE_FILES = (".srt", ".vtt", ".ass", ".ssa")
_TRACK = re.compile(r"^track:(\d+)$")
TOLERANCE = 0.5  # seconds a cue may start past the media's end (editors round times)


def track_number(spec: str) -> int | None:
    """N of ``track:N``; None for a file."""
    found = _TRACK.match(spec.strip())
    return int(found.group(1)) if found else None


def check_spec(spec: str, flag: str) -> tuple[Cue, ...] | None:
    """At the door: a file is read now (its cues, or an error naming what is wrong); a
    ``track:N`` waits for the media to be probed (None)."""
    if track_number(spec) is not None:
        return None
    if spec.startswith("track:"):
        raise InputError(f"{flag} {spec!r}: give a file or track:N (N counted from 0)")
    path = Path(spec).expanduser()
    if path.suffix.lower() not in SUBTITLE_FILES:
        raise InputError(f"{flag} {path}: not a subtitle file (accepted: "
                         f"{', '.join(SUBTITLE_FILES)}) or track:N")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{flag} {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"{flag} {path} cannot be read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{flag} {path} is not UTF-8 text (byte {exc.start}): save it as "
                         "UTF-8") from None
    return parse(text, path.suffix.lower().lstrip("."), f"{flag} {path}")


def track_cues(info: MediaInfo, number: int, flag: str) -> tuple[Cue, ...]:
    """The cues of the media's ``number``-th subtitle stream."""
    streams = [s for s in info.streams if s.kind == "subtitle"]
    if number >= len(streams):
        raise InputError(f"{flag} track:{number}: {Path(info.path).name} has "
                         f"{len(streams)} subtitle stream{'s' if len(streams) != 1 else ''}")
    stream = streams[number]
    try:
        data = run_ffmpeg(["-i", info.path, "-map", f"0:{stream.index}", "-f", "srt", "-"])
    except MediaError as exc:
        raise InputError(f"{flag} track:{number} ({stream.codec}) cannot be read as text "
                         f"(picture subtitles cannot): {exc}") from None
    return parse(data.decode("utf-8", "replace"), "srt", f"{flag} track:{number}")


def parse(text: str, fmt: str, where: str) -> tuple[Cue, ...]:
    """The cues of a subtitle text in file order, each one's lines joined by a space (cues
    without text left out)."""
    import pysubs2

    fmt = {"ssa": "ass"}.get(fmt, fmt)
    try:
        with warnings.catch_warnings():  # pysubs2 warns of each field it defaults
            warnings.simplefilter("ignore")
            subs = pysubs2.SSAFile.from_string(text, format_=fmt)
    except Exception as exc:  # noqa: BLE001 - pysubs2 raises several kinds; one line for all
        raise InputError(f"{where}: not a readable {fmt.upper()} file ({first_line(exc)})") \
            from None
    cues = []
    for number, event in enumerate(subs.events, 1):
        if event.is_comment:
            continue
        start, end = event.start / 1000, event.end / 1000
        if start < 0 or end <= start:
            raise InputError(f"{where}: cue {number} ends before it starts "
                             f"({start:.3f} -> {end:.3f} s)")
        body = " ".join(event.plaintext.split())
        if body:
            cues.append(Cue(start, end, body))
    if not cues:
        raise InputError(f"{where}: no cue with text found (not a readable {fmt.upper()} "
                         "file, or an empty one)")
    return tuple(cues)


def check_times(cues: Sequence[Cue], duration: float | None, where: str) -> None:
    """Every cue starts within the media."""
    if duration is None:
        return
    for number, cue in enumerate(cues, 1):
        if cue.start > duration + TOLERANCE:
            raise InputError(f"{where}: cue {number} starts at {cue.start:.3f} s, after the "
                             f"media's end ({duration:.3f} s)")
