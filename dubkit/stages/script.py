"""Lines whose text comes from subtitles the user has (``--target-subtitles``,
``--source-subtitles``, or the review page's SRT import) instead of the translator or the
transcriber.

Cues are matched to lines by time: a cue goes to every line it covers a fair part of, and a cue
spanning several lines is shared out among them by the time each holds, as a translated
sentence is; a line's cues are joined in order. A line no cue reaches gets no invented text: it
is left empty (not dubbed) and flagged ``no-subtitle-cue`` for review. The texts count as the
user's (flag ``edited``): they are never shortened by the translator, and a later run keeps them.
"""
from __future__ import annotations

from collections.abc import Sequence

from dubkit.languages import NO_SPACE
from dubkit.media.subtitles import Cue
from dubkit.translate.spans import share_out
from dubkit.types import Segment

# a cue reaches a line when their overlap is at least this share of the line or of the cue
MIN_SHARE = 0.3
NO_CUE = "no-subtitle-cue"


def texts_from_cues(cues: Sequence[Cue], segments: Sequence[Segment],
                    language: str) -> dict[str, str]:
    """Line id -> the text the cues give it (lines no cue reaches are absent)."""
    parts: dict[int, list[str]] = {}
    for cue in cues:
        overlaps = [(i, min(cue.end, s.end) - max(cue.start, s.start))
                    for i, s in enumerate(segments)]
        overlaps = [(i, o) for i, o in overlaps if o > 0]
        if not overlaps:
            continue
        reached = [(i, o) for i, o in overlaps
                   if o >= MIN_SHARE * min(segments[i].duration or o, cue.end - cue.start)]
        reached = reached or [max(overlaps, key=lambda x: x[1])]
        pieces = share_out(cue.text, [o for _, o in reached], language) \
            if len(reached) > 1 else [cue.text]
        for (i, _), piece in zip(reached, pieces, strict=True):
            if piece:
                parts.setdefault(i, []).append(piece)
    glue = "" if language in NO_SPACE else " "
    return {segments[i].id: glue.join(texts) for i, texts in parts.items()}


def with_target_texts(segments: Sequence[Segment], cues: Sequence[Cue],
                      language: str) -> list[Segment]:
    """Every line's target text from ``cues`` (in ``language``), as the user's."""
    texts = texts_from_cues(cues, segments, language)
    out = []
    for seg in segments:
        flags = tuple(f for f in seg.flags if f not in ("edited", NO_CUE)
                      and not f.startswith("translation-"))
        text = texts.get(seg.id, "")
        flags += ("edited",) if text else (NO_CUE,)
        out.append(seg.replace(target_text=text, machine_text="", flags=flags))
    return out


def with_source_texts(segments: Sequence[Segment], cues: Sequence[Cue],
                      language: str) -> list[Segment]:
    """Every line's source text from ``cues`` (in ``language``) instead of the transcriber's."""
    texts = texts_from_cues(cues, segments, language)
    out = []
    for seg in segments:
        flags = tuple(f for f in seg.flags if f != NO_CUE)
        text = texts.get(seg.id, "")
        out.append(seg.replace(source_text=text, flags=flags if text else flags + (NO_CUE,)))
    return out
