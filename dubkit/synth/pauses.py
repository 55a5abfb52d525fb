"""Lengthen or shorten the pauses inside a line of speech, leaving every word as it was.

Once tempo has reached its bounds, a dub that is still short of its slot gets the difference in
its pauses (as a voice actor stretches a comma), and one that is still long loses it from pauses
longer than it needs. A pause is an interior run of quiet frames (``QUIET_DB`` under the
loudest); silence is inserted or removed at its middle, where the signal is quietest, with
short fades so the joins do not click.
"""
from __future__ import annotations

import numpy as np

from dubkit.types import Audio, Seconds

QUIET_DB = -35.0  # a frame this far under the line's loudest is a pause
FRAME: Seconds = 0.01
MIN_GAP: Seconds = 0.04  # shorter quiet runs are stop closures inside words, not pauses
FADE: Seconds = 0.005


def find_gaps(audio: Audio) -> list[tuple[int, int]]:
    """Interior pauses of ``audio`` as ``(start, end)`` samples, in order."""
    x = audio.mono().samples.astype(np.float64)
    hop = max(1, int(round(FRAME * audio.rate)))
    n = x.size // hop
    if n < 3:
        return []
    power = np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1)  # (frames,)
    if power.max() <= 0.0:
        return []
    quiet = power < power.max() * 10.0 ** (QUIET_DB / 10.0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    runs = edges.reshape(-1, 2)  # [first, one past last] quiet frame of each run
    min_frames = int(round(MIN_GAP / FRAME))
    return [(int(a) * hop, int(b) * hop) for a, b in runs
            if a > 0 and b < n and b - a >= min_frames]


def lengthen_pauses(audio: Audio, extra: Seconds, max_per_pause: Seconds) -> Audio:
    """``audio`` up to ``extra`` seconds longer, by adding silence to its pauses: in proportion
    to their length (a phrase break takes more than a word gap), at most ``max_per_pause``
    to any one and no pause more than doubled (a short one may be a stop consonant's closure,
    which must stay short). Without pauses it is returned as it is."""
    gaps = find_gaps(audio)
    if extra <= 0 or max_per_pause <= 0 or not gaps:
        return audio
    lengths = np.array([b - a for a, b in gaps], dtype=np.float64) / audio.rate
    add = _water_fill(lengths, extra, np.minimum(lengths, max_per_pause))
    return _edit(audio, gaps, np.round(add * audio.rate).astype(np.int64))


def shorten_pauses(audio: Audio, excess: Seconds, min_pause: Seconds) -> Audio:
    """``audio`` up to ``excess`` seconds shorter, by taking silence out of pauses longer than
    ``min_pause`` (never below it), in proportion to what each can give."""
    gaps = find_gaps(audio)
    if excess <= 0 or not gaps:
        return audio
    spare = np.maximum(0.0, np.array([b - a for a, b in gaps]) / audio.rate - min_pause)
    if spare.sum() <= 0:
        return audio
    take = spare * min(1.0, excess / spare.sum())
    return _edit(audio, gaps, -np.round(take * audio.rate).astype(np.int64))


def _water_fill(weights: np.ndarray, total: float, cap: np.ndarray) -> np.ndarray:
    """Shares of ``total`` in proportion to ``weights``, none over its ``cap`` (what a capped
    share cannot take goes to the others)."""
    out = np.zeros_like(weights)
    free = np.ones(weights.size, bool)
    left = min(total, float(cap.sum()))
    while left > 1e-9 and free.any():
        share = left * weights * free / weights[free].sum()
        over = free & (out + share >= cap)
        if not over.any():
            out += share
            break
        left -= float((cap[over] - out[over]).sum())
        out[over] = cap[over]
        free &= ~over
    return out


def _edit(audio: Audio, gaps: list[tuple[int, int]], change: np.ndarray) -> Audio:
    """Insert (``change`` > 0) or remove (< 0) that many samples at the middle of each gap,
    fading out before the join and in after it (inside the gap, so the fades are inaudible)."""
    x = audio.samples.copy()
    fade = max(1, int(round(FADE * audio.rate)))
    down = np.linspace(1.0, 0.0, fade, dtype=x.dtype)
    pieces, pos = [], 0
    for (a, b), k in zip(gaps, change):
        if k == 0:
            continue
        cut = 0 if k > 0 else min(int(-k), b - a - 2 * fade)
        if k < 0 and cut <= 0:
            continue
        lo = (a + b - cut) // 2  # the join: the cut (or insertion) starts here
        hi = lo + cut
        x[..., lo - fade:lo] *= down
        x[..., hi:hi + fade] *= down[::-1]
        pieces.append(x[..., pos:lo])
        if k > 0:
            pieces.append(np.zeros(x.shape[:-1] + (int(k),), x.dtype))
        pos = hi
    pieces.append(x[..., pos:])
    return Audio(np.concatenate(pieces, axis=-1), audio.rate)
