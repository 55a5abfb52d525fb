"""Turn frame-by-frame speech decisions into speech regions, for any streaming VAD."""
from __future__ import annotations

from dubkit.types import SpeechRegion


class RegionTracker:
    """Speech decisions, one per frame in order, become regions: at least ``min_speech`` long,
    split only by ``min_silence`` of non-speech, padded by ``padding`` on both sides without
    overlapping the previous region. A region is released once the audio up to its padded end
    has been decided, so regions never depend on how the input was chunked.

    Frame ``i`` covers samples ``[i * hop, i * hop + win)`` at ``rate``.
    """

    def __init__(self, hop: int, win: int, rate: int, min_speech: float, min_silence: float,
                 padding: float) -> None:
        self.hop, self.win, self.rate = hop, win, rate
        self.min_speech, self.padding = min_speech, padding
        self.min_gap = max(1, int(round(min_silence * rate / hop)))  # frames
        self._first: int | None = None  # first speech frame of the open region
        self._last = 0  # last speech frame of the open region
        self._closed: list[SpeechRegion] = []  # closed, waiting until their padded end is seen
        self._prev_end = 0.0  # end of the last region closed, seconds

    def step(self, i: int, speech: bool) -> None:
        """Frame ``i``'s decision."""
        if speech:
            if self._first is None:
                self._first = i
            self._last = i
        elif self._first is not None and i - self._last >= self.min_gap:
            self._close()

    def _close(self) -> None:
        start = self._first * self.hop / self.rate
        end = (self._last * self.hop + self.win) / self.rate
        self._first = None
        if end - start < self.min_speech:
            return
        start = max(0.0, self._prev_end, start - self.padding)
        region = SpeechRegion(round(start, 6), round(end + self.padding, 6))
        self._prev_end = region.end
        self._closed.append(region)

    def release(self, decided: float) -> list[SpeechRegion]:
        """Closed regions whose padded end lies within the first ``decided`` seconds."""
        out = []
        while self._closed and self._closed[0].end <= decided:
            out.append(self._closed.pop(0))
        return out

    def finish(self, total: float) -> list[SpeechRegion]:
        """End of input at ``total`` seconds: close the open region, return every region left,
        clamped to the input."""
        if self._first is not None:
            self._close()
        total = round(total, 6)
        out = [SpeechRegion(r.start, min(r.end, total)) for r in self._closed]
        self._closed = []
        return [r for r in out if r.end > r.start]
