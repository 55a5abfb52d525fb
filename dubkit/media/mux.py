"""Put a dubbed soundtrack into a copy of the source media.

Into a container of tracks (mp4, mov, mkv, webm): the video streams are copied packet for
packet; the dub becomes the first (default) audio track, the dubbed original, copied untouched,
the second, then the source's other audio tracks and its subtitles (converted when the
container needs another subtitle format). Into an audio format: the dub alone. What goes where
follows ``plan_mux``, from the probed streams. Either way the output lasts as long as the source
really is (its packets, not its header) and replaces its path atomically; the source is never
written.
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
from dubkit.media.length import real_duration
from dubkit.media.plan import MuxPlan, plan_mux
from dubkit.media.probe import MediaInfo, check_readable, ffmpeg_url, probe
from dubkit.types import Audio, Seconds

VIDEO_AUDIO_RATES = (44_100, 48_000)  # Hz: a dub at another rate is resampled to 48 kHz
# Padding a dub to its source's length may take at most this many bytes of float32 per byte of
# the source file: real media at the lowest bitrates needs about 100 (a 16 kHz mono dub over
# 8 kbit/s audio and a still picture); a file whose timestamps claim far more is damaged.
PAD_BYTES_PER_FILE_BYTE = 1000

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
    audio_stream: int | None = None,
) -> MediaInfo:
    """Write ``output``: ``source`` with ``dub`` as its soundtrack, and return what was written.

    Languages are ISO 639-1 ("ja") and are tagged as ISO 639-2 ("jpn"). The dub is padded with
    silence or cut to the source's real duration. ``audio_stream`` is the absolute index of the
    source's audio stream that was dubbed (default: its default audio stream); into a container
    of tracks, ``keep_original`` keeps it as the second track, and the other audio tracks and
    the subtitles follow. Audio formats hold the dub only. ``plan_mux`` (or, at the door,
    ``check_output_for``) says beforehand which streams are left out.
    """
    check_readable(source)
    if os.path.exists(output) and os.path.samefile(source, output):
        raise InputError(
            f"output {os.fspath(output)} is the source file; choose another output path"
        )
    info = probe(source)
    plan = plan_mux(info, output, keep_original, audio_stream)
    dub = fit_length(dub, _target_duration(info, dub))
    if plan.tracks:
        _mux_tracks(info, plan, dub, output, dub_language, source_language)
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


def _target_duration(info: MediaInfo, dub: Audio) -> Seconds | None:
    """The source's real duration, refused when padding ``dub`` to it would take memory out of
    all proportion to the source file."""
    target = real_duration(info)
    if target is None or target <= dub.duration:
        return target
    pad_bytes = (target - dub.duration) * dub.rate * dub.channels * 4
    size = os.path.getsize(info.path)
    if pad_bytes > PAD_BYTES_PER_FILE_BYTE * size:
        raise MediaError(
            f"{os.fspath(info.path)} claims to last {target:.0f} s, more than its {size} bytes "
            "can hold; its timestamps are damaged: re-export it"
        )
    return target


def _dub_codec(ext: str, original_codec: str | None) -> AudioCodec:
    """A codec for the dub that the container takes: AAC in MP4/MOV, Opus in WebM; in Matroska
    Opus when the original is Opus or Vorbis, else AAC."""
    if ext == ".webm":
        return choose_codec("opus", "vorbis")
    if ext == ".mkv" and original_codec in ("opus", "vorbis"):
        return choose_codec("opus", "aac")
    return choose_codec("aac")


def _mux_tracks(
    info: MediaInfo,
    plan: MuxPlan,
    dub: Audio,
    output: str | os.PathLike[str],
    dub_language: str,
    source_language: str,
) -> None:
    ext = os.path.splitext(os.fspath(output))[1].lower()
    original = plan.original
    codec = _dub_codec(ext, original.codec if original else None)
    if codec.rate is None and dub.rate not in VIDEO_AUDIO_RATES:
        codec = dataclasses.replace(codec, rate=48_000)
    muxer = plan.muxer
    copied_audio = ([original] if original is not None else []) + list(plan.other_audio)

    args = ["-y", "-i", ffmpeg_url(info.path), *raw_input_args(dub)]
    for s in plan.video:
        args += ["-map", f"0:{s.index}"]
    args += ["-map", "1:a:0"]
    for s in [*copied_audio, *(s for s, _ in plan.subtitles)]:
        args += ["-map", f"0:{s.index}"]
    args += ["-c:v", "copy", *codec.args("a:0", dub.channels)]
    args += _track_tags(0, dub_language, "dub", muxer, default=True)
    for n, _ in enumerate(copied_audio, start=1):
        args += [f"-c:a:{n}", "copy", f"-disposition:a:{n}", "0"]  # only the dub is default
    if original is not None:
        args += _track_tags(1, source_language, "original", muxer, default=False)
    for n, (_, subtitle_codec) in enumerate(plan.subtitles):
        args += [f"-c:s:{n}", subtitle_codec]
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
