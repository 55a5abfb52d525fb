"""``render``: a finished job made again from one of its steps for chosen lines, from its
project.json and cache, without decoding or hashing the input for analysis."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import dubkit
from dubkit import hashing, media
from dubkit.cli.main import cli
from dubkit.errors import InputError
from dubkit.types import ANALYSIS_RATE

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished tiny-test dub of the sample (copied per test, so each may change it)."""
    folder = tmp_path_factory.mktemp("job")
    shutil.copy(SAMPLE, folder / "talk.mp4")
    dubkit.Dubber(preset="tiny-test").translate(folder / "talk.mp4", to="es",
                                                source_language="en")
    return folder


@pytest.fixture
def job(finished, tmp_path):
    folder = tmp_path / "job"
    shutil.copytree(finished, folder)
    # copytree keeps mtimes, so the job's record of its input holds for the copy
    _point_at_copy(folder)
    return folder


def _point_at_copy(folder: Path) -> None:
    project_file = folder / "talk.es.dubkit" / "project.json"
    data = json.loads(project_file.read_text())
    data["input"]["path"] = str(folder / "talk.mp4")
    project_file.write_text(json.dumps(data))


def _edit(project_file: Path, change) -> dict:
    data = json.loads(project_file.read_text())
    change(data["segments"])
    project_file.write_text(json.dumps(data))
    return data


def _no_analysis_reads(monkeypatch):
    """Fail if the input is hashed or decoded at the analysis rate."""
    decode = media.decode_audio

    def decode_for_mix_only(path, *args, rate=None, **kwargs):
        if rate == ANALYSIS_RATE:
            raise AssertionError("the input was decoded for analysis again")
        return decode(path, *args, rate=rate, **kwargs)

    def no_hash(path):
        raise AssertionError(f"{path} was hashed")

    monkeypatch.setattr(media, "decode_audio", decode_for_mix_only)
    monkeypatch.setattr(hashing, "sha256_file", no_hash)
    monkeypatch.setattr("dubkit.pipeline.sha256_file", no_hash)


def test_an_edited_line_is_spoken_again_alone_and_matches_a_rerun(job, monkeypatch):
    output = job / "talk.es.mp4"
    project_file = job / "talk.es.dubkit" / "project.json"
    data = _edit(project_file, lambda lines: lines[1].update(target_text="Hola a todos."))
    rerun_dir = job.parent / "rerun"
    shutil.copytree(job, rerun_dir)
    _point_at_copy(rerun_dir)
    dubber = dubkit.Dubber(preset="tiny-test")
    with monkeypatch.context() as patch:
        _no_analysis_reads(patch)
        rendered = dubber.render(output, "synthesize", lines=[data["segments"][1]["id"]])
    assert rendered.work["synthesize"]["computed"] == 1
    assert all(rendered.work.get(stage, {}).get("computed", 0) == 0
               for stage in ("vad", "diarize", "transcribe", "translate"))
    line = rendered.segments[1]
    assert line.target_text == "Hola a todos." and "edited" in line.flags
    # the same edit taken by a full re-run gives the same lines
    again = dubber.translate(rerun_dir / "talk.mp4", to="es", source_language="en")
    assert [(s.target_text, s.placement, s.speaker) for s in rendered.segments] == \
        [(s.target_text, s.placement, s.speaker) for s in again.segments]
    assert abs(media.probe(output).duration - media.probe(rerun_dir / "talk.es.mp4").duration) \
        < 0.05
    # and the edit stays the user's in a later run
    third = dubber.translate(job / "talk.mp4", to="es", source_language="en")
    assert third.segments[1].target_text == "Hola a todos." and third.model_work == 0


def test_a_line_redone_from_translate_takes_the_machines_text_again(job):
    project_file = job / "talk.es.dubkit" / "project.json"
    data = json.loads(project_file.read_text())
    machine = data["segments"][0]["target_text"]
    data = _edit(project_file, lambda lines: (lines[0].update(target_text="Editado uno."),
                                              lines[1].update(target_text="Editado dos.")))
    first, second = (s["id"] for s in data["segments"][:2])
    rendered = dubkit.Dubber(preset="tiny-test").render(job / "talk.es.mp4", "translate",
                                                        lines=[first])
    assert rendered.segments[0].target_text == machine
    assert "edited" not in rendered.segments[0].flags
    assert rendered.segments[1].target_text == "Editado dos."  # not chosen: kept
    assert json.loads(project_file.read_text())["revision"] > data["revision"]


def test_render_refuses_what_it_cannot_do(job, tmp_path):
    dubber = dubkit.Dubber(preset="tiny-test")
    output = job / "talk.es.mp4"
    with pytest.raises(InputError, match="no line 'nope'"):
        dubber.render(output, "synthesize", lines=["nope"])
    with pytest.raises(InputError, match="cannot render from 'vad'"):
        dubber.render(output, "vad")
    with pytest.raises(InputError, match="no job folder"):
        dubber.render(tmp_path / "other.es.mp4", "mix")
    with pytest.raises(InputError, match="preset"):
        dubkit.Dubber(preset="cpu").render(output, "mix")
    (job / "talk.mp4").write_bytes((job / "talk.mp4").read_bytes() + b"\0")
    with pytest.raises(InputError, match="changed since the job ran"):
        dubber.render(output, "mix")


def test_the_cli_renders_and_errors_in_one_line(job):
    runner = CliRunner()
    ok = runner.invoke(cli, ["render", str(job / "talk.es.mp4"), "--from-step", "mix",
                             "--preset", "tiny-test"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli, ["render", str(job / "talk.es.mp4"), "--lines", "x",
                              "--preset", "tiny-test"])
    assert bad.exit_code != 0 and "no line 'x'" in bad.output
    assert "Traceback" not in bad.output
