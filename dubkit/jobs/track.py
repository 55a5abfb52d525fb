"""The job's analysis track (16 kHz mono, as decoded for the analysis) kept in the job folder,
so that a render re-times and re-voices lines without decoding and hashing the input again.

It is kept as 16-bit FLAC (about 30 KB a second of audio, where float WAV would take 64 KB):
the results cached under the decoded samples' id stay valid, and what a render computes anew
(a line whose times the user changed) differs from the float samples by quantisation noise
96 dB down.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from dubkit.errors import ProjectError
from dubkit.jobs.atomic import atomic_path
from dubkit.types import Audio

TRACK_FILE = "analysis/track.flac"


def store_track(job_dir: Path, audio: Audio, audio_sha256: str) -> dict[str, Any]:
    """Write ``audio`` to the job folder; the record project.json keeps of it."""
    path = Path(job_dir) / TRACK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        # by path, not through an in-memory file: soundfile's callbacks into Python swallow
        # a Ctrl-C or SIGTERM arriving mid-write
        sf.write(tmp, np.clip(audio.samples, -1.0, 1.0), audio.rate, format="FLAC",
                 subtype="PCM_16")
        data = tmp.read_bytes()
    return {"file": TRACK_FILE, "sha256": hashlib.sha256(data).hexdigest(),
            "samples_sha256": audio_sha256, "rate": audio.rate}


def load_track(job_dir: Path, record: dict[str, Any] | None) -> tuple[Audio, str]:
    """The stored track and the id of the samples it was made from (what cached results are
    keyed by). A missing or damaged file is an error naming the way out."""
    way_out = "run `dubkit translate` again to rebuild the job"
    if not record or "file" not in record:
        raise ProjectError(f"{job_dir} keeps no analysis track (made by an older dubkit): "
                           f"{way_out}")
    path = Path(job_dir) / record["file"]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"{path} cannot be read ({exc.strerror}): {way_out}") from None
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        raise ProjectError(f"{path} is damaged (checksum mismatch): {way_out}")
    samples, rate = sf.read(path, dtype="float32")  # by path: see store_track
    return Audio(samples, rate), str(record["samples_sha256"])
