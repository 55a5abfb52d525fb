"""The review page's lines as SRT, and back: a translator can work on them in any subtitle
editor. The file is read as ``--target-subtitles`` reads one, and its cues go to the lines the
same way (``dubkit.stages.script``)."""
from __future__ import annotations

from collections.abc import Sequence

from dubkit.media import subtitle_input
from dubkit.media.subtitles import Cue, subtitles_text
from dubkit.stages.script import texts_from_cues
from dubkit.types import Seconds, Segment


def lines_to_srt(segments: Sequence[Segment]) -> str:
    """One cue per line, at the line's source times, with its target text."""
    return subtitles_text([Cue(s.start, s.end, s.target_text) for s in segments], "srt")


def srt_to_texts(text: str, segments: Sequence[Segment], language: str,
                 duration: Seconds | None) -> dict[str, str]:
    """Line id -> the text an SRT gives it (lines no cue reaches are absent)."""
    cues = subtitle_input.parse(text, "srt", "the SRT file")
    subtitle_input.check_times(cues, duration, "the SRT file")
    return texts_from_cues(cues, segments, language)
