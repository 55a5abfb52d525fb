"""ffmpeg round trips that stand in for what happens to a dub after it leaves dubkit.

Each function takes ``Audio`` and gives back ``Audio`` that went through a lossy step: a codec at a
bitrate (encoded, then decoded again), a chain of sample rates, a speed change, or dubkit's own
muxing into a video. Watermark robustness tests and benchmarks use them as attacks; nothing is
written to disk except the temporary video of ``video_round_trip``.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import numpy as np

from dubkit.errors import InputError
from dubkit.media.encode import choose_codec, interleaved_bytes, raw_input_args
from dubkit.media.ffmpeg_bin import run_ffmpeg
from dubkit.types import Audio

# codec name -> (codec family for choose_codec, ffmpeg muxer and demuxer of the raw stream)
CODECS = {
    "mp3": ("mp3", "mp3", "mp3"),
    "aac": ("aac", "adts", "aac"),
    "opus": ("opus", "ogg", "ogg"),
    "vorbis": ("vorbis", "ogg", "ogg"),
}


def codec_round_trip(audio: Audio, codec: str, bitrate_kbps: int) -> Audio:
    """``audio`` encoded with ``codec`` ("mp3", "aac", "opus", "vorbis") at ``bitrate_kbps`` and
    decoded back, with the channels it had and at the rate the decoder gives (Opus: 48 kHz).

    The decoded audio is cut or padded to the input's duration; codec priming delay stays in.
    """
    if codec not in CODECS:
        raise InputError(f"unknown codec {codec!r}; choose one of: {', '.join(CODECS)}")
    if bitrate_kbps <= 0:
        raise InputError(f"bitrate must be positive, got {bitrate_kbps} kbit/s")
    family, muxer, demuxer = CODECS[codec]
    chosen = choose_codec(family)
    options = {k: v for k, v in chosen.options.items() if k not in ("b", "q")}
    options["b"] = f"{bitrate_kbps}k"
    args = [*raw_input_args(audio), "-c:a", chosen.encoder]
    for key, value in options.items():
        args += [f"-{key}:a", value]
    if chosen.rate is not None:
        args += ["-ar", str(chosen.rate)]
    encoded = run_ffmpeg([*args, "-f", muxer, "pipe:1"], input=interleaved_bytes(audio))
    out_rate = chosen.rate or audio.rate
    decoded = _decode_bytes(encoded, demuxer, out_rate, audio.channels)
    return _same_length(decoded, audio.duration)


def resample_chain(audio: Audio, rates: Sequence[int]) -> Audio:
    """``audio`` resampled through each rate of ``rates`` in turn by ffmpeg's resampler (its
    default, as a user's tools would do), e.g. ``[48000, 16000, 48000]``."""
    if not rates:
        raise InputError("give at least one sample rate to resample through")
    out = audio
    for rate in rates:
        if rate <= 0:
            raise InputError(f"sample rate must be positive, got {rate}")
        if rate == out.rate:
            continue
        raw = run_ffmpeg(
            [*raw_input_args(out), "-ar", str(rate), "-f", "f32le", "pipe:1"],
            input=interleaved_bytes(out),
        )
        out = _from_interleaved(raw, rate, out.channels)
    return out


def tempo_change(audio: Audio, factor: float) -> Audio:
    """``audio`` played ``factor`` times as fast with its pitch kept (ffmpeg's ``atempo``, as an
    editor's speed change does); ``factor`` between 0.5 and 2."""
    if not 0.5 <= factor <= 2.0:
        raise InputError(f"tempo factor must be between 0.5 and 2, got {factor}")
    raw = run_ffmpeg(
        [*raw_input_args(audio), "-filter:a", f"atempo={factor:.6f}", "-f", "f32le", "pipe:1"],
        input=interleaved_bytes(audio),
    )
    return _from_interleaved(raw, audio.rate, audio.channels)


def video_round_trip(audio: Audio, seconds_of_video: float | None = None) -> Audio:
    """``audio`` muxed by ``dubkit.media.mux_dub`` as the dub track of a small generated H.264
    video in MP4 (AAC, as a dub is delivered), then decoded back from that file (mono in, mono out).
    """
    from dubkit.media.decode import decode_audio
    from dubkit.media.mux import mux_dub

    duration = seconds_of_video or audio.duration
    with tempfile.TemporaryDirectory(prefix="dubkit-transcode-") as folder:
        source = os.path.join(folder, "source.mp4")
        run_ffmpeg([
            "-y", "-f", "lavfi", "-i", f"color=c=0x336699:s=64x64:r=10:d={duration:.3f}",
            "-f", "lavfi", "-i", f"anullsrc=r=48000:cl=mono:d={duration:.3f}",
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-c:a", "aac", "-shortest", source,
        ])
        output = os.path.join(folder, "dubbed.mp4")
        mux_dub(source, audio, output, dub_language="ja", source_language="en")
        back = decode_audio(output, mono=audio.channels == 1)
    return _same_length(back, audio.duration)


def _decode_bytes(data: bytes, demuxer: str, rate: int, channels: int) -> Audio:
    raw = run_ffmpeg(
        ["-f", demuxer, "-i", "pipe:0", "-ac", str(channels), "-ar", str(rate),
         "-f", "f32le", "pipe:1"],
        input=data,
    )
    return _from_interleaved(raw, rate, channels)


def _from_interleaved(raw: bytes, rate: int, channels: int) -> Audio:
    flat = np.frombuffer(raw, dtype="<f4")
    flat = flat[: flat.size - flat.size % channels]
    if channels == 1:
        return Audio(flat.copy(), rate)
    return Audio(flat.reshape(-1, channels).T.copy(), rate)  # (channels, samples)


def _same_length(audio: Audio, duration: float) -> Audio:
    n = int(round(duration * audio.rate))
    have = audio.num_samples
    if have >= n:
        return Audio(audio.samples[..., :n], audio.rate)
    pad = [(0, 0)] * (audio.samples.ndim - 1) + [(0, n - have)]
    return Audio(np.pad(audio.samples, pad), audio.rate)
