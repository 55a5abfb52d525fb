"""The whole CLI on the sample video with the tiny-test preset: files, streams, resume, edits."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import srt
import webvtt
from click.testing import CliRunner

from dubkit import media
from dubkit.cli.main import cli
from dubkit.jobs.project import validate_project

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"
MODEL_STAGES = ("vad", "diarize", "language", "transcribe", "translate", "synthesize")

pytestmark = pytest.mark.slow


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dub(workdir: Path, *args: str, name: str = "talk.mp4"):
    runner = CliRunner()
    return runner.invoke(
        cli, ["translate", str(workdir / name), "--preset", "tiny-test", "--json", *args],
        catch_exceptions=False,
    )


def computed(result_json: dict) -> dict[str, int]:
    return {k: v["computed"] for k, v in result_json["work"].items() if k in MODEL_STAGES}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e")
    shutil.copy(SAMPLE, workdir / "talk.mp4")
    before = sha256(workdir / "talk.mp4")
    result = dub(workdir, "--to", "ja", "--from", "en")
    assert result.exit_code == 0, result.stderr
    assert sha256(workdir / "talk.mp4") == before, "the input was modified"
    return workdir, json.loads(result.stdout)


def test_outputs_are_written_beside_the_input(first_run):
    workdir, out = first_run
    assert Path(out["output"]) == workdir / "talk.ja.mp4"
    assert (workdir / "talk.ja.srt").is_file()
    assert (workdir / "talk.ja.vtt").is_file()
    assert (workdir / "talk.ja.en.srt").is_file()
    assert (workdir / "talk.ja.dubkit" / "project.json").is_file()
    assert out["source_language"] == "en" and out["target_language"] == "ja"
    assert out["preset"] == "tiny-test"
    assert out["segments"] >= 1 and out["speakers"] >= 1
    assert set(out["timings"]) >= {"decode", "vad", "transcribe", "synthesize", "mux"}
    assert not [p for p in workdir.rglob("*.part*")], "a temporary file was left behind"


def test_video_is_copied_and_audio_tracks_are_ordered(first_run):
    workdir, _ = first_run
    source, dubbed = workdir / "talk.mp4", workdir / "talk.ja.mp4"
    assert media.video_packet_hashes(dubbed) == media.video_packet_hashes(source)
    info_in, info_out = media.probe(source), media.probe(dubbed)
    assert abs(info_out.duration - info_in.duration) <= 0.1
    audio = info_out.audio_streams
    assert len(audio) == 2
    assert [a.language for a in audio] == ["jpn", "eng"]
    assert audio[1].codec == info_in.audio_streams[0].codec
    decoded = media.decode_audio(dubbed)
    assert abs(decoded.duration - media.decode_audio(source).duration) <= 0.1


def test_subtitles_parse_and_match_segments(first_run):
    workdir, out = first_run
    target = list(srt.parse((workdir / "talk.ja.srt").read_text(encoding="utf-8")))
    source = list(srt.parse((workdir / "talk.ja.en.srt").read_text(encoding="utf-8")))
    vtt = webvtt.read(str(workdir / "talk.ja.vtt"))
    project = json.loads((workdir / "talk.ja.dubkit" / "project.json").read_text())
    spoken = [s for s in project["segments"] if s["target_text"].strip()]
    assert len(target) == len(vtt.captions) == len(spoken)
    assert len(source) == len([s for s in project["segments"] if s["source_text"].strip()])
    for cue, seg in zip(target, spoken):
        assert abs(cue.start.total_seconds() - seg["placement"]["start"]) < 0.01


def test_project_json_validates_and_records_the_job(first_run):
    workdir, _ = first_run
    project = json.loads((workdir / "talk.ja.dubkit" / "project.json").read_text())
    validate_project(project)
    assert project["status"] == "complete"
    assert project["input"]["sha256"] == sha256(workdir / "talk.mp4")
    assert {m["name"] for m in project["models"]} == {"tiny-whisper", "tiny-t5", "tiny-vits"}
    for seg in project["segments"]:
        if seg["placement"]:
            assert 0.85 <= seg["placement"]["tempo"] <= 1.2
            assert seg["placement"]["start"] == seg["start"]
            assert (workdir / "talk.ja.dubkit" / seg["audio_file"]).is_file()


def test_second_run_does_no_model_work(first_run):
    workdir, _ = first_run
    result = dub(workdir, "--to", "ja", "--from", "en")
    assert result.exit_code == 0, result.stderr
    work = json.loads(result.stdout)["work"]
    assert {"vad", "diarize", "transcribe", "translate", "synthesize", "qa"} <= set(work)
    stages = (*MODEL_STAGES, "qa")  # the quality report is not measured again either
    assert all(work[stage]["computed"] == 0 for stage in stages if stage in work)
    assert all(work[stage]["reused"] > 0 for stage in stages if stage in work)


def test_edited_line_is_the_only_one_resynthesized(first_run):
    workdir, out = first_run
    project_file = workdir / "talk.ja.dubkit" / "project.json"
    project = json.loads(project_file.read_text())
    project["segments"][0]["target_text"] = "こんにちは、みなさん"
    project_file.write_text(json.dumps(project, ensure_ascii=False))
    result = dub(workdir, "--to", "ja", "--from", "en")
    assert result.exit_code == 0, result.stderr
    work = computed(json.loads(result.stdout))
    assert work["synthesize"] == 1
    assert sum(work.values()) == 1
    assert json.loads(result.stdout)["work"]["qa"]["computed"] == 1  # that line alone
    project = json.loads(project_file.read_text())
    assert project["segments"][0]["target_text"] == "こんにちは、みなさん"
    assert "edited" in project["segments"][0]["flags"]


def test_killed_job_resumes_where_it_stopped(tmp_path, monkeypatch):
    shutil.copy(SAMPLE, tmp_path / "talk.mp4")
    from dubkit.synth import hf_vits

    real = hf_vits.HFVitsSynthesizer.synthesize

    def killed(self, *args, **kwargs):
        raise KeyboardInterrupt  # as if Ctrl-C came while the first line was being spoken

    monkeypatch.setattr(hf_vits.HFVitsSynthesizer, "synthesize", killed)
    result = CliRunner().invoke(cli, ["translate", str(tmp_path / "talk.mp4"), "--to", "es",
                                      "--from", "en", "--preset", "tiny-test", "--json"])
    assert result.exit_code == 130
    assert "resume" in result.stderr
    assert not (tmp_path / "talk.es.mp4").exists()
    monkeypatch.setattr(hf_vits.HFVitsSynthesizer, "synthesize", real)
    result = dub(tmp_path, "--to", "es", "--from", "en")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    work = computed(out)
    assert work.get("transcribe", 0) == 0 and work.get("translate", 0) == 0
    project = json.loads((tmp_path / "talk.es.dubkit" / "project.json").read_text())
    assert project["work"]["transcribe"]["reused"] == out["segments"]
    voices = {s["id"]: s["voice"] for s in project["speakers"]}
    distinct_lines = {(s["target_text"], voices[s["speaker"]]) for s in project["segments"]}
    assert work["synthesize"] == len(distinct_lines)  # the same line in the same voice is reused


def test_existing_output_needs_force(first_run):
    workdir, _ = first_run
    foreign = workdir / "other.ja.mp4"
    foreign.write_bytes(b"somebody else's file")
    result = dub(workdir, "--to", "ja", "--from", "en", "-o", str(foreign))
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert foreign.read_bytes() == b"somebody else's file"
    result = dub(workdir, "--to", "ja", "--from", "en", "-o", str(foreign), "--force")
    assert result.exit_code == 0, result.stderr
    assert media.probe(foreign).has_video


def test_audio_input_gives_audio_output_of_the_same_format(tmp_path):
    original = media.decode_audio(SAMPLE)
    media.write_audio(original, tmp_path / "talk.flac")
    result = dub(tmp_path, "--to", "es", name="talk.flac")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    info = media.probe(Path(out["output"]))
    assert Path(out["output"]).suffix == ".flac"
    assert not info.has_video and len(info.audio_streams) == 1
    assert info.audio_streams[0].codec == "flac"
    assert abs(info.duration - original.duration) <= 0.1
    # the source language was detected and names the source subtitles
    assert Path(out["subtitles"][out["source_language"]]).is_file()


def test_diarize_writes_rttm(tmp_path):
    rttm = tmp_path / "jfk.rttm"
    result = CliRunner().invoke(cli, ["diarize", str(SAMPLE), "--preset", "tiny-test",
                                      "--rttm", str(rttm)])
    assert result.exit_code == 0, result.stderr
    lines = rttm.read_text().splitlines()
    assert lines and all(line.startswith("SPEAKER jfk 1 ") for line in lines)


def test_diarize_of_silence_says_so_and_fails(tmp_path):
    from dubkit import media
    from dubkit.types import Audio

    silent = tmp_path / "silent.wav"
    media.write_audio(Audio(np.zeros(16000 * 3, np.float32), 16000), silent)
    rttm = tmp_path / "silent.rttm"
    result = CliRunner().invoke(cli, ["diarize", str(silent), "--preset", "tiny-test",
                                      "--rttm", str(rttm)])
    assert result.exit_code == 1 and not rttm.exists()
    assert result.stderr.strip().splitlines() == [
        "error: no speech found in silent.wav: nobody to diarize"], result.stderr


def test_presets_and_doctor_list_tiny_test():
    result = CliRunner().invoke(cli, ["presets"])
    assert result.exit_code == 0
    assert any(line.startswith("tiny-test ") for line in result.stdout.splitlines())
    result = CliRunner().invoke(cli, ["doctor"])
    assert "ffmpeg" in result.stdout and "preset tiny-test" in result.stdout
