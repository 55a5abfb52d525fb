"""The backends of one preset: a stage's models resolved (found, or assembled from packages)
when the stage is first asked for its fingerprint or backend, and backends built on first use.

So a job whose results all come from the cache loads no model at all, and a command that needs
only the diarizer never touches the transcriber's or translator's files.
"""
from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from dubkit.config import Preset, StageConfig
from dubkit.models import ResolvedModel, resolve_model
from dubkit.registry import create_backend, model_names


def model_fingerprint(model: ResolvedModel) -> str:
    """Identity of a model's files (names and sizes), so a changed model invalidates the cache."""
    listing = sorted(
        (str(p.relative_to(model.path)), p.stat().st_size)
        for p in Path(model.path).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
    return hashlib.sha256(json.dumps([model.name, listing]).encode()).hexdigest()[:16]


class StageBackends:
    """``backends.get("transcription")`` builds and keeps the transcriber the preset names."""

    def __init__(self, preset: Preset) -> None:
        self.preset = preset
        self._built: dict[str, Any] = {}
        self.models: dict[str, ResolvedModel] = {}  # resolved so far, in the order asked
        self._model_stage: dict[str, str] = {}
        self._fingerprints: dict[str, str] = {}

    def _resolve(self, stage: str) -> dict[str, ResolvedModel]:
        """The models ``stage`` names (embedders' and sub-backends' too), resolved once."""
        for name in model_names(self.preset.stages[stage]):
            if name not in self.models:
                self.models[name] = resolve_model(name)
                self._model_stage[name] = stage
                self._fingerprints[name] = model_fingerprint(self.models[name])
        return self.models

    def get(self, stage: str) -> Any:
        if stage not in self._built:
            self._built[stage] = create_backend(stage, self.preset.stages[stage],
                                                self._resolve(stage))
        return self._built[stage]

    def watermarker(self, key: str | None = None) -> Any:
        """The preset's watermarker, keyed by ``key`` when one is given (a new object then: the
        key is never kept in the preset)."""
        if key is None:
            return self.get("watermark")
        config = self.preset.stages["watermark"]
        keyed = StageConfig(config.backend, {**config.options, "key": key})
        return create_backend("watermark", keyed, {})

    def release(self, *stages: str) -> None:
        """Drop the built backends of ``stages`` (a later ``get`` builds them again) and hand
        the freed memory back to the system: models a job is done with stop counting against
        its peak."""
        dropped = [self._built.pop(stage) for stage in stages if stage in self._built]
        if not dropped:
            return
        del dropped
        gc.collect()
        _trim_heap()

    def has(self, stage: str) -> bool:
        return stage in self.preset.stages

    @property
    def loaded(self) -> list[str]:
        """Stages whose backend was built in this process."""
        return list(self._built)

    def fingerprint(self, stage: str) -> str:
        """What a stage's results depend on: backend, options and model files."""
        config = self.preset.stages[stage]
        self._resolve(stage)
        models = [self._fingerprints[n] for n in model_names(config)]
        return hashlib.sha256(
            json.dumps([config.backend, config.options, models], sort_keys=True, default=str)
            .encode()
        ).hexdigest()[:16]

    def model_records(self) -> list[dict[str, str]]:
        """For project.json: each model resolved so far (those whose results a job used), the
        stage using it, where it came from, its license."""
        return [
            {"name": n, "stage": self._model_stage[n], "source": m.source, "path": str(m.path),
             "license": m.license}
            for n, m in self.models.items()
        ]


def _trim_heap() -> None:
    """Return freed heap pages to the system (glibc keeps them otherwise: onnxruntime and
    llama.cpp free hundreds of MB that would still count as resident)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl): nothing to trim
        pass
