"""A finished tiny-test dub of the sample to review."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

import dubkit

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"
TOKEN = "test-token"


@pytest.fixture
def dub(tmp_path) -> Path:
    """The output of a finished dub into Japanese (beside it: its job folder and sidecars)."""
    shutil.copy(SAMPLE, tmp_path / "talk.mp4")
    return dubkit.Dubber(preset="tiny-test").translate(tmp_path / "talk.mp4", to="ja",
                                                        source_language="en").output


def line_audio_hashes(job_dir: Path) -> dict[str, str]:
    """Line id -> sha256 of its fitted dub."""
    return {p.stem: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((job_dir / "segments").glob("*.wav"))}
