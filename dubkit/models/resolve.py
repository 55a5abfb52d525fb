"""Resolve a model name to a folder by trying its sources in order."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dubkit.errors import ModelUnavailable
from dubkit.models.catalog import get_model
from dubkit.models.sources import SourceMiss


def cache_dir() -> Path:
    """dubkit's cache root: ``$DUBKIT_CACHE_DIR``, else the user's cache folder."""
    if os.environ.get("DUBKIT_CACHE_DIR"):
        return Path(os.environ["DUBKIT_CACHE_DIR"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dubkit"))


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    source: str  # which source provided it, as described to the user
    license: str


def resolve_model(name: str) -> ResolvedModel:
    """The model's folder from the first source that has it, or ``ModelUnavailable`` naming
    every source tried and why each failed."""
    entry = get_model(name)
    misses = []
    for source in entry.sources:
        try:
            path = source.fetch(name, cache_dir())
        except SourceMiss as miss:
            misses.append(f"{source.describe()}: {miss}")
            continue
        return ResolvedModel(name, path, source.describe(), entry.license)
    raise ModelUnavailable(f"model {name!r} is not available; tried " + "; ".join(misses))


@dataclass(frozen=True)
class ModelStatus:
    name: str
    available: bool
    source: str  # the source that has it, or "" when none
    detail: str  # its folder, or what each source lacks and how to provide it


def model_status(name: str) -> ModelStatus:
    """Where ``name`` would come from, checked without downloading or building anything."""
    entry = get_model(name)
    reasons = []
    for source in entry.sources:
        ok, detail = source.check(name, cache_dir())
        if ok:
            return ModelStatus(name, True, source.describe(), detail)
        reasons.append(detail)
    return ModelStatus(name, False, "", "; ".join(reasons))
