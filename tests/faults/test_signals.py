"""Ctrl-C and SIGTERM stop a job cleanly, and the same command then finishes it: every line
dubbed with its machine text (an interrupted translation is not the user's edit), nothing left
in the temporary folder."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from dubkit import media
from dubkit.api import Dubber

pytestmark = pytest.mark.slow

DROP = ("--background", "drop")  # the dub alone on its track: silence is silence
INTERRUPTED = "interrupted: run the same command again to resume"
TERMINATED = "terminated: run the same command again to resume"


def entries(folder: Path, pattern: str = "*.json") -> list[Path]:
    """Files in ``folder`` matching ``pattern``; a cache entry being written (a hidden
    temporary file) counts only when ``pattern`` asks for hidden names."""
    return [p for p in folder.glob(pattern)
            if pattern.startswith(".") or not p.name.startswith(".")]


def wait_for_entry(proc: subprocess.Popen, folder: Path, pattern: str = "*.json",
                   timeout: float = 120) -> bool:
    """Wait until a file matching ``pattern`` (a cache entry) appears in ``folder`` (True), or
    ``proc`` ends (False)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if entries(folder, pattern):
            return True
        assert time.monotonic() < deadline, f"nothing came into {folder}"
        time.sleep(0.002)
    return False


def dbfs(samples: np.ndarray) -> float:
    return 10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1e-20)


def assert_every_line_dubbed(kit, reference, output: Path) -> None:
    """Each line has its machine text and no edit flag, the lines are the uninterrupted run's,
    and the dub track sounds where each line was placed (and only there: the track really is
    the dub)."""
    project = kit.load_project_json(output)
    assert project["status"] == "complete"
    for seg in project["segments"]:
        assert seg["machine_text"] is not None and seg["machine_text"] == seg["target_text"], seg
        assert "edited" not in seg["flags"], seg
        assert seg["audio_file"] and seg["placement"], seg
    assert project["segments"] == reference.snapshot.project["segments"]
    dub = media.decode_audio(output, rate=16_000, mono=True).samples  # the first audio track
    quiet = np.ones(dub.size, bool)
    for seg in project["segments"]:
        a, b = (int(seg["placement"][k] * 16_000) for k in ("start", "end"))
        assert dbfs(dub[a:b]) > -40, f"{seg['id']} is silent in the dub"
        quiet[max(0, a - 1600):b + 1600] = False  # 0.1 s of ramp and codec delay either side
    assert dbfs(dub[quiet]) < -60, "the first audio track is not the dub alone"


def test_ctrl_c_during_translation_then_resume(kit, reference, tmp_path):
    total = len(entries(kit.paths_of(reference.output).cache_dir / "translate"))
    for attempt in range(3):  # the translate stage is short: the signal may come too late
        input_path = kit.new_workdir(tmp_path / f"try{attempt}")
        output = kit.output_of(input_path)
        translated = kit.paths_of(output).cache_dir / "translate"
        proc = kit.start_dubkit("translate", str(input_path), *kit.JOB_ARGS, *DROP)
        caught = wait_for_entry(proc, translated)
        if caught:
            os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
        _, stderr = proc.communicate(timeout=120)
        inside = caught and 0 < len(entries(translated)) < total
        if inside and proc.returncode == 130:
            break
    else:
        pytest.fail("Ctrl-C never came while the translate stage ran")
    assert kit.message_lines(stderr) == [INTERRUPTED], stderr
    kit.assert_no_internal_error(stderr)
    stopped = kit.load_project_json(output)
    assert stopped["status"] == "interrupted" and stopped["message"] == INTERRUPTED
    assert all(seg["machine_text"] is None for seg in stopped["segments"])

    done = kit.run_dubkit("translate", str(input_path), *kit.JOB_ARGS, *DROP)
    kit.assert_no_internal_error(done.stderr, done.stdout)
    assert done.returncode == 0, done.stderr
    assert_every_line_dubbed(kit, reference, output)
    assert json.loads(kit.paths_of(output).job_dir.joinpath("project.json").read_text())[
        "work"]["translate"]["reused"] >= 1, "the resume did not start from the cache"


class InterruptOnFirstCall:
    """A translator backend's method that acts like Ctrl-C the first time it is called."""

    def __init__(self, method) -> None:
        self.method, self.calls = method, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            raise KeyboardInterrupt
        return self.method(*args, **kwargs)


def test_interrupt_inside_the_translator_then_resume(kit, reference, tmp_path):
    input_path = kit.new_workdir(tmp_path / "job")
    output = kit.output_of(input_path)
    dubber = Dubber(preset="tiny-test")
    translator = dubber.pipeline.backends.get("translation")
    name = "translate_with_flags" if hasattr(translator, "translate_with_flags") else "translate"
    wrapped = InterruptOnFirstCall(getattr(translator, name))
    setattr(translator, name, wrapped)
    options = dict(to="ja", source_language="en", background="drop")
    with pytest.raises(KeyboardInterrupt):
        dubber.translate(input_path, **options)
    stopped = kit.load_project_json(output)
    assert stopped["status"] == "interrupted"
    assert stopped["segments"] and all(s["machine_text"] is None for s in stopped["segments"])

    result = dubber.translate(input_path, **options)
    assert wrapped.calls > 1
    assert all("edited" not in s.flags for s in result.segments)
    assert_every_line_dubbed(kit, reference, output)


def left_in(temp: Path) -> list[str]:
    """What is left in the temporary folder, but torch's own per-user compile cache, which
    importing transformers makes there and keeps on purpose."""
    return sorted(p.name for p in temp.iterdir() if not p.name.startswith("torchinductor_"))


# when SIGTERM comes: while lines are synthesized, or while ffmpeg writes the media
MOMENTS = {"synthesis": ("cache/synthesize", "*.json"), "mux": ("staging", ".*.part*")}


@pytest.mark.parametrize("moment", MOMENTS)
def test_sigterm_stops_cleanly_and_leaves_no_temporary_files(kit, reference, tmp_path, moment):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = kit.clean_env(TMPDIR=str(temp))
    input_path = kit.new_workdir(tmp_path / "job")
    output = kit.output_of(input_path)
    command = ("translate", str(input_path), *kit.JOB_ARGS)
    proc = kit.start_dubkit(*command, env=env)
    job = kit.paths_of(output).job_dir
    folder, pattern = MOMENTS[moment]
    assert wait_for_entry(proc, job / folder, pattern), f"the job ended before its {moment}"
    proc.send_signal(signal.SIGTERM)  # to dubkit alone, as `kill PID` does
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert kit.message_lines(stderr) == [TERMINATED], stderr
    stopped = kit.load_project_json(output)
    assert stopped["status"] == "interrupted", stopped.get("message")
    assert left_in(temp) == []
    assert not kit.no_part_files(output.parent)
    assert not list((job / "staging").glob(".*.part*")), "ffmpeg's file was left behind"

    done = kit.run_dubkit(*command, env=env)
    kit.assert_no_internal_error(done.stderr, done.stdout)
    assert done.returncode == 0, done.stderr
    kit.assert_same_job(kit.snapshot(output), reference.snapshot)
    assert left_in(temp) == []
