"""A full disk stops the job with one clear line and nothing partial under a final name; once
there is room, the same command finishes it."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dubkit.jobs.project import load_project

pytestmark = pytest.mark.slow


class SmallDisk:
    """A tmpfs mounted on ``folder`` (we may be root in a container that allows it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.mounted = False

    def mount(self, size: int) -> None:
        options = f"size={size}" if not self.mounted else f"remount,size={size}"
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(self.folder)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
        self.mounted = True

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", str(self.folder)], check=True)
            self.mounted = False


@pytest.fixture
def small_disk(tmp_path):
    folder = tmp_path / "disk"
    folder.mkdir()
    disk = SmallDisk(folder)
    yield disk
    disk.unmount()


def footprint(kit, reference) -> tuple[int, int]:
    """Bytes of the reference job's folder, and of its output media."""
    job = kit.paths_of(reference.output).job_dir
    return (sum(p.stat().st_size for p in job.rglob("*") if p.is_file()),
            reference.output.stat().st_size)


# Where the disk fills, as a share of the room the job needs: its cache, its dubbed lines, its
# output media (written by ffmpeg).
ROOM = {
    "cache": lambda job, media: job // 10,
    "lines": lambda job, media: job * 2 // 3,
    "media": lambda job, media: job + media // 2,
}

@pytest.mark.parametrize("where", ["cache", "lines", "media"])
def test_disk_full_then_resume(kit, reference, tmp_path, small_disk, where):
    job_bytes, media_bytes = footprint(kit, reference)
    size = ROOM[where](job_bytes, media_bytes)
    small_disk.mount(size)
    input_path = kit.new_workdir(tmp_path / "input")
    output = small_disk.folder / "talk.ja.mp4"
    command = ("translate", str(input_path), *kit.JOB_ARGS, "-o", str(output))

    full = kit.invoke(*command)
    assert full.exit_code == 1, full.stderr
    kit.assert_one_line(full.stderr, "no space left on the device", "run the same command again")
    assert not [p for p in small_disk.folder.rglob("*") if ".part" in p.name]
    project = load_project(kit.paths_of(output).job_dir)  # valid whenever it exists
    recorded = {}
    if project is not None:
        recorded = {**(project.outputs.get("files") or {}), **(project.outputs.get("pending")
                                                                or {})}
    for path in kit.beside_output(output):  # complete and the job's own, or absent
        assert not path.exists() or recorded.get(path.name) == kit.sha256(path), path

    small_disk.mount(64 << 20)
    done = kit.invoke(*command)
    kit.assert_no_internal_error(done.stderr, done.stdout)
    assert done.exit_code == 0, done.stderr
    got, want = kit.snapshot(output), reference.snapshot
    assert got.project["status"] == "complete"
    assert got.project["segments"] == want.project["segments"]
    assert got.segment_wavs == want.segment_wavs
    assert got.subtitles == want.subtitles
    assert got.streams == want.streams
