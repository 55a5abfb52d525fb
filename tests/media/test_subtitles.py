"""write_subtitles: files that the `srt` and `webvtt` packages read back exactly."""
from __future__ import annotations

from datetime import timedelta

import pytest
import srt
import webvtt

from dubkit.errors import InputError
from dubkit.media import Cue, write_subtitles

CUES = [
    Cue(3.25, 5.0, "Second line,\nin two rows"),
    Cue(0.5, 2.125, "Ask not what your country can do for you"),
    Cue(2.2, 2.9, "   "),  # nothing to show: skipped
    Cue(3661.001, 3662.5, "{braces} stay, & <angles> & back\\slashes"),
]


def test_srt(tmp_path, leftovers):
    path = tmp_path / "dub.srt"
    write_subtitles(CUES, path)
    subs = list(srt.parse(path.read_text(encoding="utf-8")))
    assert [s.index for s in subs] == [1, 2, 3]
    assert [(s.start, s.end) for s in subs] == [
        (timedelta(seconds=0.5), timedelta(seconds=2.125)),
        (timedelta(seconds=3.25), timedelta(seconds=5)),
        (timedelta(seconds=3661, milliseconds=1), timedelta(seconds=3662.5)),
    ]
    assert [s.content for s in subs] == [
        "Ask not what your country can do for you",
        "Second line,\nin two rows",
        "{braces} stay, & <angles> & back\\slashes",
    ]
    assert leftovers(tmp_path) == []


def test_vtt(tmp_path):
    path = tmp_path / "dub.vtt"
    write_subtitles(CUES, path)
    assert path.read_text(encoding="utf-8").startswith("WEBVTT")
    captions = webvtt.read(str(path))
    assert [(c.start, c.end) for c in captions] == [
        ("00:00:00.500", "00:00:02.125"),
        ("00:00:03.250", "00:00:05.000"),
        ("01:01:01.001", "01:01:02.500"),
    ]
    assert captions[1].lines == ["Second line,", "in two rows"]
    # markup characters are escaped, so a player shows them as typed
    assert captions[2].raw_text == "{braces} stay, &amp; &lt;angles&gt; &amp; back\\slashes"


def test_empty_and_replacing(tmp_path):
    path = tmp_path / "none.srt"
    path.write_text("old content")
    write_subtitles([Cue(0, 1, "")], path)
    assert list(srt.parse(path.read_text())) == []


def test_bad_input(tmp_path):
    with pytest.raises(InputError, match=r"cannot write subtitles as \.ass; use \.srt or \.vtt"):
        write_subtitles(CUES, tmp_path / "x.ass")
    with pytest.raises(ValueError):
        Cue(2.0, 1.0, "ends before it starts")
