"""Two short sources for batch tests: the sample, and its first 6 s as a WAV file."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dubkit.media.ffmpeg_bin import ffmpeg_path

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"
ANALYSIS = ("vad", "diarize", "transcribe")  # steps that depend on the source alone


@pytest.fixture
def sources(tmp_path) -> Path:
    """A folder with ``talk.mp4`` (the sample) and ``short.wav`` (its first 6 s)."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "talk.mp4")
    subprocess.run([ffmpeg_path(), "-loglevel", "error", "-i", str(SAMPLE), "-t", "6", "-vn",
                    str(folder / "short.wav")], check=True)
    return folder


def analysed_once(report) -> bool:
    """Every source-only step computed by exactly one task per source."""
    for source in {j.input for j in report.jobs}:
        tasks = [r for r in [*report.jobs, *report.analyses] if r.input == source]
        for step in ANALYSIS:
            computing = [r for r in tasks if r.work.get(step, {}).get("computed", 0) > 0]
            if len(computing) != 1:
                return False
    return True
