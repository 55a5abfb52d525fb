"""A diarizer that says two people talk at once (overlap-aware ones do; dubkit's clustering does
not) gets one line per person over the overlap, each spoken by its speaker's voice, placed at
its own time and mixed together: the dub never merges them into one line."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dubkit import Dubber
from dubkit.types import Turn

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"

pytestmark = pytest.mark.slow


class OverlapDiarizer:
    """JFK's speech as one speaker, with a second one talking over him from 3.0 to 4.5 s."""

    name = "overlap-test"
    embedder = None  # none of its own: speaker profiles and QA go without one

    def diarize(self, audio, regions, num_speakers=None):
        start, end = regions[0].start, regions[-1].end
        return [Turn(start, end, "SPEAKER_00"), Turn(3.0, 4.5, "SPEAKER_01")]


def test_people_talking_at_once_get_a_line_each(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "talk.mp4")
    dubber = Dubber(preset="tiny-test")
    dubber.pipeline.backends._built["diarization"] = OverlapDiarizer()
    result = dubber.translate(tmp_path / "talk.mp4", to="es", source_language="en")
    assert {s.id for s in result.speakers} == {"SPEAKER_00", "SPEAKER_01"}
    second = [s for s in result.segments if s.speaker == "SPEAKER_01"]
    assert len(second) == 1 and (second[0].start, second[0].end) == (3.0, 4.5)
    under = [s for s in result.segments
             if s.speaker == "SPEAKER_00" and s.start < 4.5 and s.end > 3.0]
    assert under, "the first speaker's line under the overlap is kept"
    assert all(s.voice for s in result.speakers)  # each speaker has a voice of their own
    for line in [*second, *under]:
        assert line.placement is not None, line
    # placed at its own start, not pushed after the line it overlaps
    assert second[0].placement.start == pytest.approx(3.0)
    assert max(s.end for s in under) > 3.0
    assert result.output.is_file()
