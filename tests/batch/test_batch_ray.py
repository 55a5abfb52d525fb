"""The same batch on a local Ray instance with two workers: what the in-process batch gives,
each source analysed once, a worker killed mid-batch replaced and its job retried."""
from __future__ import annotations

import os
import signal

import pytest

import dubkit
from dubkit.batch.report import DONE
from dubkit.jobs.project import load_project

from .conftest import analysed_once

ray = pytest.importorskip("ray", reason="dubkit[batch] (ray) is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _batch(sources, tmp_path, out="out", **kwargs):
    return dubkit.Dubber(preset="tiny-test").batch(
        [sources], ["ja", "es"], out=tmp_path / out, store=tmp_path / "store",
        source_language="en", executor="ray", workers=2, **kwargs)


def _lines(output):
    project = load_project(output.with_suffix("").with_name(output.stem + ".dubkit"))
    return [(s.speaker, s.start, s.end, s.source_text, s.target_text) for s in project.segments]


def test_two_workers_give_what_one_process_gives(local_ray, sources, tmp_path):
    report = _batch(sources, tmp_path)
    assert report.ok and report.executor == "ray (local)" and report.workers == 2
    assert analysed_once(report)
    assert len({j.result["job_dir"] for j in report.jobs}) == 4
    local = dubkit.Dubber(preset="tiny-test").batch(
        [sources], ["ja", "es"], out=tmp_path / "local", store=tmp_path / "local-store",
        source_language="en")
    for job in local.jobs:
        output = tmp_path / "out" / os.path.basename(job.output)
        assert output.is_file() and _lines(output) == _lines(tmp_path / "local" / output.name)
    again = _batch(sources, tmp_path)
    assert again.ok and set(again.computed().values()) == {0}


def test_a_killed_worker_is_replaced_and_its_job_retried(local_ray, sources, tmp_path):
    killed = []

    def kill_the_first_dubs_worker(event):
        if event.kind == "started" and event.task.kind == "dub" and not killed:
            os.kill(event.worker, signal.SIGKILL)
            killed.append(event.task.request.output)

    report = _batch(sources, tmp_path, hook=kill_the_first_dubs_worker)
    assert killed and report.ok, [(j.output, j.error) for j in report.jobs]
    retried = next(j for j in report.jobs if j.output == str(killed[0]))
    assert retried.status == DONE and retried.attempts == 2
    assert all(j.attempts == 1 for j in report.jobs if j is not retried)


def test_without_retries_the_killed_workers_job_fails_alone(local_ray, sources, tmp_path):
    killed = []

    def kill_once(event):
        if event.kind == "started" and event.task.kind == "dub" and not killed:
            os.kill(event.worker, signal.SIGKILL)
            killed.append(str(event.task.request.output))

    report = _batch(sources, tmp_path, retries=0, hook=kill_once)
    [failed] = report.failed
    assert failed.output == killed[0]
    assert failed.error == "its worker died on each of 1 attempts (see the Ray logs)"
    assert sum(j.status == DONE for j in report.jobs) == 3
