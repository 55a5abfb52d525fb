"""Every bad input gets one line on stderr, the right exit code, no traceback, no output."""
from __future__ import annotations

import hashlib
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dubkit import media
from dubkit.cli.main import cli
from dubkit.media.ffmpeg_bin import run_ffmpeg
from dubkit.types import Audio

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result, code: int, *needles: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in lines[0]


def translate(path: Path, *extra: str):
    return run("translate", str(path), "--to", "ja", "--preset", "tiny-test", *extra)


def test_missing_file(tmp_path):
    assert_one_line_error(translate(tmp_path / "nope.mp4"), 2, "does not exist")


def test_directory(tmp_path):
    assert_one_line_error(translate(tmp_path), 2, "is a directory")


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp4").touch()
    assert_one_line_error(translate(tmp_path / "empty.mp4"), 2, "empty")


def test_unknown_preset():
    assert_one_line_error(run("translate", str(SAMPLE), "--to", "ja", "--preset", "nope"), 2,
                          "unknown preset", "tiny-test")


def test_unknown_language(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "a.mp4")
    result = run("translate", str(tmp_path / "a.mp4"), "--to", "jp", "--preset", "tiny-test")
    assert_one_line_error(result, 2, "'jp'", "ja")


def test_unsupported_source_language(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "a.mp4")
    assert_one_line_error(translate(tmp_path / "a.mp4", "--from", "xh"), 2, "supported:")


def test_bad_num_speakers(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "a.mp4")
    assert_one_line_error(translate(tmp_path / "a.mp4", "--num-speakers", "0"), 2, "at least 1")


def test_unwritable_output_folder(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "a.mp4")
    assert_one_line_error(translate(tmp_path / "a.mp4", "-o", "/proc/a.ja.mp4"), 2,
                          "not writable")


def _media_cases(tmp_path: Path) -> dict[str, Path]:
    cases = {}
    cases["no audio stream"] = tmp_path / "video-only.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=blue:s=64x64:d=2", "-pix_fmt", "yuv420p",
                str(cases["no audio stream"])])
    cases["corrupt"] = tmp_path / "corrupt.mp4"
    cases["corrupt"].write_bytes(np.random.default_rng(0).bytes(50_000))
    cases["truncated"] = tmp_path / "truncated.mp4"
    data = SAMPLE.read_bytes()
    cases["truncated"].write_bytes(data[: len(data) // 3])
    cases["zero-length"] = tmp_path / "zero.wav"
    with wave.open(str(cases["zero-length"]), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
    cases["silent"] = tmp_path / "silent.wav"
    media.write_audio(Audio(np.zeros(16000 * 3, np.float32), 16000), cases["silent"])
    return cases


@pytest.mark.parametrize("case, needle", [
    ("no audio stream", "no audio stream"),
    ("corrupt", "corrupt.mp4"),
    ("truncated", "truncated.mp4"),
    ("zero-length", "zero"),
    ("silent", "no speech"),
])
def test_bad_media_fails_cleanly(tmp_path, case, needle):
    path = _media_cases(tmp_path)[case]
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = translate(path)
    assert_one_line_error(result, 1, needle)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    outputs = [p for p in tmp_path.iterdir() if ".ja." in p.name and not p.name.endswith(".dubkit")]
    assert outputs == [], "an output was written for bad media"


def test_debug_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(cli, ["--debug", "translate", str(tmp_path / "nope.mp4"), "--to",
                                      "ja", "--preset", "tiny-test"])
    assert result.exit_code != 0
    assert result.exception is not None and "does not exist" in str(result.exception)


def test_unknown_source_code_is_named_as_source(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "a.mp4")
    assert_one_line_error(translate(tmp_path / "a.mp4", "--from", "english"), 2,
                          "'english' is not an ISO 639-1", "source languages")
