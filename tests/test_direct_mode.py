"""``--mode direct`` and ``text-then-tts`` on the sample video with a tiny random SeamlessM4T v2
loaded through the real transformers loader (the ``tiny-seamless`` preset)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dubkit import media
from dubkit.cli.main import cli

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"

pytestmark = pytest.mark.slow


def dub(talk: Path, *args: str) -> dict:
    out = CliRunner().invoke(cli, ["translate", str(talk), "--preset", "tiny-seamless", "--to",
                                   "es", "--from", "en", "--json", *args],
                             catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def direct_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("direct")
    talk = workdir / "talk.mp4"
    shutil.copy(SAMPLE, talk)
    return talk, dub(talk, "--mode", "direct")


def test_direct_mode_dubs_the_video_with_the_translators_speech(direct_run):
    talk, result = direct_run
    assert result["options"]["mode"] == "direct"
    assert result["work"]["direct"]["computed"] >= 1
    assert "synthesize" not in result["work"]  # the model spoke every line itself
    dubbed = Path(result["output"])
    assert media.video_packet_hashes(dubbed) == media.video_packet_hashes(talk)
    assert abs(media.probe(dubbed).duration - media.probe(talk).duration) <= 0.1
    project = json.loads((Path(result["job_dir"]) / "project.json").read_text())
    placed = [s for s in project["segments"] if s["placement"]]
    assert placed, "no line was dubbed"
    for seg in placed:
        assert seg["source_text"] is not None and seg["audio_file"]


def test_direct_rerun_computes_nothing(direct_run):
    talk, _ = direct_run
    again = dub(talk, "--mode", "direct")
    assert all(v["computed"] == 0 for k, v in again["work"].items() if k != "fit")


def test_an_edited_line_is_spoken_by_the_synthesizer(direct_run):
    talk, result = direct_run
    path = Path(result["job_dir"]) / "project.json"
    project = json.loads(path.read_text())
    project["segments"][0]["target_text"] = "hola a todos"
    path.write_text(json.dumps(project))
    again = dub(talk, "--mode", "direct")
    assert again["work"]["synthesize"]["computed"] == 1
    edited = json.loads(path.read_text())["segments"][0]
    assert edited["target_text"] == "hola a todos" and "edited" in edited["flags"]


def test_text_then_tts_speaks_the_models_text_with_the_synthesizer(tmp_path):
    talk = tmp_path / "talk.mp4"
    shutil.copy(SAMPLE, talk)
    result = dub(talk, "--mode", "text-then-tts")
    assert result["options"]["mode"] == "text-then-tts"
    assert result["work"]["synthesize"]["computed"] >= 1
    assert "translate" not in result["work"]  # no text translator ran


def test_an_unsupported_target_names_the_supported_ones(tmp_path):
    talk = tmp_path / "talk.mp4"
    shutil.copy(SAMPLE, talk)
    out = CliRunner().invoke(cli, ["translate", str(talk), "--preset", "tiny-seamless",
                                   "--to", "el", "--mode", "direct"])
    assert out.exit_code == 2, out.output
    assert "es" in out.output and "Traceback" not in out.output
