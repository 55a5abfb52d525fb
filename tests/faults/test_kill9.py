"""kill -9 at random points of `dubkit translate`, then the same command again: the finished job
is the one an uninterrupted run makes.

A kill point is drawn from a seeded RNG as a place in the job's progress, not a time: a part of
the job (project.json, one stage's cache, the dubbed lines, the staged outputs, the outputs
beside the input, qa.json), the k-th file the run writes there, then up to JITTER seconds more.
Seconds would not do: the same run takes twice as long on a loaded machine, so points drawn from
one run's duration fall past the end of the next. A resumed run is only killed in parts it still
has to write."""
from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import time

import pytest

from dubkit.jobs.project import load_project

pytestmark = pytest.mark.slow

SEED = 13
KILLS = 20  # kill points in all
KILLS_PER_CHAIN = 5  # each resume is killed again, up to this many times, before one finishes
MAX_CHAINS = 10  # a chain also ends when a run finishes before its kill point
JITTER = 0.4  # seconds: how far past its file a kill may land
STAGES = ("vad", "diarize", "transcribe", "translate", "synthesize", "fit")
# the parts of a job, in the order it writes them ("beside": the outputs beside the input)
AREAS = ("project.json", *(f"cache/{s}" for s in STAGES), "segments", "staging", "beside",
         "qa.json")

Files = dict[str, set[tuple[str, int, int]]]  # area -> (path, inode, mtime): a rewrite is new


def files_by_area(kit, output) -> Files:
    """The files a job has now (temporary ones aside), by the part of the job they belong to."""
    found: Files = {area: set() for area in AREAS}

    def add(area: str, path) -> None:
        try:
            st = path.stat()
        except FileNotFoundError:  # moved while we looked
            return
        if stat.S_ISREG(st.st_mode):
            found[area].add((str(path), st.st_ino, st.st_mtime_ns))

    for path in kit.beside_output(output):
        add("beside", path)
    job = kit.paths_of(output).job_dir
    if job.is_dir():
        for path in job.rglob("*"):
            rel = path.relative_to(job).as_posix()
            area = next((a for a in AREAS if rel == a or rel.startswith(a + "/")), None)
            if area is not None and not path.name.startswith("."):
                add(area, path)
    return found


def expected_files(kit, reference) -> dict[str, int]:
    """How many files an uninterrupted run writes in each part of the job."""
    counts = {area: len(files) for area, files in files_by_area(kit, reference.output).items()}
    counts["staging"] = counts["beside"]  # staged, then moved beside the input
    return counts


def kill_point(rng: random.Random, expected: dict[str, int], present: Files) -> tuple[str, int]:
    """A part of the job this run still writes, and which of its files to kill after."""
    def missing(area: str) -> int:  # a cache entry is written once; the rest every run
        return expected[area] - len(present[area]) if area.startswith("cache/") \
            else expected[area]
    areas = [area for area in AREAS if missing(area) > 0]
    area = rng.choice(areas)
    return area, rng.randint(1, missing(area))


def wait_for_files(kit, proc, output, area: str, count: int, before: Files) -> bool:
    """Wait until ``proc`` has written ``count`` files in ``area`` (True), or ends (False)."""
    seen: set[tuple[str, int, int]] = set()  # staged outputs are moved out again
    while proc.poll() is None:
        seen |= files_by_area(kit, output)[area] - before[area]
        if len(seen) >= count:
            return True
        time.sleep(0.005)
    return False


def where(kit, output) -> str:
    """How far the killed job had got, for the log: the last stage with cached results, and
    whether outputs were staged or placed."""
    paths = kit.paths_of(output)
    if not paths.job_dir.exists():
        return "before the job folder"
    reached = [s for s in STAGES if any((paths.cache_dir / s).glob("*.json"))]
    staged = any(p.is_file() for p in (paths.job_dir / "staging").glob("*"))
    placed = [p.name for p in kit.beside_output(output) if p.exists()]
    return (f"{reached[-1] if reached else 'no cache yet'}"
            f"{', staging' if staged else ''}{', placed ' + str(len(placed)) if placed else ''}")


def check_after_kill(kit, output) -> None:
    """What must hold at any instant: project.json is valid whenever it exists, nothing
    temporary lies beside the output, and every file under a final name is one the job
    recorded as its own (so the resume may replace it without --force)."""
    assert not kit.no_part_files(output.parent)
    project = load_project(kit.paths_of(output).job_dir)  # raises on a damaged file
    recorded = set()
    if project is not None:
        for files in (project.outputs.get("files") or {}, project.outputs.get("pending") or {}):
            recorded |= set(files.items())
    for path in kit.beside_output(output):
        if path.exists():
            assert (path.name, kit.sha256(path)) in recorded, f"{path.name} is not recorded"


def test_kill9_at_random_points_then_resume(kit, reference, tmp_path):
    rng = random.Random(SEED)
    expected = expected_files(kit, reference)
    kills, log = 0, []
    for chain in range(MAX_CHAINS):
        if kills >= KILLS:
            break
        input_path = kit.new_workdir(tmp_path / f"chain{chain}")
        output = kit.output_of(input_path)
        command = ("translate", str(input_path), *kit.JOB_ARGS)
        finished = False
        for _ in range(min(KILLS_PER_CHAIN, KILLS - kills)):
            before = files_by_area(kit, output)
            area, count = kill_point(rng, expected, before)
            jitter = rng.uniform(0.0, JITTER)
            point = f"{jitter:.2f} s after file {count} in {area}"
            proc = kit.start_dubkit(*command)
            if wait_for_files(kit, proc, output, area, count, before):
                try:
                    proc.wait(timeout=jitter)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)  # dubkit and its ffmpeg children
                    _, stderr = proc.communicate()
                    kit.assert_no_internal_error(stderr)
                    kills += 1
                    log.append(f"chain {chain}: killed {point} ({where(kit, output)})")
                    check_after_kill(kit, output)
                    continue
            stdout, stderr = proc.communicate()  # it ended before its kill point
            kit.assert_no_internal_error(stderr, stdout)
            assert proc.returncode == 0, stderr
            log.append(f"chain {chain}: finished before {point}")
            finished = True
            break
        if not finished:  # the same command once more, here (no start-up to pay again)
            done = kit.invoke(*command)
            kit.assert_no_internal_error(done.stderr, done.stdout)
            assert done.exit_code == 0, done.stderr
        kit.assert_same_job(kit.snapshot(output), reference.snapshot)
        kit.assert_marked_with_own_payload(output)
        assert not kit.no_part_files(output.parent)
    print("\n".join(log))
    assert kills >= KILLS, log


def test_temporary_files_a_kill_left_are_removed_on_resume(kit, reference, tmp_path):
    output = reference.copy_to(tmp_path / "job")
    job = kit.paths_of(output).job_dir
    (job / "staging").mkdir(exist_ok=True)
    # what atomic_path leaves when the process dies inside its block
    left = [job / "staging" / ".talk.ja.mp4.k9x2ab_c.part.mp4",
            job / "cache" / "fit" / f".{'0' * 64}.q1w2e3r4.part.wav",
            job / ".project.7h8j9k0l.part.json"]
    for path in left:
        path.write_bytes(b"\0" * 4096)
    done = kit.invoke("translate", str(output.with_name(reference.input.name)), *kit.JOB_ARGS)
    assert done.exit_code == 0, done.stderr
    assert [p for p in left if p.exists()] == []
