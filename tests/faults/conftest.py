"""Shared by the fault tests: running dubkit (in a subprocess, or in-process for speed), one
uninterrupted reference dub of the sample, and what "the same job" means when two are compared.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from dubkit import media
from dubkit.cli.main import cli
from dubkit.jobs.paths import JobPaths
from dubkit.testing.workers import default_ctrl_c

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"
# --from en: no language detection; tiny random models, so a whole dub takes seconds
JOB_ARGS = ("--to", "ja", "--from", "en", "--preset", "tiny-test")
# the package has no __main__; this is what the console script runs
DUBKIT = (sys.executable, "-c", "from dubkit.cli.main import main; main()")
# a progress bar on stderr: spinner or indent, stage, bar, count, then the time elapsed
PROGRESS_BAR = re.compile(r"^\s*\S?\s*\w+ .*(\d+:\d\d:\d\d|-:--:--)$")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a dubkit subprocess: no key from the caller, wide lines (rich wraps
    at 80 columns otherwise) and ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("DUBKIT_WATERMARK_KEY", "DUBKIT_DEBUG")}
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def start_dubkit(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """dubkit in its own process group (so a kill reaches its ffmpeg children too)."""
    return subprocess.Popen([*DUBKIT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env or clean_env(), start_new_session=True,
                            preexec_fn=default_ctrl_c)


def run_dubkit(*args: str, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*DUBKIT, *args], capture_output=True, text=True,
                          env=env or clean_env(), timeout=timeout)


def invoke(*args: str, env: dict[str, str] | None = None):
    """dubkit in this process (models stay loaded: a dub takes 2-3 s instead of 8), without
    the caller's key or debug setting unless ``env`` sets them."""
    env = {"DUBKIT_WATERMARK_KEY": None, "DUBKIT_DEBUG": None, **(env or {})}
    return CliRunner().invoke(cli, list(args), env=env)


def message_lines(stderr: str) -> list[str]:
    """What dubkit said on stderr, without its progress bars."""
    return [line for line in stderr.splitlines()
            if line.strip() and not PROGRESS_BAR.match(line.rstrip())]


def assert_no_internal_error(stderr: str, stdout: str = "") -> None:
    text = stderr + stdout
    assert "internal error" not in text and "Traceback" not in text, stderr[-3000:]


def assert_one_line(stderr: str, *needles: str) -> str:
    """Exactly one message line on stderr, holding every needle; returns it."""
    assert_no_internal_error(stderr)
    lines = message_lines(stderr)
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def new_workdir(folder: Path) -> Path:
    """``folder`` with a copy of the sample as talk.mp4; returns the input's path."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE, folder / "talk.mp4")
    return folder / "talk.mp4"


def output_of(input_path: Path) -> Path:
    return input_path.with_name("talk.ja.mp4")


def paths_of(output: Path) -> JobPaths:
    return JobPaths.for_output(output, "en")


def beside_output(output: Path) -> list[Path]:
    """Every file a job puts beside its output (the job folder aside)."""
    paths = paths_of(output)
    return [paths.output, paths.subtitles, paths.subtitles_vtt, paths.source_subtitles,
            output.with_name(output.name + ".provenance.json")]


def load_project_json(output: Path) -> dict:
    return json.loads((paths_of(output).job_dir / "project.json").read_text(encoding="utf-8"))


def comparable_project(data: dict, workdir: Path) -> dict:
    """project.json without what differs between two runs of the same job: times, the work
    counters, the random watermark payload and the hashes of files that carry it, the input
    copy's modification time, and the folder the job ran in."""
    data = copy.deepcopy(data)
    for volatile in ("created", "updated", "revision", "timings", "work"):
        data.pop(volatile, None)
    data["input"].pop("mtime_ns", None)
    data["options"]["watermark"].pop("payload", None)
    for hashed in ("media_sha256", "files", "pending"):
        data.get("outputs", {}).pop(hashed, None)
    return json.loads(json.dumps(data).replace(str(workdir), "WORKDIR"))


def comparable_manifest(data: dict) -> dict:
    data = copy.deepcopy(data)
    for volatile in ("created", "files"):
        data.pop(volatile, None)
    data["output"].pop("sha256", None)
    data["watermark"].pop("payload", None)
    return data


@dataclass
class JobSnapshot:
    """What must be the same after any fault and a resume as after an uninterrupted run."""

    project: dict
    segment_wavs: dict[str, str]  # file name -> sha256
    subtitles: dict[str, str]  # file name -> text
    manifest: dict
    streams: list[dict]
    duration: float
    audio_frame: float  # seconds: one frame of the dub's codec


def snapshot(output: Path) -> JobSnapshot:
    paths = paths_of(output)
    workdir = output.parent
    info = media.probe(output)
    streams = [{k: v for k, v in s.items() if k != "index"} for s in info.to_dict()["streams"]]
    rate = info.audio_streams[0].sample_rate
    manifest = json.loads(output.with_name(output.name + ".provenance.json").read_text())
    return JobSnapshot(
        project=comparable_project(load_project_json(output), workdir),
        segment_wavs={p.name: sha256(p) for p in sorted(paths.segments_dir.glob("*.wav"))},
        subtitles={p.name.replace(output.stem, "OUT"): p.read_text(encoding="utf-8")
                   for p in (paths.subtitles, paths.subtitles_vtt, paths.source_subtitles)},
        manifest=comparable_manifest(manifest),
        streams=streams,
        duration=info.duration,
        audio_frame=1024 / rate,  # AAC frames hold 1024 samples
    )


def assert_same_job(got: JobSnapshot, want: JobSnapshot) -> None:
    assert got.project["status"] == "complete", got.project.get("message")
    assert got.project["segments"] == want.project["segments"]
    assert got.project["speakers"] == want.project["speakers"]
    assert got.project == want.project
    assert got.segment_wavs == want.segment_wavs
    assert got.subtitles == want.subtitles
    assert got.manifest == want.manifest
    assert got.streams == want.streams
    assert abs(got.duration - want.duration) <= want.audio_frame


def assert_marked_with_own_payload(output: Path) -> None:
    """``dubkit verify`` finds the mark and the payload is the one project.json records."""
    from dubkit.registry import get_spec, load_class
    from dubkit.watermark.verify import verify_file

    recorded = load_project_json(output)["options"]["watermark"]
    watermarker = load_class(get_spec("watermark", recorded["backend"]))(key=None)
    found = verify_file(output, watermarker).to_dict()
    assert found["watermark"], found
    assert found["job_id"] == recorded["payload"], (found, recorded)


def no_part_files(folder: Path) -> list[Path]:
    """Temporary files left beside the output (the job folder holds its own)."""
    return [p for p in folder.iterdir() if ".part" in p.name]


def file_state(path: Path) -> tuple[int, int] | None:
    """Identity of the file at ``path`` now (None when absent): an atomic rewrite changes it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def wait_for_rewrite(proc: subprocess.Popen, path: Path, before: tuple[int, int] | None,
                     timeout: float = 120) -> bool:
    """Wait until ``proc`` writes ``path`` anew (True) or ends first (False)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        state = file_state(path)
        if state is not None and state != before:
            return True
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} was not written within {timeout} s")
        time.sleep(0.005)
    return False


@dataclass
class Reference:
    """An uninterrupted dub of the sample, run once per session as a subprocess."""

    input: Path
    output: Path
    seconds: float  # wall time of the whole command
    working: float  # seconds from its first write of project.json to its end
    snapshot: JobSnapshot

    def copy_to(self, folder: Path) -> Path:
        """A copy of the finished job (input, outputs, job folder) in ``folder``; returns the
        copy's output. Paths recorded in project.json are rewritten to the copy's."""
        shutil.copytree(self.input.parent, folder)
        project = paths_of(folder / self.output.name).job_dir / "project.json"
        project.write_text(project.read_text().replace(str(self.input.parent), str(folder)))
        return folder / self.output.name


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Reference:
    input_path = new_workdir(tmp_path_factory.mktemp("reference") / "job")
    output = output_of(input_path)
    started = time.monotonic()
    proc = start_dubkit("translate", str(input_path), *JOB_ARGS)
    assert wait_for_rewrite(proc, paths_of(output).job_dir / "project.json", None)
    first_write = time.monotonic()
    stdout, stderr = proc.communicate(timeout=300)
    ended = time.monotonic()
    assert proc.returncode == 0, stderr
    assert_no_internal_error(stderr, stdout)
    return Reference(input_path, output, ended - started, ended - first_write, snapshot(output))


@pytest.fixture(scope="session")
def kit():
    """This module's helpers, handed out as a fixture: test modules cannot import a conftest
    (another test folder's conftest would shadow it)."""
    return sys.modules[__name__]
