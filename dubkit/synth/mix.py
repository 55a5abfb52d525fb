"""Mix dubbed speech over the original soundtrack, never clipping.

What stays of the original under the dub is the ``background`` mode:

- ``"duck"``: the whole original, lowered by ``duck_db`` while dubbed speech plays;
- ``"keep"``: the separated background (music and effects, see ``analysis.separation``) at its
  original level wherever the dub or the original speech plays, crossfaded to the untouched
  original everywhere else;
- ``"drop"``: nothing; the dub over silence.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from dubkit import dsp
from dubkit.errors import InputError
from dubkit.types import Audio, Seconds

BACKGROUND_MODES = ("keep", "duck", "drop")
PEAK_CEILING_DBFS = -1.0  # the mix never peaks above this
LIMITER_SMOOTH: Seconds = 0.02  # limiter gain changes take this long (no audible clicks)


def mix_dub(
    original: Audio,
    placed: Sequence[tuple[Seconds, Audio]],
    duck_db: float = -15.0,
    ramp: Seconds = 0.08,
    *,
    background: str = "duck",
    separated: Audio | None = None,
    speech_spans: Sequence[tuple[Seconds, Seconds]] = (),
    mark: Callable[[Audio, Audio], Audio] | None = None,
) -> Audio:
    """The original's soundtrack with each dub clip laid over it from its start time.

    The result has the original's rate, channels and exact length. Each clip is resampled to
    the original's rate, mixed to mono and put on every channel; clips that overlap add, and
    whatever runs past either end of the original is cut off. Under the dub goes, by
    ``background`` (see the module docstring): ``"duck"``, the original lowered by ``duck_db``
    while dubbed speech plays (see ``duck_envelope``); ``"keep"``, ``separated`` (the original's
    background, same rate, channels and length) wherever a dub clip or one of ``speech_spans``
    (the original's speech, seconds) plays, the original elsewhere, switched through ``ramp``
    crossfades that lie outside those spans; ``"drop"``, silence. If the sum would peak above
    ``PEAK_CEILING_DBFS`` a smooth limiter brings those stretches down instead of clipping.

    ``mark(dub, cover)`` (a watermark's embed) is applied to the dub bus, all clips on one
    timeline, before it is mixed: one continuous mark spans short lines that could not each
    carry a whole payload, and ``cover`` (the bed it goes over, mono) lets the mark be placed so
    that the finished mix carries it.
    """
    _check(duck_db, ramp)
    _check_background(original, background, separated)
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
    bed = original.samples.astype(np.float64)  # (samples,) or (channels, samples)
    if background == "duck":
        bed *= duck_envelope(n, rate, spans, duck_db, ramp)
    elif background == "keep":
        # depth 1 (the separated background) from a ramp before each span to a ramp after it
        depth = span_depth(n, rate, [*spans, *speech_spans], ramp)  # (samples,)
        bed += depth * (separated.samples.astype(np.float64) - bed)
    else:
        bed[...] = 0.0
    if mark is not None and spans:
        cover = bed if bed.ndim == 1 else bed.mean(axis=0)  # what a mono detector hears under it
        dub = mark(Audio(dub.astype(np.float32), rate),
                   Audio(cover.astype(np.float32), rate)).samples.astype(np.float64)
    return Audio(_limit(bed + dub, rate).astype(np.float32), rate)  # dub broadcast to channels


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
    depth = span_depth(num_samples, rate, spans, ramp)
    floor = dsp.db_to_gain(duck_db)
    return (1.0 - (1.0 - floor) * depth).astype(np.float32)


def span_depth(
    num_samples: int, rate: int, spans: Sequence[tuple[Seconds, Seconds]], ramp: Seconds
) -> np.ndarray:
    """``(num_samples,)`` float64: 1 inside ``spans``, 0 away from them, raised-cosine ramps of
    ``ramp`` seconds just outside each span; overlapping shapes merge by their maximum."""
    depth = np.zeros(num_samples, dtype=np.float64)  # (samples,) 0 = untouched, 1 = fully in
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
    return depth


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


def _check_background(original: Audio, background: str, separated: Audio | None) -> None:
    if background not in BACKGROUND_MODES:
        raise InputError(
            f"unknown background mode {background!r}; choose one of {', '.join(BACKGROUND_MODES)}"
        )
    if background != "keep":
        return
    if separated is None:
        raise InputError("background 'keep' needs the separated background (separated=...)")
    if separated.rate != original.rate or separated.samples.shape != original.samples.shape:
        raise InputError(
            f"the separated background ({separated.rate} Hz, shape {separated.samples.shape}) "
            f"must match the original ({original.rate} Hz, shape {original.samples.shape})"
        )


def _check(duck_db: float, ramp: Seconds) -> None:
    if duck_db > 0:
        raise InputError(f"duck_db lowers the original and must be <= 0 dB, got {duck_db}")
    if ramp < 0:
        raise InputError(f"ramp must be >= 0 s, got {ramp}")
