"""Small signal helpers shared by the analysis and synthesis stages.

Sample arrays are float32 ``(samples,)`` or ``(channels, samples)``; levels are dBFS, where a
full-scale sample (1.0) is 0 dBFS. Silence reads as ``DB_FLOOR`` rather than ``-inf`` so levels can
be compared and subtracted without special cases.
"""
from __future__ import annotations

import numpy as np

from dubkit.errors import InputError
from dubkit.types import Audio, Seconds

DB_FLOOR = -120.0  # dBFS reported for digital silence


def resample(audio: Audio, rate: int) -> Audio:
    """``audio`` at ``rate`` Hz (soxr high quality); mono and ``(channels, samples)`` alike."""
    if rate <= 0:
        raise InputError(f"sample rate must be positive, got {rate}")
    if audio.rate == rate:
        return audio
    if audio.num_samples == 0:
        shape = audio.samples.shape[:-1] + (0,)
        return Audio(np.zeros(shape, dtype=np.float32), rate)
    # what librosa.resample(res_type="soxr_hq") computes, without importing librosa (2 s)
    import soxr

    out = np.apply_along_axis(soxr.resample, -1, audio.samples, in_rate=audio.rate,
                              out_rate=rate, quality="soxr_hq")
    size = int(np.ceil(audio.num_samples * (float(rate) / audio.rate)))  # as librosa rounds
    out = out[..., :size]
    if out.shape[-1] < size:
        out = np.pad(out, [(0, 0)] * (out.ndim - 1) + [(0, size - out.shape[-1])])
    return Audio(np.ascontiguousarray(out, dtype=np.float32), rate)


def to_mono(audio: Audio) -> Audio:
    """The average of the channels, ``(samples,)``."""
    return audio.mono()


def db_to_gain(db: float) -> float:
    """Linear amplitude factor for a level change of ``db`` decibels."""
    return float(10.0 ** (db / 20.0))


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level over all samples and channels, in dBFS."""
    if samples.size == 0:
        return DB_FLOOR
    ms = float(np.mean(np.square(samples, dtype=np.float64)))
    return max(DB_FLOOR, 10.0 * np.log10(ms)) if ms > 0 else DB_FLOOR


def peak_dbfs(samples: np.ndarray) -> float:
    """Largest absolute sample, in dBFS."""
    if samples.size == 0:
        return DB_FLOOR
    peak = float(np.max(np.abs(samples)))
    return max(DB_FLOOR, 20.0 * np.log10(peak)) if peak > 0 else DB_FLOOR


def normalize_peak(samples: np.ndarray, target_dbfs: float = -1.0) -> np.ndarray:
    """``samples`` scaled so the largest absolute sample sits at ``target_dbfs``.

    Digital silence comes back unchanged (there is nothing to scale).
    """
    if target_dbfs > 0:
        raise InputError(f"target peak must be at most 0 dBFS, got {target_dbfs}")
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak == 0.0:
        return samples.astype(np.float32, copy=True)
    return (samples * (db_to_gain(target_dbfs) / peak)).astype(np.float32)


def fade(
    samples: np.ndarray, rate: int, fade_in: Seconds = 0.0, fade_out: Seconds = 0.0
) -> np.ndarray:
    """A copy with raised-cosine fades at the start and end (along the last axis).

    A fade longer than the signal is shortened to the signal.
    """
    if fade_in < 0 or fade_out < 0:
        raise InputError(f"fade lengths must be >= 0 s, got {fade_in} and {fade_out}")
    out = samples.astype(np.float32, copy=True)
    n = out.shape[-1]
    n_in = min(n, int(round(fade_in * rate)))
    n_out = min(n, int(round(fade_out * rate)))
    if n_in:
        out[..., :n_in] *= _rising_cosine(n_in)
    if n_out:
        out[..., n - n_out:] *= _rising_cosine(n_out)[::-1]
    return out


def trim_silence(
    audio: Audio, threshold_db: float = -40.0, keep: Seconds = 0.02, frame: Seconds = 0.01
) -> Audio:
    """``audio`` without its leading and trailing silence (see ``speech_bounds``)."""
    a, b = speech_bounds(audio, threshold_db, keep, frame)
    return Audio(audio.samples[..., a:b], audio.rate)


def speech_bounds(
    audio: Audio, threshold_db: float = -40.0, keep: Seconds = 0.02, frame: Seconds = 0.01
) -> tuple[int, int]:
    """First and one-past-last sample of what is not edge silence in ``audio``.

    Silence is every frame whose RMS is more than ``-threshold_db`` dB below the loudest frame's
    (relative, so quiet and loud takes trim alike); ``keep`` seconds of it stay on each side so
    that soft onsets and releases survive. Digital silence gives an empty span.
    """
    rate = audio.rate
    mono = audio.mono().samples  # (samples,)
    hop = max(1, int(round(frame * rate)))
    n_frames = -(-mono.shape[0] // hop)
    if n_frames == 0:
        return 0, audio.num_samples
    padded = np.zeros(n_frames * hop, dtype=np.float64)
    padded[: mono.shape[0]] = mono
    power = np.mean(padded.reshape(n_frames, hop) ** 2, axis=1)  # (frames,)
    loudest = float(power.max())
    if loudest == 0.0:
        return 0, 0
    loud = np.flatnonzero(power >= loudest * 10.0 ** (threshold_db / 10.0))
    margin = int(round(keep * rate))
    a = max(0, loud[0] * hop - margin)
    b = min(audio.num_samples, (loud[-1] + 1) * hop + margin)
    return a, b


def _rising_cosine(n: int) -> np.ndarray:
    """``n`` gains rising smoothly from near 0 to near 1, ``(n,)``."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)
