"""Dubbing from a translation the user has: ``--target-subtitles`` (a file or a subtitle stream
of the input) instead of the translator, ``--source-subtitles`` instead of the transcriber."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import dubkit
from dubkit.cli.main import cli
from dubkit.media.ffmpeg_bin import ffmpeg_path

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"
# tiny-test's lines of the sample: 0.22-2.24, 3.18-4.42, 5.30-10.52 s
ES = ("1\n00:00:00,200 --> 00:00:02,300\nY así, compatriotas:\n\n"
      "2\n00:00:03,100 --> 00:00:10,600\nno pregunten qué puede hacer su país por ustedes;\n"
      "pregunten qué pueden hacer ustedes por su país.\n")
SECOND = "no pregunten qué puede hacer su país por ustedes; pregunten qué pueden hacer ustedes " \
         "por su país."

pytestmark = pytest.mark.slow


@pytest.fixture
def talk(tmp_path) -> Path:
    shutil.copy(SAMPLE, tmp_path / "talk.mp4")
    (tmp_path / "es.srt").write_text(ES, encoding="utf-8")
    return tmp_path / "talk.mp4"


def _texts(result):
    return [(s.id, s.target_text) for s in result.segments]


def test_the_dub_says_what_the_subtitles_say(talk):
    dubber = dubkit.Dubber(preset="tiny-test")
    result = dubber.translate(talk, to="es", source_language="en",
                              target_subtitles=str(talk.with_name("es.srt")))
    first, second, third = result.segments
    assert first.target_text == "Y así, compatriotas:"
    assert f"{second.target_text} {third.target_text}" == SECOND  # shared out by time
    assert second.target_text and third.target_text
    assert all(s.machine_text == "" and "edited" in s.flags for s in result.segments)
    assert result.work.get("translate", {}).get("computed", 0) == 0  # no translator
    assert all(s.placement is not None for s in result.segments)
    assert result.options["target_subtitles"] == str(talk.with_name("es.srt"))
    # the texts are the user's: a later run without the file keeps them
    again = dubber.translate(talk, to="es", source_language="en")
    assert _texts(again) == _texts(result)


def test_a_subtitle_stream_of_the_input(talk, tmp_path):
    mkv = tmp_path / "talk.mkv"
    subprocess.run([ffmpeg_path(), "-loglevel", "error", "-i", str(talk), "-i",
                    str(tmp_path / "es.srt"), "-map", "0", "-map", "1", "-c", "copy", "-c:s",
                    "srt", str(mkv)], check=True)
    result = dubkit.Dubber(preset="tiny-test").translate(mkv, to="es", source_language="en",
                                                         target_subtitles="track:0")
    assert result.segments[0].target_text == "Y así, compatriotas:"
    with pytest.raises(dubkit.DubkitError, match="track:1: talk.mkv has 1 subtitle stream"):
        dubkit.Dubber(preset="tiny-test").translate(mkv, to="es", source_language="en",
                                                    target_subtitles="track:1", force=True)


def test_source_subtitles_replace_the_transcriber(talk, tmp_path):
    (tmp_path / "en.srt").write_text(
        "1\n00:00:00,200 --> 00:00:02,300\nAnd so, my fellow Americans,\n\n"
        "2\n00:00:05,300 --> 00:00:10,500\nask what you can do for your country.\n",
        encoding="utf-8")
    result = dubkit.Dubber(preset="tiny-test").translate(
        talk, to="ja", source_language="en", source_subtitles=str(tmp_path / "en.srt"))
    first, second, third = result.segments
    assert first.source_text == "And so, my fellow Americans,"
    assert second.source_text == "" and "no-subtitle-cue" in second.flags  # not invented
    assert third.source_text == "ask what you can do for your country."
    assert result.work.get("transcribe", {}).get("computed", 0) == 0


def test_a_bad_subtitle_file_is_one_line_and_writes_nothing(talk, tmp_path):
    (tmp_path / "late.srt").write_text("1\n00:01:00,000 --> 00:01:02,000\nTarde.\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(cli, ["translate", str(talk), "--to", "es", "--from", "en",
                                      "--preset", "tiny-test", "--target-subtitles",
                                      str(tmp_path / "late.srt")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: --target-subtitles {tmp_path / 'late.srt'}: cue 1 starts at 60.000 s, after "
        "the media's end (11.000 s)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    result = CliRunner().invoke(cli, ["translate", str(talk), "--to", "es", "--from", "en",
                                      "--preset", "tiny-seamless", "--mode", "direct",
                                      "--target-subtitles", str(tmp_path / "es.srt")])
    assert result.exit_code == 2 and "needs --mode cascade" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
