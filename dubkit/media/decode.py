"""Decode a media file's audio to float32 samples, whole or as a stream of chunks.

ffmpeg writes interleaved f32le to a pipe. Corrupt or truncated input is caught from the errors
ffmpeg logs while decoding (it exits 0 on most of them), for audio-only files from a decoded
length well short of the duration the container declares, and from samples no recording holds
(NaN, Inf, or far beyond full scale). The length is what decodes, never what the header says; the
one header field that scales memory, the sample rate we resample from, is checked first.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from typing import IO, cast

import numpy as np

from dubkit.errors import InputError, MediaError
from dubkit.media.ffmpeg_bin import error_line, ffmpeg_path
from dubkit.media.probe import MediaInfo, StreamInfo, ffmpeg_url, probe
from dubkit.types import Audio

_FALLBACK_RATE = 48_000  # Hz, when the container does not say
# Hz: resampling from a lower declared rate would multiply a tiny file into gigabytes (1 Hz to
# 48 kHz is 48,000 times the samples); no real recording is below telephone rates anyway
MIN_SOURCE_RATE = 1_000
_MAX_PEAK = 1000.0  # 60 dB over full scale: only a damaged float file holds such samples
_ERROR_LINE = re.compile(r"\[(error|fatal|panic)\]")
_ESTIMATED = "Estimating duration from bitrate"  # the declared duration is a guess


def decode_audio(
    path: str | os.PathLike[str],
    rate: int | None = None,
    mono: bool = False,
    stream_index: int | None = None,
) -> Audio:
    """All of one audio stream of ``path`` as float32.

    ``rate`` resamples (default: the stream's own rate); ``mono`` averages the channels into
    ``(samples,)``, else the result is ``(channels, samples)``. ``stream_index`` is the absolute
    stream index from ``probe`` (default: the audio stream marked default, else the first; see
    ``check_audio_track``).
    """
    info = probe(path)
    stream = _pick_stream(info, stream_index)
    channels = stream.channels or 2
    out_rate = rate or stream.sample_rate or _FALLBACK_RATE
    _check_rate(info, stream, out_rate)
    proc = subprocess.run(
        _command(path, stream, out_rate, channels), stdin=subprocess.DEVNULL, capture_output=True
    )
    interleaved = np.frombuffer(proc.stdout, dtype="<f4")
    interleaved = interleaved[: len(interleaved) - len(interleaved) % channels]
    frames = interleaved.reshape(-1, channels)  # (samples, channels)
    _check(path, info, proc.returncode, proc.stderr.decode("utf-8", "replace"),
           frames.shape[0] / out_rate)
    check_samples(path, frames)
    if mono:
        return Audio(frames.mean(axis=1, dtype=np.float32), out_rate)  # as Audio.mono() does
    return Audio(frames.T.copy(), out_rate)  # (channels, samples), writable


def iter_audio(
    path: str | os.PathLike[str],
    rate: int,
    chunk_seconds: float,
    mono: bool = True,
    stream_index: int | None = None,
) -> Iterator[Audio]:
    """Yield the audio of ``path`` in chunks of ``chunk_seconds`` (the last one may be shorter),
    read from ffmpeg's pipe as it decodes. Concatenated, the chunks equal ``decode_audio``'s result.

    Closing the generator early stops ffmpeg. A decoding error is raised after the chunks that
    decoded before it.
    """
    if chunk_seconds <= 0:
        raise InputError(f"chunk_seconds must be positive, got {chunk_seconds}")
    info = probe(path)
    stream = _pick_stream(info, stream_index)
    channels = stream.channels or 2
    _check_rate(info, stream, rate)
    chunk = max(1, int(round(chunk_seconds * rate)))  # samples per chunk
    frame_bytes = 4 * channels
    total = 0
    with tempfile.TemporaryFile() as err:
        # stderr goes to a file: a pipe nobody reads could fill and stall ffmpeg
        proc = subprocess.Popen(
            _command(path, stream, rate, channels),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
        )
        stdout = cast(IO[bytes], proc.stdout)  # set: stdout=PIPE
        try:
            while True:
                data = stdout.read(chunk * frame_bytes)
                usable = len(data) - len(data) % frame_bytes
                if usable:
                    block = np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels).T
                    check_samples(path, block)
                    block = block.mean(axis=0) if mono else block.copy()  # (channels, samples)
                    total += block.shape[-1]
                    yield Audio(np.ascontiguousarray(block, dtype=np.float32), rate)
                if len(data) < chunk * frame_bytes:
                    break
            returncode = proc.wait()
        finally:
            if proc.poll() is None:  # closed early: stop ffmpeg
                proc.kill()
                proc.wait()
            stdout.close()
        err.seek(0)
        log = err.read().decode("utf-8", "replace")
    _check(path, info, returncode, log, total / rate)


def _pick_stream(info: MediaInfo, stream_index: int | None) -> StreamInfo:
    audio = info.audio_streams
    if stream_index is not None:
        for s in audio:
            if s.index == stream_index:
                return s
        choices = ", ".join(str(s.index) for s in audio) or "none"
        raise InputError(
            f"stream {stream_index} of {info.path} is not an audio stream; audio streams: {choices}"
        )
    if not audio:
        raise MediaError(f"{info.path} has no audio stream; give a file with sound")
    return info.default_audio or audio[0]


def _check_rate(info: MediaInfo, stream: StreamInfo, out_rate: int) -> None:
    declared = stream.sample_rate
    if declared is not None and declared < MIN_SOURCE_RATE and out_rate > declared:
        raise MediaError(
            f"{info.path} declares a sample rate of {declared} Hz (below {MIN_SOURCE_RATE} Hz); "
            "its header is damaged: re-export it"
        )


def check_samples(path: str | os.PathLike[str], samples: np.ndarray) -> None:
    """Raise ``MediaError`` when decoded ``samples`` hold NaN or Inf, or values no recording
    holds (over 60 dB above full scale): the file is damaged, and such values would poison
    every stage after decoding."""
    if samples.size == 0:
        return
    # max and min propagate NaN and make no temporary copy of a long recording
    high, low = float(samples.max()), float(samples.min())
    name = os.fspath(path)
    if not (np.isfinite(high) and np.isfinite(low)):
        raise MediaError(f"{name} contains NaN/Inf samples; it is damaged: re-export it")
    peak = max(high, -low)
    if peak > _MAX_PEAK:
        raise MediaError(
            f"{name} contains samples {peak:.3g} times full scale; it is damaged: re-export it"
        )


def _command(
    path: str | os.PathLike[str], stream: StreamInfo, rate: int, channels: int
) -> list[str]:
    return [
        ffmpeg_path(), "-hide_banner", "-nostdin",
        "-v", "level+warning",  # tagged lines: "[error] ..." are what we look for
        "-i", ffmpeg_url(path),
        "-map", f"0:{stream.index}",
        "-ac", str(channels), "-ar", str(rate),
        "-c:a", "pcm_f32le", "-f", "f32le", "pipe:1",
    ]


def _check(
    path: str | os.PathLike[str], info: MediaInfo, returncode: int, log: str, decoded: float
) -> None:
    """Raise ``MediaError`` when ffmpeg failed, logged decoding errors, or stopped short."""
    name = os.fspath(path)
    errors = [line for line in log.splitlines() if _ERROR_LINE.search(line)]
    if returncode != 0 or errors:
        reason = error_line("\n".join(errors) or log)
        raise MediaError(f"{name} is corrupt or truncated ({reason}); re-export or re-download it")
    if decoded == 0:
        raise MediaError(f"{name} has no audio (zero length); give a file with sound")
    declared = info.duration
    if declared and not info.has_video and _ESTIMATED not in log:
        # an audio-only file should decode to the length its header declares
        if decoded < declared - max(0.5, 0.05 * declared):
            raise MediaError(
                f"{name} is truncated: it declares {declared:.2f} s but only {decoded:.2f} s "
                "decodes; re-export or re-download it"
            )
