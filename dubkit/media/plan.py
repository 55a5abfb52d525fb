"""What goes into a dubbed output, decided from the probed streams (never from the extension of
the input): which streams are copied, which subtitles are converted, and what is left out, each
with a note the caller can show.

``plan_mux`` is the rule ``mux_dub`` follows; ``check_output_for`` runs the same rule at the
door and tries the copy on the first second of the input, so a mismatch between the input's
streams and the output's container is an error before any work rather than after all of it.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass

from dubkit.errors import InputError, MediaError
from dubkit.media.encode import AUDIO_FORMATS
from dubkit.media.ffmpeg_bin import run_ffmpeg
from dubkit.media.probe import MediaInfo, StreamInfo, ffmpeg_url

# extension -> ffmpeg muxer, for outputs that hold several tracks (and may carry video)
VIDEO_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}

# Subtitle codecs ffmpeg decodes to text, so any of them converts to any text format.
TEXT_SUBTITLES = frozenset({
    "subrip", "ass", "ssa", "webvtt", "mov_text", "text", "microdvd", "mpl2", "subviewer",
    "subviewer1", "sami", "realtext", "jacosub", "pjs", "vplayer", "stl",
})
_BITMAP_SUBTITLES = frozenset({"dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle"})
# muxer -> (subtitle codecs copied as they are, encoder text subtitles are converted to)
_SUBTITLES = {
    "matroska": (frozenset({"subrip", "ass", "ssa", "webvtt"}) | _BITMAP_SUBTITLES, "srt"),
    "webm": (frozenset({"webvtt"}), "webvtt"),
    "mp4": (frozenset({"mov_text"}), "mov_text"),
    "mov": (frozenset({"mov_text"}), "mov_text"),
}
_WEBM_AUDIO = frozenset({"opus", "vorbis"})  # all WebM admits; other tracks are left out
# ffmpeg's words for "this container cannot hold that codec"
_UNSUPPORTED = re.compile(r"not (currently )?supported|could not find tag|only .+ supported", re.I)


@dataclass(frozen=True)
class MuxPlan:
    """The streams of a dubbed output, in output order after the dub itself."""

    muxer: str  # ffmpeg muxer of the output
    tracks: bool  # True: a container of several tracks; False: an audio file with the dub only
    video: tuple[StreamInfo, ...] = ()  # copied packet for packet
    original: StreamInfo | None = None  # the dubbed track, copied after the dub (keep_original)
    other_audio: tuple[StreamInfo, ...] = ()  # copied after the original, not default
    subtitles: tuple[tuple[StreamInfo, str], ...] = ()  # (stream, "copy" or the encoder)
    dropped: tuple[str, ...] = ()  # one note per input stream the output leaves out


def plan_mux(
    info: MediaInfo,
    output: str | os.PathLike[str],
    keep_original: bool = True,
    audio_stream: int | None = None,
) -> MuxPlan:
    """How ``mux_dub`` writes ``output`` from the file ``info`` describes, dubbing the audio
    stream of absolute index ``audio_stream`` (default: the default audio stream).

    Raises ``InputError`` when the output's format cannot take what the input holds: video into
    an audio format, an unknown extension, an ``audio_stream`` that is not an audio stream.
    """
    ext = os.path.splitext(os.fspath(output))[1].lower()
    dubbed = _dubbed_stream(info, audio_stream)
    if ext in VIDEO_FORMATS:
        return _plan_tracks(info, VIDEO_FORMATS[ext], ext, dubbed, keep_original)
    name = os.path.basename(os.fspath(info.path))
    if info.has_video:
        raise InputError(
            f"cannot write a video as {ext or 'a file without extension'}: {name} holds video "
            f"({info.video_streams[0].codec}); use one of {', '.join(VIDEO_FORMATS)}"
        )
    if ext not in AUDIO_FORMATS:
        choices = ", ".join([*AUDIO_FORMATS, *VIDEO_FORMATS])
        raise InputError(
            f"cannot write audio as {ext or 'a file without extension'}; use one of {choices}"
        )
    dropped = [_note(s, f"a {ext} file holds the dub only") for s in info.streams
               if s is not dubbed]
    return MuxPlan(AUDIO_FORMATS[ext][0], tracks=False, dropped=tuple(dropped))


def check_output_for(
    info: MediaInfo,
    output: str | os.PathLike[str],
    keep_original: bool = True,
    audio_stream: int | None = None,
) -> MuxPlan:
    """Check at the door that ``output`` can hold what ``mux_dub`` will put in it, and return
    the plan (``plan.dropped``: notes on the streams left out).

    Beyond ``plan_mux``'s checks, the streams to copy are copied for the first second into a
    scratch file of the output's format, so a codec the container cannot hold (H.264 in WebM,
    PCM in MP4) raises ``InputError`` now instead of failing the mux after the whole job.
    """
    plan = plan_mux(info, output, keep_original, audio_stream)
    args = _copy_args(plan)
    if not args:
        return plan
    ext = os.path.splitext(os.fspath(output))[1].lower()
    with tempfile.TemporaryDirectory(prefix="dubkit-trial-") as folder:
        try:
            run_ffmpeg(["-y", "-i", ffmpeg_url(info.path), *args, "-t", "1",
                        "-f", plan.muxer, os.path.join(folder, "trial" + ext)])
        except MediaError as e:
            reason = str(e).removeprefix("ffmpeg failed: ")
            name = os.path.basename(os.fspath(info.path))
            if _UNSUPPORTED.search(reason):
                raise InputError(
                    f"a {ext} file cannot hold the streams of {name} ({reason}); "
                    "write the output as .mkv, which holds them all"
                ) from None
            raise MediaError(
                f"the streams of {name} cannot be copied ({reason}); it may be damaged: "
                "re-export it"
            ) from None
    return plan


def _dubbed_stream(info: MediaInfo, audio_stream: int | None) -> StreamInfo | None:
    if audio_stream is None:
        return info.default_audio
    for s in info.audio_streams:
        if s.index == audio_stream:
            return s
    choices = ", ".join(str(s.index) for s in info.audio_streams) or "none"
    raise InputError(
        f"stream {audio_stream} of {info.path} is not an audio stream; audio streams: {choices}"
    )


def _plan_tracks(
    info: MediaInfo, muxer: str, ext: str, dubbed: StreamInfo | None, keep_original: bool
) -> MuxPlan:
    copies, converts_to = _SUBTITLES[muxer]
    original = dubbed if keep_original else None
    others, subtitles, dropped = [], [], []
    for s in info.streams:
        if s is dubbed:
            if original is not None and muxer == "webm" and s.codec not in _WEBM_AUDIO:
                dropped.append(_note(s, "WebM holds only Opus and Vorbis audio"))
                original = None
        elif s.kind == "video":
            if s.attached_pic:
                dropped.append(_note(s, "cover pictures are not carried into dubbed outputs"))
        elif s.kind == "audio":
            if muxer == "webm" and s.codec not in _WEBM_AUDIO:
                dropped.append(_note(s, "WebM holds only Opus and Vorbis audio"))
            else:
                others.append(s)
        elif s.kind == "subtitle":
            if s.codec in copies:
                subtitles.append((s, "copy"))
            elif s.codec in TEXT_SUBTITLES:
                subtitles.append((s, converts_to))
            else:
                dropped.append(_note(s, f"a {ext} file cannot hold {s.codec} subtitles"))
        else:
            dropped.append(_note(s, "data streams and attachments are not carried"))
    return MuxPlan(muxer, tracks=True, video=info.video_streams, original=original,
                   other_audio=tuple(others), subtitles=tuple(subtitles),
                   dropped=tuple(dropped))


def _copy_args(plan: MuxPlan) -> list[str]:
    """ffmpeg output options that copy (or convert) the input streams ``plan`` keeps, in
    output order; empty when it keeps none."""
    audio = ([plan.original] if plan.original is not None else []) + list(plan.other_audio)
    args: list[str] = []
    for s in [*plan.video, *audio, *(s for s, _ in plan.subtitles)]:
        args += ["-map", f"0:{s.index}"]
    if not args:
        return []
    args += ["-c", "copy"]
    for n, (_, codec) in enumerate(plan.subtitles):
        if codec != "copy":
            args += [f"-c:s:{n}", codec]
    return args


def _note(s: StreamInfo, reason: str) -> str:
    facts = [s.kind if not s.attached_pic else "cover picture", s.codec]
    if s.language:
        facts.append(s.language)
    return f"stream {s.index} ({', '.join(facts)}) is left out: {reason}"
