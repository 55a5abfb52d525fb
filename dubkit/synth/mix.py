"""Mix dubbed speech over the original soundtrack: duck the original under it, never clip."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from dubkit import dsp
from dubkit.errors import InputError
from dubkit.types import Audio, Seconds

PEAK_CEILING_DBFS = -1.0  # the mix never peaks above this
LIMITER_SMOOTH: Seconds = 0.02  # limiter gain changes take this long (no audible clicks)


def mix_dub(
    original: Audio,
    placed: Sequence[tuple[Seconds, Audio]],
    duck_db: float = -15.0,
    ramp: Seconds = 0.08,
) -> Audio:
    """The original with each dub clip laid over it from its start time.

    The result has the original's rate, channels and exact length. Each clip is resampled to
    the original's rate, mixed to mono and put on every channel; clips that overlap add, and
    whatever runs past either end of the original is cut off. While dubbed speech plays the
    original is lowered by ``duck_db`` (see ``duck_envelope``). If the sum would peak above
    ``PEAK_CEILING_DBFS`` a smooth limiter brings those stretches down instead of clipping.
    """
    _check(duck_db, ramp)
    rate, n = original.rate, original.num_samples
    dub = np.zeros(n, dtype=np.float64)  # (samples,) mono dub bus
    spans = []
    for start, clip in placed:
        x = dsp.resample(clip.mono(), rate).samples  # (clip samples,)
        a = int(round(start * rate))
        b = a + x.shape[0]
        lo, hi = max(0, a), min(n, b)
        if hi <= lo:
            continue
        dub[lo:hi] += x[lo - a:hi - a]
        spans.append((lo / rate, hi / rate))
    gain = duck_envelope(n, rate, spans, duck_db, ramp)  # (samples,)
    mixed = original.samples.astype(np.float64) * gain + dub  # broadcast over channels
    return Audio(_limit(mixed, rate).astype(np.float32), rate)


def duck_envelope(
    num_samples: int,
    rate: int,
    spans: Sequence[tuple[Seconds, Seconds]],
    duck_db: float = -15.0,
    ramp: Seconds = 0.08,
) -> np.ndarray:
    """Gain for the original, ``(num_samples,)`` float32: 1 outside ``spans``, ``duck_db`` inside.

    The gain reaches ``duck_db`` by the start of a span and starts to rise at its end, through
    raised-cosine ramps of ``ramp`` seconds, so the dub's first syllable is never masked. The
    ducking depth is the maximum of every span's own shape, which makes overlapping and
    touching spans one smooth dip and spans closer than two ramps a shallow, smooth saddle.
    """
    _check(duck_db, ramp)
    depth = np.zeros(num_samples, dtype=np.float64)  # (samples,) 0 = untouched, 1 = fully ducked
    r = int(round(ramp * rate))
    edge = (0.5 - 0.5 * np.cos(np.pi * (np.arange(r) + 0.5) / r)) if r else np.zeros(0)  # (r,)
    for start, end in spans:
        a = int(round(start * rate))
        b = int(round(end * rate))
        if b <= a:
            continue
        shape = np.concatenate([edge, np.ones(b - a), edge[::-1]])  # from a - r to b + r
        lo, hi = max(0, a - r), min(num_samples, b + r)
        if hi <= lo:
            continue
        part = shape[lo - (a - r):hi - (a - r)]
        np.maximum(depth[lo:hi], part, out=depth[lo:hi])
    floor = dsp.db_to_gain(duck_db)
    return (1.0 - (1.0 - floor) * depth).astype(np.float32)


def _limit(samples: np.ndarray, rate: int) -> np.ndarray:
    """``samples`` with no peak above ``PEAK_CEILING_DBFS``, by a smooth gain where needed."""
    ceiling = dsp.db_to_gain(PEAK_CEILING_DBFS)
    peaks = np.abs(samples) if samples.ndim == 1 else np.max(np.abs(samples), axis=0)  # (samples,)
    if peaks.size == 0 or peaks.max() <= ceiling:
        return samples
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))  # (samples,) gain each sample needs
    # A minimum over the window, then a mean over the same window: the mean at any sample only
    # averages minima that include that sample, so it never exceeds what the sample needs.
    width = max(1, int(round(LIMITER_SMOOTH * rate))) | 1
    gain = uniform_filter1d(minimum_filter1d(need, width, mode="nearest"), width, mode="nearest")
    out = samples * gain
    peak = float(np.max(np.abs(out)))
    if peak > ceiling:  # rounding in the mean: at most a hair over
        out *= ceiling / peak
    return out


def _check(duck_db: float, ramp: Seconds) -> None:
    if duck_db > 0:
        raise InputError(f"duck_db lowers the original and must be <= 0 dB, got {duck_db}")
    if ramp < 0:
        raise InputError(f"ramp must be >= 0 s, got {ramp}")
