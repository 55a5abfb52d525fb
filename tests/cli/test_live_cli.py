"""``dubkit live`` and ``dubkit devices`` from the command line (tiny-test preset): the files it
writes, the requests it refuses in one line, and Ctrl-C leaving valid files."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import webvtt
from click.testing import CliRunner

from dubkit import media
from dubkit.cli.main import cli
from dubkit.testing.workers import default_ctrl_c

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"
BASE = ("live", "--preset", "tiny-test", "--to", "es", "--from", "en")


def live(*args: str):
    return CliRunner().invoke(cli, [*BASE, *args], env={"DUBKIT_DEBUG": None})


def test_a_recording_fed_fast_gives_a_recording_captions_and_a_manifest(tmp_path):
    out, vtt = tmp_path / "out.wav", tmp_path / "out.vtt"
    result = live("--input", str(SAMPLE), "--output", str(out), "--captions", str(vtt), "--fast")
    assert result.exit_code == 0, result.output
    assert "phrases spoken" in result.output
    recorded = media.decode_audio(out)
    assert recorded.duration >= media.probe(SAMPLE).duration - 0.1
    cues = webvtt.read(str(vtt))
    assert len(cues) >= 3
    manifest = json.loads((tmp_path / "out.wav.provenance.json").read_text())
    assert manifest["mode"] == "live" and manifest["input"]["name"] == SAMPLE.name
    assert manifest["watermark"]["payload"] and manifest["synthesized"]
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["out.vtt", "out.wav", "out.wav.provenance.json"]  # nothing half-written left


@pytest.mark.parametrize("args, needle", [
    (("--output", "{tmp}/out.mp3"), ".wav"),
    (("--captions", "{tmp}/out.txt"), ".vtt"),
    (("--input-device", "0"), "not both"),
    (("--output", "{tmp}/missing/out.wav"), "does not exist"),
])
def test_bad_requests_are_one_line(tmp_path, args, needle):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = live("--input", str(SAMPLE), "--fast", *args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], lines
    assert "Traceback" not in result.output


def test_an_existing_file_is_kept_without_force(tmp_path):
    out = tmp_path / "out.wav"
    out.write_bytes(b"not ours")
    result = live("--input", str(SAMPLE), "--output", str(out), "--fast")
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_bytes() == b"not ours"


def test_fast_needs_a_recording_and_the_input_must_exist(tmp_path):
    assert live("--fast").exit_code == 2
    result = live("--input", str(tmp_path / "nope.wav"))
    assert result.exit_code == 2 and "nope.wav" in result.output


def test_devices_is_one_line_without_sound_hardware():
    result = CliRunner().invoke(cli, ["devices"])
    if result.exit_code == 0:  # a machine with audio devices lists them
        assert "index" in result.output
        return
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error:")


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_valid_files(tmp_path):
    out, vtt = tmp_path / "out.wav", tmp_path / "out.vtt"
    talk = tmp_path / "talk.wav"  # long enough to be stopped in the middle on a slow machine
    speech = media.decode_audio(SAMPLE, rate=16_000, mono=True)
    media.write_audio(type(speech)(np.tile(speech.samples, 5), speech.rate), talk)
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("DUBKIT_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dubkit.cli.main import main; main()", *BASE,
         "--input", str(talk), "--output", str(out), "--captions", str(vtt)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=default_ctrl_c)
    deadline = time.monotonic() + 120
    while not vtt.exists() and time.monotonic() < deadline:  # the first phrase is out
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "stopped" in stderr and "Traceback" not in stderr
    recorded = media.decode_audio(out)
    assert 0 < recorded.duration < media.probe(talk).duration
    assert len(webvtt.read(str(vtt))) >= 1
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]
    assert (tmp_path / "out.wav.provenance.json").is_file()
