"""A content-addressed cache of stage results inside a job folder.

A key is the sha256 of everything a result depends on (inputs, backend, model, options, and
dubkit's own version, since another release may compute a stage differently), so a result is
reused exactly when nothing that made it has changed, and an interrupted job resumes from the
last result written. Results are written atomically.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from dubkit import __version__
from dubkit.jobs.atomic import atomic_path, write_text
from dubkit.types import Audio


def content_key(*parts: Any) -> str:
    """sha256 of the canonical JSON of ``parts`` and the dubkit version."""
    blob = json.dumps([__version__, *parts], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class StageCache:
    """Results per stage under ``folder/<stage>/<key>.json|.wav``.

    With ``enabled=False`` nothing is read back (``--no-resume``) but results are still written.
    ``computed`` and ``reused`` count results per stage, which the job reports.
    """

    def __init__(self, folder: Path, enabled: bool = True) -> None:
        self.folder = Path(folder)
        self.enabled = enabled
        self.computed: Counter[str] = Counter()
        self.reused: Counter[str] = Counter()

    def _path(self, stage: str, key: str, suffix: str) -> Path:
        return self.folder / stage / f"{key}{suffix}"

    def get_json(self, stage: str, key: str) -> Any | None:
        path = self._path(stage, key, ".json")
        if not self.enabled or not path.is_file():
            return None
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a damaged entry is recomputed
        self.reused[stage] += 1
        return value

    def put_json(self, stage: str, key: str, value: Any) -> None:
        path = self._path(stage, key, ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(value, ensure_ascii=False))
        self.computed[stage] += 1

    def audio_path(self, stage: str, key: str) -> Path:
        return self._path(stage, key, ".wav")

    def get_audio(self, stage: str, key: str) -> Audio | None:
        path = self.audio_path(stage, key)
        if not self.enabled or not path.is_file():
            return None
        try:
            samples, rate = sf.read(path, dtype="float32", always_2d=False)
        except (OSError, RuntimeError, sf.LibsndfileError):
            return None
        self.reused[stage] += 1
        return Audio(np.ascontiguousarray(samples.T), rate)

    def put_audio(self, stage: str, key: str, audio: Audio, count: bool = True) -> Path:
        path = self.audio_path(stage, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            # float WAV: the cache must not add quantisation noise between stages
            sf.write(tmp, audio.samples.T, audio.rate, subtype="FLOAT", format="WAV")
        if count:  # False when a JSON record of the same result is counted instead
            self.computed[stage] += 1
        return path
