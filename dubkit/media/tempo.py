"""Pitch-preserving tempo change through ffmpeg's ``atempo`` filter (WSOLA)."""
from __future__ import annotations

import math

import numpy as np

from dubkit.media.encode import interleaved_bytes, raw_input_args
from dubkit.media.ffmpeg_bin import run_ffmpeg
from dubkit.types import Audio

_STAGE_MIN, _STAGE_MAX = 0.5, 2.0  # the range every ffmpeg version's atempo accepts


def change_tempo(audio: Audio, factor: float) -> Audio:
    """``audio`` played ``factor`` times as fast at the same pitch (1.25 = 25% faster).

    The result has exactly ``round(num_samples / factor)`` samples, the same rate and channels.
    """
    if not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"tempo factor must be a positive number, got {factor}")
    if factor == 1:
        return audio
    n_out = int(round(audio.num_samples / factor))
    if audio.num_samples == 0:
        return audio
    chain = ",".join(f"atempo={f:.6f}" for f in atempo_stages(factor))
    out = run_ffmpeg(
        [*raw_input_args(audio), "-af", chain, "-c:a", "pcm_f32le", "-f", "f32le", "pipe:1"],
        input=interleaved_bytes(audio),
    )
    channels = audio.channels
    samples = np.frombuffer(out, dtype="<f4").reshape(-1, channels).T  # (channels, samples)
    # atempo's length is off by a few samples at the edges: make it exact
    if samples.shape[1] >= n_out:
        samples = samples[:, :n_out]
    else:
        samples = np.pad(samples, [(0, 0), (0, n_out - samples.shape[1])])
    if audio.samples.ndim == 1:
        samples = samples[0]  # (samples,)
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), audio.rate)


def atempo_stages(factor: float) -> list[float]:
    """Factors within atempo's range whose product is ``factor`` (3.0 -> [2.0, 1.5])."""
    stages = []
    while factor > _STAGE_MAX:
        stages.append(_STAGE_MAX)
        factor /= _STAGE_MAX
    while factor < _STAGE_MIN:
        stages.append(_STAGE_MIN)
        factor /= _STAGE_MIN
    stages.append(factor)
    return stages
