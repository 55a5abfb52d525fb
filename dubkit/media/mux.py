"""Put a dubbed soundtrack into a copy of the source media.

Video: the video stream is copied packet for packet; the dub becomes the first (default) audio
track and the original audio, copied untouched, the second. Audio: the dub is encoded in the
output's format. Either way the output lasts as long as the source and replaces its path
atomically; the source is never written.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from dubkit.errors import InputError, MediaError
from dubkit.languages import language_name, to_iso639_2
from dubkit.media.encode import (
    AudioCodec,
    choose_codec,
    interleaved_bytes,
    raw_input_args,
    temporary_sibling,
    write_audio,
)
from dubkit.media.ffmpeg_bin import run_ffmpeg
from dubkit.media.probe import MediaInfo, check_readable, ffmpeg_url, probe
from dubkit.types import Audio

# extension -> ffmpeg muxer, for outputs that carry video
VIDEO_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
VIDEO_AUDIO_RATES = (44_100, 48_000)  # Hz: a dub at another rate is resampled to 48 kHz

# ffmpeg's MOV muxer tags languages from the old Mac table, which spells these four the
# ISO 639-2/T way; any other language missing from that table is left untagged in .mov.
_MOV_LANGUAGE = {"fre": "fra", "cze": "ces", "rum": "ron", "slo": "slk"}


def mux_dub(
    source: str | os.PathLike[str],
    dub: Audio,
    output: str | os.PathLike[str],
    dub_language: str,
    source_language: str,
    keep_original: bool = True,
) -> MediaInfo:
    """Write ``output``: ``source`` with ``dub`` as its soundtrack, and return what was written.

    Languages are ISO 639-1 ("ja") and are tagged as ISO 639-2 ("jpn"). The dub is padded with
    silence or cut to the source's duration. For video, ``keep_original`` keeps the source's
    first audio track as a second, non-default track; audio outputs hold the dub only.
    """
    check_readable(source)
    if os.path.exists(output) and os.path.samefile(source, output):
        raise InputError(
            f"output {os.fspath(output)} is the source file; choose another output path"
        )
    info = probe(source)
    dub = fit_length(dub, info.duration)
    if info.has_video:
        _mux_video(info, dub, output, dub_language, source_language, keep_original)
    else:
        write_audio(dub, output, language=dub_language)
    return probe(output)


def fit_length(audio: Audio, duration: float | None) -> Audio:
    """``audio`` padded with silence or cut to ``duration`` seconds (unchanged when None)."""
    if duration is None:
        return audio
    n = int(round(duration * audio.rate))
    have = audio.num_samples
    if n == have:
        return audio
    if n < have:
        return Audio(audio.samples[..., :n], audio.rate)
    pad = [(0, 0)] * (audio.samples.ndim - 1) + [(0, n - have)]
    return Audio(np.pad(audio.samples, pad), audio.rate)


def _dub_codec(ext: str, original_codec: str | None) -> AudioCodec:
    """A codec for the dub that the container takes: AAC in MP4/MOV, Opus in WebM; in Matroska
    Opus when the original is Opus or Vorbis, else AAC."""
    if ext == ".webm":
        return choose_codec("opus", "vorbis")
    if ext == ".mkv" and original_codec in ("opus", "vorbis"):
        return choose_codec("opus", "aac")
    return choose_codec("aac")


def _mux_video(
    info: MediaInfo,
    dub: Audio,
    output: str | os.PathLike[str],
    dub_language: str,
    source_language: str,
    keep_original: bool,
) -> None:
    ext = os.path.splitext(os.fspath(output))[1].lower()
    if ext not in VIDEO_FORMATS:
        raise InputError(
            f"cannot write a video as {ext or 'a file without extension'}; "
            f"use one of {', '.join(VIDEO_FORMATS)}"
        )
    video = info.video_streams[0]
    original = info.audio_streams[0] if keep_original and info.audio_streams else None
    codec = _dub_codec(ext, original.codec if original else None)
    if codec.rate is None and dub.rate not in VIDEO_AUDIO_RATES:
        codec = dataclasses.replace(codec, rate=48_000)
    muxer = VIDEO_FORMATS[ext]

    args = ["-y", "-i", ffmpeg_url(info.path), *raw_input_args(dub)]
    args += ["-map", f"0:{video.index}", "-map", "1:a:0"]
    if original is not None:
        args += ["-map", f"0:{original.index}"]
    args += ["-c:v", "copy", *codec.args("a:0", dub.channels)]
    args += _track_tags(0, dub_language, "dub", muxer, default=True)
    if original is not None:
        args += ["-c:a:1", "copy"]
        args += _track_tags(1, source_language, "original", muxer, default=False)
    if muxer in ("mp4", "mov"):
        args += ["-movflags", "+faststart"]  # index first: plays while it downloads
    with temporary_sibling(output) as tmp:
        try:
            run_ffmpeg([*args, "-f", muxer, tmp], input=interleaved_bytes(dub))
        except MediaError as e:
            raise MediaError(f"could not write {os.fspath(output)}: {e}") from e


def _track_tags(track: int, language: str, role: str, muxer: str, default: bool) -> list[str]:
    spec = f"a:{track}"
    tag = to_iso639_2(language)
    if muxer == "mov":
        tag = _MOV_LANGUAGE.get(tag, tag)
    return [
        f"-metadata:s:{spec}", f"language={tag}",
        f"-metadata:s:{spec}", f"title={language_name(language)} ({role})",
        f"-disposition:{spec}", "default" if default else "0",
    ]


def video_packet_hashes(path: str | os.PathLike[str]) -> list[str]:
    """MD5 of each packet of the first video stream, in order: equal lists mean the video was
    copied untouched (timestamps are left out; a remux may shift them)."""
    info = probe(path)
    if not info.has_video:
        raise MediaError(f"{os.fspath(path)} has no video stream")
    out = run_ffmpeg([
        "-i", ffmpeg_url(path), "-map", f"0:{info.video_streams[0].index}",
        "-c", "copy", "-f", "framemd5", "pipe:1",
    ]).decode("ascii", "replace")
    # rows: stream, dts, pts, duration, size, md5
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines()
            if line and not line.startswith("#")]
