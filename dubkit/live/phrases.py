"""Endpointing: a live 16 kHz stream cut into phrases at the pauses the streaming VAD finds, and
cut anyway after ``max_phrase`` seconds so that a speaker who never pauses is still translated."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dubkit.analysis.base import VoiceActivityDetector
from dubkit.errors import InputError
from dubkit.types import ANALYSIS_RATE, Audio, Seconds


@dataclass(frozen=True)
class Phrase:
    """Speech from ``start`` to ``end`` seconds of the stream (``audio`` holds those samples);
    ``cut`` when it was cut at ``max_phrase`` rather than ended by a pause."""

    index: int
    start: Seconds
    end: Seconds
    audio: Audio
    cut: bool = False


class PhraseCutter:
    """``feed(samples)`` returns the phrases that ended in them; ``flush()`` the last one.

    Times count from the first sample fed. Samples are kept only back to the start of the
    open phrase (at most ``max_phrase`` seconds, plus the VAD's look-ahead)."""

    def __init__(self, vad: VoiceActivityDetector, max_phrase: Seconds = 8.0) -> None:
        if max_phrase <= 1.0:
            raise InputError(f"max_phrase must be over 1 s, not {max_phrase}")
        self.vad = vad
        self.max_phrase = max_phrase
        self._stream = vad.stream()
        self._offset = 0  # samples before the VAD stream's time 0 (it restarts after a cut)
        self._fed = 0  # samples fed in all
        self._kept = np.zeros(0, np.float32)  # samples from ``_kept_from`` on
        self._kept_from = 0
        self._since = 0  # sample where the open phrase may have begun (last end, or last cut)
        self._count = 0

    @property
    def position(self) -> Seconds:
        """Seconds fed so far."""
        return self._fed / ANALYSIS_RATE

    def feed(self, samples: np.ndarray) -> list[Phrase]:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._kept = np.concatenate([self._kept, samples])
        self._fed += samples.size
        regions = self._stream.feed(Audio(samples, ANALYSIS_RATE))
        phrases = [self._phrase(r.start, r.end) for r in regions]
        if not regions and self._fed - self._since > self.max_phrase * ANALYSIS_RATE:
            phrases += self._cut()
        self._forget()
        return [p for p in phrases if p is not None]

    def flush(self) -> list[Phrase]:
        phrases = [self._phrase(r.start, r.end) for r in self._stream.flush()]
        self._stream = self.vad.stream()
        self._offset = self._fed
        self._forget()
        return [p for p in phrases if p is not None]

    def _cut(self) -> list[Phrase | None]:
        """The open speech as a phrase now; the VAD starts again from here. When the VAD was
        silent the whole time, nothing is cut, only forgotten."""
        phrases = [self._phrase(r.start, r.end, cut=True) for r in self._stream.flush()]
        self._stream = self.vad.stream()
        self._offset = self._since = self._fed
        return phrases

    def _phrase(self, start: Seconds, end: Seconds, cut: bool = False) -> Phrase | None:
        a = self._offset + int(round(start * ANALYSIS_RATE))
        b = self._offset + int(round(end * ANALYSIS_RATE))
        a, b = max(a, self._kept_from), min(b, self._fed)
        if b <= a:
            return None
        samples = self._kept[a - self._kept_from:b - self._kept_from].copy()
        self._since = max(self._since, b)
        self._count += 1
        return Phrase(self._count - 1, a / ANALYSIS_RATE, b / ANALYSIS_RATE,
                      Audio(samples, ANALYSIS_RATE), cut)

    def _forget(self) -> None:
        """Drop samples no phrase can need: those well before the last phrase's end, and
        anything older than ``max_phrase`` plus a second (no phrase reaches further back)."""
        keep_from = max(self._since - int(1.0 * ANALYSIS_RATE),  # the VAD's padding
                        self._fed - int((self.max_phrase + 1.0) * ANALYSIS_RATE))
        if keep_from > self._kept_from:
            self._kept = self._kept[keep_from - self._kept_from:]
            self._kept_from = keep_from
