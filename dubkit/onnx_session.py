"""onnxruntime, imported one way: its telemetry off before it starts.

onnxruntime's official wheels (1DS telemetry, checked with 1.32) start telemetry when the module
is imported: they write ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/`` (a device id and a
SQLite event store) and, seconds later, look up ``mobile.events.data.microsoft.com``. Only
``ORT_DISABLE_TELEMETRY=1`` set before that import stops both; ``disable_telemetry_events()``
called after it stops neither (strace). So this module sets the variable as it is imported,
and dubkit imports it before anything can import onnxruntime.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from dubkit.errors import BackendUnavailable

log = logging.getLogger(__name__)

_ALREADY_IMPORTED = "onnxruntime" in sys.modules and "ORT_DISABLE_TELEMETRY" not in os.environ
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # a user's explicit choice is kept


def import_onnxruntime(missing: str) -> Any:
    """The onnxruntime module with its telemetry off; ``BackendUnavailable(missing)`` when it
    is not installed (``missing`` says what needs it and how to install it)."""
    try:
        import onnxruntime
    except ImportError:
        raise BackendUnavailable(missing) from None
    if _ALREADY_IMPORTED:
        log.info("onnxruntime was imported before dubkit; set ORT_DISABLE_TELEMETRY=1 "
                 "before importing it to keep its telemetry off")
    if os.environ.get("ORT_DISABLE_TELEMETRY") == "1":
        onnxruntime.disable_telemetry_events()  # also the non-essential events, if it started
    return onnxruntime


def cpu_session(model: str | Path | bytes, options: Any) -> Any:
    """An ``InferenceSession`` on the CPU provider for a model file (or its bytes)."""
    ort = import_onnxruntime("onnxruntime is missing: pip install onnxruntime")
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
