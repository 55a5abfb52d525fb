"""Cues matched to lines by time: one cue a line, a cue shared out over the lines it spans, a
line's cues joined, a line no cue reaches left empty and flagged."""
from __future__ import annotations

from dubkit.media.subtitles import Cue
from dubkit.stages.script import NO_CUE, texts_from_cues, with_source_texts, with_target_texts
from dubkit.types import Segment

LINES = [Segment("seg-0001", 0.5, 2.0, "A"), Segment("seg-0002", 2.5, 4.0, "A"),
         Segment("seg-0003", 6.0, 8.0, "B")]


def test_one_cue_a_line_and_a_cue_that_only_grazes_another():
    cues = [Cue(0.4, 2.6, "Hola a todos."), Cue(2.6, 4.0, "Buenas noches.")]
    assert texts_from_cues(cues, LINES, "es") == {"seg-0001": "Hola a todos.",
                                                 "seg-0002": "Buenas noches."}


def test_a_cue_over_two_lines_is_shared_out_by_their_time():
    texts = texts_from_cues([Cue(0.5, 4.0, "Uno dos tres cuatro cinco seis.")], LINES, "es")
    assert texts["seg-0001"] and texts["seg-0002"]
    assert f"{texts['seg-0001']} {texts['seg-0002']}" == "Uno dos tres cuatro cinco seis."


def test_a_lines_cues_are_joined_in_order_without_spaces_in_japanese():
    cues = [Cue(6.0, 7.0, "こんにちは、"), Cue(7.0, 8.0, "みなさん。")]
    assert texts_from_cues(cues, LINES, "ja") == {"seg-0003": "こんにちは、みなさん。"}
    assert texts_from_cues([Cue(6.0, 7.0, "Hi,"), Cue(7.0, 8.0, "all.")], LINES, "en") == \
        {"seg-0003": "Hi, all."}


def test_lines_without_a_cue_are_flagged_not_invented():
    lines = with_target_texts(LINES, [Cue(0.5, 2.0, "Hola.")], "es")
    assert [(s.target_text, s.machine_text) for s in lines] == [("Hola.", ""), ("", ""),
                                                                ("", "")]
    assert lines[0].flags == ("edited",) and lines[1].flags == (NO_CUE,)
    heard = with_source_texts(LINES, [Cue(6.0, 8.0, "Hello there.")], "en")
    assert [s.source_text for s in heard] == ["", "", "Hello there."]
    assert [NO_CUE in s.flags for s in heard] == [True, True, False]
