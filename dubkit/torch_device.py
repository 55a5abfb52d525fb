"""Pick the torch device and dtype that the torch backends run on.

``"auto"`` means the fastest accelerator present (CUDA, then Apple MPS, then the CPU) and the
fastest safe dtype for it: bfloat16 on CUDA where the GPU supports it, float16 on other GPUs,
float32 on the CPU. On the CPU the number of threads is set once, to the cores this process may
use (``$DUBKIT_NUM_THREADS`` overrides it; an ``$OMP_NUM_THREADS`` set by the user is left alone).
"""
from __future__ import annotations

import os

import torch

from dubkit.cpu import usable_cores, wanted_threads
from dubkit.errors import InputError

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}

_threads_configured = False


def pick_device(requested: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``: cuda if available, else mps, else cpu. Anything else (``"cpu"``, ``"cuda:1"``)
    is checked: asking for an accelerator that is not there raises ``InputError``."""
    if isinstance(requested, torch.device):
        device = requested
    else:
        name = (requested or "auto").strip().lower()
        if name == "auto":
            if torch.cuda.is_available():
                device = torch.device("cuda")
            elif _mps_available():
                device = torch.device("mps")
            else:
                device = torch.device("cpu")
        else:
            try:
                device = torch.device(name)
            except RuntimeError:
                raise InputError(
                    f"unknown device {requested!r}; use auto, cpu, cuda, cuda:<index> or mps"
                ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {str(device)!r} was asked for but CUDA is not available")
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise InputError(
                f"device {str(device)!r} does not exist; {torch.cuda.device_count()} GPU(s) found"
            )
    if device.type == "mps" and not _mps_available():
        raise InputError("device 'mps' was asked for but Apple MPS is not available")
    if device.type == "cpu":
        configure_cpu_threads()
    return device


def pick_dtype(device: torch.device, requested: str | torch.dtype | None = "auto") -> torch.dtype:
    """``"auto"``: bfloat16 on CUDA if supported, else float16 on a GPU; float32 on the CPU.
    Explicit names: float32/fp32, float16/fp16/half, bfloat16/bf16."""
    if isinstance(requested, torch.dtype):
        return requested
    name = (requested or "auto").strip().lower()
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "mps":
            return torch.float16
        return torch.float32
    try:
        return _DTYPES[name]
    except KeyError:
        raise InputError(
            f"unknown dtype {requested!r}; use auto, {', '.join(sorted(_DTYPES))}"
        ) from None


def configure_cpu_threads() -> int:
    """Set torch's intra-op threads once per process; returns the number in use."""
    global _threads_configured
    if not _threads_configured:
        _threads_configured = True
        wanted = wanted_threads()
        if wanted:
            torch.set_num_threads(wanted)
        elif not os.environ.get("OMP_NUM_THREADS"):
            # torch counts the machine's cores; a container or taskset may allow fewer.
            torch.set_num_threads(max(1, min(torch.get_num_threads(), usable_cores())))
    return torch.get_num_threads()


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def quiet_hf_loading() -> None:
    """Turn off transformers' own progress bars and advisory logging: dubkit reports progress
    through its hook, and "Loading weights" bars would break the CLI's one-line errors."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
