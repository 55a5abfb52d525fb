"""What a media file holds: container, duration, and its streams.

Uses ffprobe's JSON when an ffprobe is found, else parses the stream summary that ``ffmpeg -i``
prints (imageio-ffmpeg ships no ffprobe). Both give the same ``MediaInfo``; the duration is kept
to the 10 ms that ``ffmpeg -i`` prints, so it does not depend on which was used.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from typing import Any

from dubkit.errors import InputError, MediaError
from dubkit.media.ffmpeg_bin import error_line, ffmpeg_path, ffprobe_path, run_ffmpeg
from dubkit.types import Seconds

_KINDS = {
    "video": "video", "audio": "audio", "subtitle": "subtitle", "data": "data", "attachment": "data"
}


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a media file. ``index`` is its absolute index in the file (``-map 0:N``)."""

    index: int
    kind: str  # "audio" | "video" | "subtitle" | "data"
    codec: str
    language: str | None = None  # ISO 639-2 tag as stored; None when absent or "und"
    channels: int | None = None  # audio
    sample_rate: int | None = None  # Hz, audio
    width: int | None = None  # pixels, video
    height: int | None = None
    attached_pic: bool = False  # a cover picture (mp3/m4a art): "video" to ffmpeg, not a video
    default: bool = False  # disposition "default"


@dataclass(frozen=True)
class MediaInfo:
    """Container-level facts about a media file."""

    path: str
    format_name: str  # ffmpeg's demuxer names, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration: Seconds | None  # to 10 ms; None when the container does not say
    streams: tuple[StreamInfo, ...]

    @property
    def audio_streams(self) -> tuple[StreamInfo, ...]:
        return tuple(s for s in self.streams if s.kind == "audio")

    @property
    def default_audio(self) -> StreamInfo | None:
        """The audio stream a player starts with: the first one marked default, else the first
        one (None when there is no audio)."""
        audio = self.audio_streams
        return next((s for s in audio if s.default), audio[0] if audio else None)

    @property
    def video_streams(self) -> tuple[StreamInfo, ...]:
        """Real video streams: cover pictures are left out."""
        return tuple(s for s in self.streams if s.kind == "video" and not s.attached_pic)

    @property
    def has_video(self) -> bool:
        return bool(self.video_streams)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["streams"] = [dataclasses.asdict(s) for s in self.streams]
        return d


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe the media file at ``path``.

    Raises ``InputError`` when it does not exist and ``MediaError`` when ffmpeg cannot read it.
    """
    check_readable(path)
    if ffprobe_path() is not None:
        return probe_with_ffprobe(path)
    return probe_with_ffmpeg(path)


def check_readable(path: str | os.PathLike[str]) -> None:
    """Raise ``InputError`` unless ``path`` is an existing file."""
    if not os.path.exists(path):
        raise InputError(f"{os.fspath(path)} does not exist; check the path")
    if os.path.isdir(path):
        raise InputError(f"{os.fspath(path)} is a folder; give a media file")


def ffmpeg_url(path: str | os.PathLike[str]) -> str:
    """``path`` as an ffmpeg input that is never taken for a protocol ("a:b.mp4") or option."""
    return "file:" + os.fspath(path)


def _not_media(path: str | os.PathLike[str], reason: str) -> MediaError:
    return MediaError(f"{os.fspath(path)} is not a media file ffmpeg can read: {reason}")


# --- ffprobe -----------------------------------------------------------------------------------


def probe_with_ffprobe(path: str | os.PathLike[str]) -> MediaInfo:
    """``probe`` through ffprobe's JSON output."""
    exe = ffprobe_path()
    if exe is None:
        raise MediaError("no ffprobe found; use probe() which falls back to ffmpeg")
    proc = subprocess.run(
        [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         ffmpeg_url(path)],
        stdin=subprocess.DEVNULL, capture_output=True,
    )
    if proc.returncode != 0:
        raise _not_media(path, error_line(proc.stderr))
    return parse_ffprobe_json(path, json.loads(proc.stdout or b"{}"))


def parse_ffprobe_json(path: str | os.PathLike[str], data: dict[str, Any]) -> MediaInfo:
    """Turn ffprobe's ``-show_format -show_streams`` JSON into ``MediaInfo``."""
    fmt = data.get("format", {})
    duration = None
    if fmt.get("duration") not in (None, "N/A"):
        us = round(float(fmt["duration"]) * 1_000_000)
        duration = _centiseconds((us + 5_000) // 10_000)  # rounded as `ffmpeg -i` prints it
    streams = []
    for s in data.get("streams", []):
        kind = _KINDS.get(s.get("codec_type", ""), "data")
        disposition = s.get("disposition", {})
        rate = s.get("sample_rate")
        streams.append(StreamInfo(
            index=int(s["index"]),
            kind=kind,
            codec=s.get("codec_name") or "none",
            language=_language((s.get("tags") or {}).get("language")),
            channels=s.get("channels") if kind == "audio" else None,
            sample_rate=int(rate) if kind == "audio" and rate else None,
            width=s.get("width") if kind == "video" else None,
            height=s.get("height") if kind == "video" else None,
            attached_pic=bool(disposition.get("attached_pic", 0)),
            default=bool(disposition.get("default", 0)),
        ))
    if not streams:
        raise _not_media(path, "no streams found")
    return MediaInfo(os.fspath(path), fmt.get("format_name", ""), duration, tuple(streams))


# --- ffmpeg -i ---------------------------------------------------------------------------------

_INPUT = re.compile(r"^Input #0, (.+?), from '")
_DURATION = re.compile(r"^\s*Duration: (?:(\d+):(\d\d):(\d\d)\.(\d\d)|N/A)")
_STREAM = re.compile(
    r"^\s*Stream #0:(\d+)(?:\[0x[0-9a-fA-F]+\])?(?:\(([^)]*)\))?: (\w+): (.*)$"
)


def probe_with_ffmpeg(path: str | os.PathLike[str]) -> MediaInfo:
    """``probe`` by parsing the summary ``ffmpeg -i PATH`` prints (no ffprobe needed)."""
    try:
        proc = subprocess.run(
            [ffmpeg_path(), "-hide_banner", "-nostdin", "-i", ffmpeg_url(path)],
            stdin=subprocess.DEVNULL, capture_output=True,
        )
    except OSError as e:
        raise MediaError(f"cannot run ffmpeg: {e}; set DUBKIT_FFMPEG to a working one") from e
    # ffmpeg exits 1 here in any case ("At least one output file must be specified")
    return parse_ffmpeg_stderr(path, proc.stderr.decode("utf-8", "replace"))


def parse_ffmpeg_stderr(path: str | os.PathLike[str], text: str) -> MediaInfo:
    """Turn the ``Input #0`` block of ``ffmpeg -i`` stderr into ``MediaInfo``."""
    format_name = None
    duration = None
    streams: dict[int, StreamInfo] = {}
    for line in text.splitlines():
        if format_name is None:
            m = _INPUT.match(line)
            if m:
                format_name = m.group(1)
            continue
        if line.startswith(("Input #", "Output #", "Stream mapping")):
            break  # only input 0 is described
        m = _DURATION.match(line)
        if m and duration is None and m.group(1) is not None:
            h, mnt, s, cs = (int(g) for g in m.groups())
            duration = _centiseconds(((h * 60 + mnt) * 60 + s) * 100 + cs)
            continue
        m = _STREAM.match(line)
        if m and int(m.group(1)) not in streams:
            stream = _parse_stream(int(m.group(1)), m.group(2), m.group(3), m.group(4))
            streams[stream.index] = stream
    if format_name is None:
        raise _not_media(path, error_line(text))
    if not streams:
        raise _not_media(path, "no streams found")
    ordered = tuple(streams[i] for i in sorted(streams))
    return MediaInfo(os.fspath(path), format_name, duration, ordered)


def _parse_stream(index: int, language: str | None, kind_word: str, desc: str) -> StreamInfo:
    kind = _KINDS.get(kind_word.lower(), "data")
    parts = _split_top_level(desc)
    codec = parts[0].split()[0] if parts and parts[0].split() else "none"
    channels = sample_rate = width = height = None
    if kind == "audio":
        for i, part in enumerate(parts):
            m = re.match(r"^(\d+) Hz$", part)
            if m:
                sample_rate = int(m.group(1))
                if i + 1 < len(parts):
                    channels = _channel_count(parts[i + 1])
                break
    elif kind == "video":
        for part in parts[1:]:
            m = re.match(r"^(\d+)x(\d+)\b", part)
            if m:
                width, height = int(m.group(1)), int(m.group(2))
                break
    return StreamInfo(
        index=index,
        kind=kind,
        codec=codec,
        language=_language(language),
        channels=channels,
        sample_rate=sample_rate,
        width=width,
        height=height,
        attached_pic="(attached pic)" in desc,
        default="(default)" in desc,
    )


def _split_top_level(desc: str) -> list[str]:
    """Split at ", " outside brackets: "yuv420p(tv, bt709), 1920x1080" has two parts."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(desc):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(desc[start:i].strip())
            start = i + 1
    parts.append(desc[start:].strip())
    return parts


def _channel_count(layout: str) -> int | None:
    """Channels of a layout as ffmpeg prints it: "stereo", "5.1(side)", "6 channels", "FL+FR"."""
    m = re.match(r"^(\d+) channels\b", layout)
    if m:
        return int(m.group(1))
    name = layout.split()[0] if layout.split() else ""
    if name in _layouts():
        return _layouts()[name]
    if "+" in name:
        return name.count("+") + 1
    return None


@cache
def _layouts() -> dict[str, int]:
    """Standard layout names -> channel count, from ``ffmpeg -layouts``."""
    known = {"mono": 1, "stereo": 2}
    try:
        out = run_ffmpeg(["-layouts"]).decode("utf-8", "replace")
    except MediaError:
        return known
    in_standard = False
    for line in out.splitlines():
        if line.startswith("Standard channel layouts"):
            in_standard = True
            continue
        fields = line.split()
        if in_standard and len(fields) == 2 and fields[0] != "NAME":
            known[fields[0]] = fields[1].count("+") + 1
    return known


def _language(tag: str | None) -> str | None:
    if not tag:
        return None
    tag = tag.strip().lower()
    return None if tag in ("und", "") else tag


def _centiseconds(cs: int) -> Seconds:
    return cs / 100
