"""A line's speaker and times set by hand in project.json survive a re-run, as its text does;
an edit applies only to the line the machine made the same way."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

import dubkit
from dubkit.jobs.project import line_edits
from dubkit.types import Segment

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"


def _machine(*segments: Segment) -> list[Segment]:
    return line_edits(None, list(segments), {"A", "B"})


def test_an_edit_applies_to_the_same_machine_line_only():
    made = _machine(Segment("seg-0001", 1.0, 2.0, "A"), Segment("seg-0002", 3.0, 4.0, "A"))
    assert made[0].machine_speaker == "A" and made[0].machine_start == 1.0
    edited = [made[0].replace(speaker="B"), made[1].replace(start=3.2, end=3.9)]
    previous = SimpleNamespace(segments=edited)
    again = line_edits(previous, [Segment("seg-0001", 1.0, 2.0, "A"),
                                  Segment("seg-0002", 3.0, 4.0, "A")], {"A", "B"})
    assert again[0].speaker == "B" and "speaker-edited" in again[0].flags
    assert (again[1].start, again[1].end) == (3.2, 3.9) and "timing-edited" in again[1].flags
    assert again[1].machine_start == 3.0  # what the machine gave stays recorded
    # the machine now makes the second line differently: the edit was for another line
    moved = line_edits(previous, [Segment("seg-0001", 1.0, 2.0, "A"),
                                  Segment("seg-0002", 2.9, 4.0, "A")], {"A", "B"})
    assert (moved[1].start, moved[1].end) == (2.9, 4.0) and not moved[1].flags
    # a speaker that no longer exists is not applied
    gone = line_edits(previous, [Segment("seg-0001", 1.0, 2.0, "A")], {"A"})
    assert gone[0].speaker == "A"


@pytest.mark.slow
def test_edited_times_survive_a_rerun_and_only_that_line_is_redone(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "talk.mp4")
    dubber = dubkit.Dubber(preset="tiny-test")
    first = dubber.translate(tmp_path / "talk.mp4", to="es", source_language="en")
    project_file = first.project_file
    data = json.loads(project_file.read_text())
    line = data["segments"][-1]
    line["end"] = round(line["end"] - 0.5, 3)  # the user trims the last line
    project_file.write_text(json.dumps(data))
    again = dubber.translate(tmp_path / "talk.mp4", to="es", source_language="en")
    edited = again.segments[-1]
    assert edited.end == line["end"] and "timing-edited" in edited.flags
    assert edited.machine_end == first.segments[-1].end
    assert again.work["transcribe"]["computed"] == 1  # its new span is heard again, alone
    assert again.work["vad"]["computed"] == 0
    assert all(s.end == f.end for s, f in zip(again.segments[:-1], first.segments[:-1]))
    third = dubber.translate(tmp_path / "talk.mp4", to="es", source_language="en")
    assert third.segments[-1].end == line["end"] and third.model_work == 0  # and it stays


@pytest.mark.slow
def test_an_edited_speaker_survives_and_the_line_takes_their_voice(tmp_path):
    from dubkit import media
    from dubkit.testing.signals import two_voices

    media.write_audio(two_voices()[0], tmp_path / "two.wav")
    dubber = dubkit.Dubber(preset="tiny-test")
    first = dubber.translate(tmp_path / "two.wav", to="es", source_language="en")
    assert {s.speaker for s in first.segments} == {"SPEAKER_00", "SPEAKER_01"}
    before = (first.job_dir / first.segments[0].audio_file).read_bytes()
    data = json.loads(first.project_file.read_text())
    line = data["segments"][0]
    other = next(s["id"] for s in data["speakers"] if s["id"] != line["speaker"])
    line["speaker"] = other
    first.project_file.write_text(json.dumps(data))
    again = dubber.translate(tmp_path / "two.wav", to="es", source_language="en")
    assert again.segments[0].speaker == other and "speaker-edited" in again.segments[0].flags
    assert again.segments[0].machine_speaker == first.segments[0].speaker
    assert (again.job_dir / again.segments[0].audio_file).read_bytes() != before  # new voice
    assert [s.speaker for s in again.segments[1:]] == [s.speaker for s in first.segments[1:]]
