"""One dubkit at a time in a job folder: the second is told who holds it, and nothing it would
have written is touched."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import dubkit
from dubkit.errors import JobBusy
from dubkit.jobs.lock import LOCK_NAME, job_lock
from dubkit.testing.workers import hold_job_lock

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"
def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path):
    job_dir = tmp_path / "talk.ja.dubkit"
    holder = hold_job_lock(job_dir)
    try:
        with pytest.raises(JobBusy, match=rf"another dubkit \(process {holder.pid}\) is "
                                          rf"working in {job_dir}: wait for it"):
            with job_lock(job_dir):
                pass
    finally:
        holder.kill()
        holder.wait()
    with job_lock(job_dir):  # a killed holder leaves no stale lock
        assert (job_dir / LOCK_NAME).is_file()


def test_a_folder_made_for_nothing_is_removed(tmp_path):
    with job_lock(tmp_path / "a.dubkit"):
        pass
    assert not (tmp_path / "a.dubkit").exists()
    with job_lock(tmp_path / "b.dubkit"):
        (tmp_path / "b.dubkit" / "project.json").write_text("{}")
    assert (tmp_path / "b.dubkit" / "project.json").is_file()


@pytest.mark.slow
def test_a_translate_into_a_busy_job_folder_changes_nothing(tmp_path):
    talk = tmp_path / "talk.mp4"
    talk.write_bytes(SAMPLE.read_bytes())
    dubber = dubkit.Dubber(preset="tiny-test")
    first = dubber.translate(talk, to="ja", source_language="en")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
              and p.name != LOCK_NAME}
    holder = hold_job_lock(first.job_dir)
    try:
        started = time.monotonic()
        with pytest.raises(JobBusy, match="another dubkit"):
            dubber.translate(talk, to="ja", source_language="en", resume=False)
        with pytest.raises(JobBusy, match="another dubkit"):
            dubber.render(first.output)
        assert time.monotonic() - started < 10  # refused at once, not after the work
    finally:
        holder.kill()
        holder.wait()
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
             and p.name != LOCK_NAME}
    assert after == before
    json.loads(first.project_file.read_text())  # still valid
