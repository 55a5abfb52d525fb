"""Turn diarized speaker turns into dubbing segments of a manageable length."""
from __future__ import annotations

from collections.abc import Sequence

from dubkit.types import Seconds, Segment, SpeechRegion, Turn


def _pauses_inside(turn: Turn, regions: Sequence[SpeechRegion]) -> list[tuple[Seconds, Seconds]]:
    """Silences between consecutive speech regions that fall inside ``turn``."""
    inside = [r for r in regions if r.end > turn.start and r.start < turn.end]
    return [
        (a.end, b.start)
        for a, b in zip(inside, inside[1:])
        if b.start > a.end and turn.start < a.end and b.start < turn.end
    ]


def split_turn(turn: Turn, regions: Sequence[SpeechRegion], max_len: Seconds) -> list[Turn]:
    """Split ``turn`` at its longest pause until every part is at most ``max_len`` long, or no
    pause is left; without pauses a part is cut at equal lengths."""
    if turn.duration <= max_len:
        return [turn]
    pauses = _pauses_inside(turn, regions)
    if pauses:
        start, end = max(pauses, key=lambda p: p[1] - p[0])
        left = Turn(turn.start, start, turn.speaker)
        right = Turn(end, turn.end, turn.speaker)
        return split_turn(left, regions, max_len) + split_turn(right, regions, max_len)
    parts = int(turn.duration // max_len) + 1
    step = turn.duration / parts
    return [
        Turn(turn.start + i * step, turn.start + (i + 1) * step, turn.speaker) for i in range(parts)
    ]


def segments_from_turns(
    turns: Sequence[Turn], regions: Sequence[SpeechRegion], max_len: Seconds
) -> list[Segment]:
    """Segments ``seg-0001``... in time order, none longer than ``max_len``."""
    pieces = [p for t in turns for p in split_turn(t, regions, max_len)]
    pieces.sort(key=lambda t: t.start)
    return [
        Segment(f"seg-{i:04d}", round(p.start, 3), round(p.end, 3), p.speaker)
        for i, p in enumerate(pieces, 1)
    ]
