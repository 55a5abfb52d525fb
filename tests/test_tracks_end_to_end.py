"""Which audio track is dubbed, what else the output keeps, and what the door refuses: decided
from the probed streams, through the whole tiny-test pipeline."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dubkit import media
from dubkit.cli.main import cli
from dubkit.media.ffmpeg_bin import run_ffmpeg

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_tracks(tmp_path_factory) -> Path:
    """The sample's picture and speech, then a tone track marked default, and a subtitle."""
    d = tmp_path_factory.mktemp("two")
    srt = d / "sub.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:01,500\nHallo\n", encoding="utf-8")
    path = d / "talk.mkv"
    run_ffmpeg(["-y", "-i", str(SAMPLE), "-f", "lavfi", "-i", "sine=f=440:r=44100:d=11",
                "-f", "srt", "-i", str(srt),
                "-map", "0:v", "-map", "0:a", "-map", "1:a", "-map", "2:s",
                "-c:v", "copy", "-c:a", "aac", "-c:s", "srt",
                "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=zxx",
                "-disposition:a:0", "0", "-disposition:a:1", "default", str(path)])
    return path


def translate(path: Path, *extra: str):
    return CliRunner().invoke(cli, ["translate", str(path), "--to", "es", "--from", "en",
                                    "--preset", "tiny-test", "--json", *extra])


def test_the_chosen_track_is_dubbed_and_every_other_stream_is_kept(two_tracks, tmp_path):
    src = shutil.copy(two_tracks, tmp_path / "talk.mkv")
    result = translate(Path(src), "--audio-track", "0")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["options"]["audio_track"] == 0
    info = media.probe(Path(out["output"]))
    kinds = [(s.kind, s.language) for s in info.streams]
    # picture, the dub, the dubbed original, the other track, the subtitle
    assert [(k, lang) for k, lang in kinds if k != "video"] == [
        ("audio", "spa"), ("audio", "eng"), ("audio", "zxx"), ("subtitle", None)]
    assert [s.default for s in info.audio_streams] == [True, False, False]


def test_the_default_track_is_the_one_marked_default(two_tracks, tmp_path):
    src = shutil.copy(two_tracks, tmp_path / "talk.mkv")
    result = translate(Path(src))
    # the default track is a tone: nothing to dub, and it says so, rather than dubbing track 0
    assert result.exit_code == 1 and "no speech" in result.stderr, result.stderr


def test_a_track_that_does_not_exist_lists_the_tracks(two_tracks, tmp_path):
    src = Path(shutil.copy(two_tracks, tmp_path / "talk.mkv"))
    result = translate(src, "--audio-track", "5")
    assert result.exit_code == 2
    assert "0: eng" in result.stderr and "1: zxx" in result.stderr
    assert not (tmp_path / "talk.es.dubkit").exists()


def test_video_in_a_file_named_wav_is_refused_before_any_work(tmp_path):
    fake = tmp_path / "clip.wav"
    shutil.copy(SAMPLE, fake)  # an mp4 under a .wav name
    result = translate(fake)
    assert result.exit_code == 2, result.stderr
    assert "holds video" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.wav"]
