"""Split long speech into pieces a model can take whole, cutting at pauses.

Direct speech translation models are trained on utterances of a few seconds to about 20; a
minute-long turn is cut into pieces no longer than ``max_len`` that cover all of its speech, in
order. Cuts go into the pauses between speech regions: the longest pause in the later part of
each window where there is one, else the last pause that fits, else (speech with no pause that
long) the quietest 20 ms near the window's end, else an even split.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dubkit.analysis.base import VoiceActivityDetector
from dubkit.errors import InputError
from dubkit.types import Audio, Seconds, SpeechRegion

_FRAME: Seconds = 0.02  # the quietest-point search looks at 20 ms frames
_SEARCH = 0.25  # a cut inside speech is searched in the last quarter of the window
_PREFER = 0.5  # a pause in the second half of a window is preferred to a later, shorter one


def split_at_pauses(
    speech: Audio | Sequence[SpeechRegion],
    max_len: Seconds,
    vad: VoiceActivityDetector | None = None,
) -> list[tuple[Seconds, Seconds]]:
    """``(start, end)`` pieces, in order, each at most ``max_len`` long, that together hold
    every speech region; the pauses between pieces are left out.

    ``speech`` is the audio itself (its regions come from ``vad``, the energy detector by
    default, and cuts inside speech go to its quietest moment) or its speech regions.
    """
    if max_len <= 0:
        raise InputError(f"max_len must be positive, not {max_len}")
    audio = speech if isinstance(speech, Audio) else None
    if audio is not None:
        if vad is None:
            from dubkit.analysis.energy_vad import EnergyVad

            vad = EnergyVad()
        regions = vad.detect(audio.mono())
        if not regions:  # no speech found: treat the whole as speech rather than drop it
            regions = [SpeechRegion(0.0, audio.duration)]
    else:
        regions = sorted(speech, key=lambda r: r.start)
    regions = [r for r in regions if r.end > r.start]
    pieces: list[tuple[Seconds, Seconds]] = []
    i = 0
    while i < len(regions):
        start = regions[i].start
        fits = i  # last region that ends within the window
        while fits + 1 < len(regions) and regions[fits + 1].end - start <= max_len:
            fits += 1
        if regions[fits].end - start <= max_len:
            last = _choose_pause(regions, i, fits, start, max_len)
            pieces.append((start, regions[last].end))
            i = last + 1
            continue
        # One region longer than the window: cut inside it and carry on with its rest.
        cut = _cut_inside(audio, start, regions[i].end, max_len)
        pieces.append((start, cut))
        regions[i] = SpeechRegion(cut, regions[i].end)
    return [(round(float(a), 6), round(float(b), 6)) for a, b in pieces]


def _choose_pause(regions: list[SpeechRegion], first: int, fits: int, start: Seconds,
                  max_len: Seconds) -> int:
    """Index of the region to end the piece with: before the longest pause among those in the
    window's second half, else ``fits`` (everything that fits)."""
    if fits + 1 >= len(regions):
        return fits  # the rest fits whole
    candidates = [k for k in range(first, fits + 1)
                  if regions[k].end - start >= _PREFER * max_len]
    if not candidates:
        return fits
    return max(candidates, key=lambda k: (regions[k + 1].start - regions[k].end, k))


def _cut_inside(audio: Audio | None, start: Seconds, end: Seconds, max_len: Seconds) -> Seconds:
    """Where to cut speech running from ``start`` past ``start + max_len``: its quietest 20 ms
    in the window's last quarter when the audio is known, else evenly."""
    if audio is None:
        parts = int(np.ceil((end - start) / max_len))
        return start + (end - start) / parts
    rate = audio.rate
    samples = audio.mono().samples
    lo, hi = int((start + (1 - _SEARCH) * max_len) * rate), int((start + max_len) * rate)
    frame = max(1, int(_FRAME * rate))
    window = samples[lo:hi]
    if window.size < frame:
        return start + max_len
    frames = window[: window.size // frame * frame].reshape(-1, frame)  # (frames, samples)
    quietest = int(np.argmin((frames.astype(np.float64) ** 2).mean(axis=1)))
    return (lo + quietest * frame + frame // 2) / rate
