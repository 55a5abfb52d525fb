"""``Dubber.batch`` and ``dubkit batch`` in this process on the tiny-test preset: each source
analysed once, the same lines as ``translate``, failures isolated, re-runs and resumes free."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import dubkit
from dubkit.batch.report import DONE, FAILED, INTERRUPTED, PENDING
from dubkit.cli.main import cli
from dubkit.errors import InputError
from dubkit.jobs.project import load_project
from dubkit.testing.workers import hold_job_lock

from .conftest import analysed_once

pytestmark = pytest.mark.slow


def _batch(sources, tmp_path, **kwargs):
    return dubkit.Dubber(preset="tiny-test").batch(
        [sources], ["ja", "es"], out=tmp_path / "out", store=tmp_path / "store",
        source_language="en", **kwargs)


def _lines(output):
    project = load_project(output.with_suffix("").with_name(output.stem + ".dubkit"))
    return [(s.speaker, s.start, s.end, s.source_text, s.target_text) for s in project.segments]


def test_two_sources_into_two_languages_analysed_once_as_translate_would(sources, tmp_path):
    report = _batch(sources, tmp_path)
    assert report.ok and len(report.jobs) == 4
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix in (".mp4",
                                                                                    ".wav"))
    assert outputs == ["short.es.wav", "short.ja.wav", "talk.es.mp4", "talk.ja.mp4"]
    assert analysed_once(report)
    assert [a.status for a in report.analyses] == [DONE, DONE]
    saved = json.loads((tmp_path / "out" / "batch-report.json").read_text())
    assert saved["counts"] == {"done": 4} and saved["computed"] == report.computed()
    assert {j["language"] for j in saved["jobs"]} == {"ja", "es"}
    assert all(j["steps"] and j["result"]["output"] == j["output"] for j in saved["jobs"])
    # the same lines as translate run on its own
    alone = dubkit.Dubber(preset="tiny-test").translate(
        sources / "talk.mp4", to=["ja", "es"], source_language="en")
    for result in alone:
        assert _lines(result.output) == _lines(tmp_path / "out" / result.output.name)
    # a re-run of the same batch computes nothing
    again = _batch(sources, tmp_path)
    assert again.ok and set(again.computed().values()) == {0}


def test_a_corrupt_input_fails_alone(sources, tmp_path):
    (sources / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    report = _batch(sources, tmp_path)
    assert not report.ok
    failed = report.failed
    assert {j.input for j in failed} == {str(sources / "broken.mp4")}
    assert len(failed) == 2 and all(j.error and "\n" not in j.error for j in failed)
    assert sum(j.status == DONE for j in report.jobs) == 4
    assert not list((tmp_path / "out").glob("broken.*.mp4"))


def test_an_interrupted_batch_resumes_without_redoing_finished_jobs(sources, tmp_path):
    def stop_after_first_dub(event):
        if event.kind == "finished" and event.task.kind == "dub":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _batch(sources, tmp_path, hook=stop_after_first_dub)
    saved = json.loads((tmp_path / "out" / "batch-report.json").read_text())
    statuses = sorted(j["status"] for j in saved["jobs"])
    assert statuses.count(DONE) == 1 and set(statuses) <= {DONE, PENDING, INTERRUPTED}
    finished = next(j["output"] for j in saved["jobs"] if j["status"] == DONE)
    assert not [p for p in (tmp_path / "out").iterdir() if ".part" in p.name]
    report = _batch(sources, tmp_path)
    assert report.ok
    again = next(j for j in report.jobs if j.output == finished)
    assert all(w["computed"] == 0 for w in again.work.values())


def test_a_job_folder_another_dubkit_holds_fails_alone(sources, tmp_path):
    holder = hold_job_lock(tmp_path / "out" / "talk.es.dubkit")
    try:
        report = _batch(sources, tmp_path)
    finally:
        holder.kill()
        holder.wait()
    [busy] = report.failed
    assert busy.output.endswith("talk.es.mp4")
    assert busy.error.startswith(f"another dubkit (process {holder.pid}) is working in ")
    assert sum(j.status == DONE for j in report.jobs) == 3
    assert _batch(sources, tmp_path).ok  # once it is free, the same batch finishes it


def test_bad_requests_fail_before_anything_is_written(sources, tmp_path):
    with pytest.raises(InputError, match="'xx'"):
        dubkit.Dubber(preset="tiny-test").batch([sources], ["ja", "xx"], out=tmp_path / "out",
                                                store=tmp_path / "store")
    assert not (tmp_path / "out").exists() and not (tmp_path / "store").exists()
    with pytest.raises(InputError, match="executor 'dask'"):
        dubkit.Dubber(preset="tiny-test").batch([sources], ["ja"], executor="dask")


def test_cli_prints_a_summary_and_exits_1_when_a_job_failed(sources, tmp_path):
    (sources / "broken.wav").write_bytes(b"RIFF" + bytes(40))
    out, report = tmp_path / "out", tmp_path / "r.json"
    result = CliRunner().invoke(cli, [
        "batch", str(sources), "--to", "ja", "--out", str(out), "--store",
        str(tmp_path / "store"), "--report", str(report), "--preset", "tiny-test",
        "--from", "en"])
    assert result.exit_code == 1, result.output
    assert "2 of 3 jobs done, 1 failed" in result.output
    assert "broken.wav" in result.output
    data = json.loads(report.read_text())
    assert data["counts"] == {"done": 2, "failed": 1}
    assert [j["status"] for j in data["jobs"] if j["input"].endswith("broken.wav")] == [FAILED]


def test_cli_refuses_a_missing_input_in_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "nope.mp4"), "--to", "ja",
                                      "--preset", "tiny-test"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'nope.mp4'} does not "
                                                  "exist"]
