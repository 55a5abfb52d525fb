"""dubkit: speech-to-speech translation and dubbing that keeps each speaker's voice and timing.

The public names are imported lazily, so ``import dubkit.types`` (or the CLI's start) does not
pull in the whole pipeline.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# before anything can import onnxruntime: its telemetry is switched off by an environment
# variable read at import time (it otherwise writes ~/.cache/Microsoft and looks up a host)
import dubkit.onnx_session  # noqa: F401, I001

__version__ = "0.1.0.dev0"

_PUBLIC = {
    "Dubber": "dubkit.api",
    "DubResult": "dubkit.api",
    "DiarizationResult": "dubkit.api",
    "BatchReport": "dubkit.batch.report",
    "Interpreter": "dubkit.live.interpreter",
    "Consent": "dubkit.jobs.consent",
    "Preset": "dubkit.config",
    "available_presets": "dubkit.config",
    "load_preset": "dubkit.config",
    "DubkitError": "dubkit.errors",
    "Segment": "dubkit.types",
    "Speaker": "dubkit.types",
    "Turn": "dubkit.types",
}

__all__ = [*_PUBLIC, "__version__"]

if TYPE_CHECKING:  # the lazy names above, for type checkers and IDEs
    from dubkit.api import DiarizationResult, Dubber, DubResult  # noqa: F401
    from dubkit.batch.report import BatchReport  # noqa: F401
    from dubkit.config import Preset, available_presets, load_preset  # noqa: F401
    from dubkit.errors import DubkitError  # noqa: F401
    from dubkit.jobs.consent import Consent  # noqa: F401
    from dubkit.live.interpreter import Interpreter  # noqa: F401
    from dubkit.types import Segment, Speaker, Turn  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'dubkit' has no attribute {name!r}")
