"""Subtitle files and streams as input: SRT, WebVTT and ASS read alike, and each way a file can
be unusable named in one error."""
from __future__ import annotations

import pytest

from dubkit.errors import InputError
from dubkit.media.probe import MediaInfo, StreamInfo
from dubkit.media.subtitle_input import check_spec, check_times, parse, track_cues

SRT = "1\n00:00:01,000 --> 00:00:02,500\nHola,\nmundo.\n\n2\n00:00:03,000 --> 00:00:04,000\nAdiós\n"
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHola, mundo.\n"
ASS = ("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, "
       "MarginL, MarginR, MarginV, Effect, Text\n"
       "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}Hola,\\Nmundo.\n"
       "Comment: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,not spoken\n")


@pytest.mark.parametrize("text, fmt", [(SRT, "srt"), (VTT, "vtt"), (ASS, "ass")])
def test_srt_vtt_and_ass_give_the_same_first_cue(text, fmt):
    first = parse(text, fmt, "x")[0]
    assert (first.start, first.end, first.text) == (1.0, 2.5, "Hola, mundo.")


def test_a_file_is_read_at_the_door(tmp_path):
    (tmp_path / "es.srt").write_text(SRT, encoding="utf-8")
    cues = check_spec(str(tmp_path / "es.srt"), "--target-subtitles")
    assert [c.text for c in cues] == ["Hola, mundo.", "Adiós"]
    assert check_spec("track:1", "--target-subtitles") is None  # read once the media is probed


@pytest.mark.parametrize("name, content, message", [
    ("es.srt", SRT.encode("latin-1"), r"es.srt is not UTF-8 text \(byte \d+\)"),
    ("es.srt", b"1\n00:00:02,000 --> 00:00:01,000\nal reves\n",
     r"cue 1 ends before it starts \(2.000 -> 1.000 s\)"),
    ("es.srt", b"", r"no cue with text found"),
    ("es.txt", SRT.encode(), r"not a subtitle file \(accepted: .srt, .vtt, .ass, .ssa\)"),
    ("es.ass", b"[Events]\nFormat: Start\nDialogue: nonsense\n", r"es.ass: no cue with text"),
    ("es.vtt", b"\x00\x01WEBVTT?", r"es.vtt: no cue with text found \(not a readable VTT"),
])
def test_bad_files_are_one_error_naming_the_problem(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=message):
        check_spec(str(tmp_path / name), "--target-subtitles")


def test_missing_file_and_bad_track_spec(tmp_path):
    with pytest.raises(InputError, match="es.srt does not exist"):
        check_spec(str(tmp_path / "es.srt"), "--target-subtitles")
    with pytest.raises(InputError, match="give a file or track:N"):
        check_spec("track:first", "--target-subtitles")


def test_a_cue_past_the_end_of_the_media_is_named():
    cues = parse(SRT, "srt", "x")
    check_times(cues, 4.0, "--target-subtitles es.srt")
    with pytest.raises(InputError, match=r"es.srt: cue 2 starts at 3.000 s, after the media's "
                                         r"end \(2.000 s\)"):
        check_times(cues, 2.0, "--target-subtitles es.srt")


def test_a_subtitle_track_the_media_lacks_is_named():
    info = MediaInfo("talk.mkv", "matroska", 10.0, (StreamInfo(0, "audio", "aac"),
                                                    StreamInfo(1, "subtitle", "subrip")))
    with pytest.raises(InputError, match=r"track:1: talk.mkv has 1 subtitle stream$"):
        track_cues(info, 1, "--target-subtitles")
