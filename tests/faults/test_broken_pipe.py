"""A reader that goes away (``| head -1``) ends dubkit quietly: no traceback, no internal
error, and a job it was running is finished and recorded."""
from __future__ import annotations

import subprocess

import pytest


def run_into_closed_pipe(kit, *args: str) -> subprocess.CompletedProcess:
    """dubkit with a stdout whose reader has already gone: its first write breaks the pipe."""
    proc = subprocess.Popen([*kit.DUBKIT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=kit.clean_env())
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.wait(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", stderr)


def run_into_head(kit, head: str, *args: str) -> subprocess.CompletedProcess:
    """``dubkit ARGS | head HEAD`` in a shell; stderr is dubkit's alone."""
    command = " ".join(f"'{a}'" for a in (*kit.DUBKIT, *args))
    return subprocess.run(["bash", "-c", f"{command} | head {head} >/dev/null"],
                          capture_output=True, text=True, env=kit.clean_env(), timeout=300)


@pytest.mark.parametrize("run", [run_into_closed_pipe, run_into_head])
def test_presets_into_a_closed_pipe(kit, run):
    done = run(kit, "presets") if run is run_into_closed_pipe else run(kit, "-1", "presets")
    kit.assert_no_internal_error(done.stderr)
    assert "Exception ignored" not in done.stderr and "Error" not in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("run", [run_into_closed_pipe, run_into_head])
def test_translate_json_into_a_closed_pipe(kit, reference, tmp_path, run):
    output = reference.copy_to(tmp_path / "job")
    args = ("translate", str(output.with_name(reference.input.name)), *kit.JOB_ARGS, "--json")
    done = run(kit, *args) if run is run_into_closed_pipe else run(kit, "-c 1", *args)
    kit.assert_no_internal_error(done.stderr)
    assert "Exception ignored" not in done.stderr and "Error" not in done.stderr, done.stderr
    assert kit.load_project_json(output)["status"] == "complete"
