"""Fundamental frequency (F0) of speech with WORLD (pyworld), and a pitch-based gender guess.

The gender guess only picks a default synthesis voice; it reads the median F0 of voiced speech
against one threshold, ``GENDER_THRESHOLD_HZ``. Adult male speech centres around 85-155 Hz and
adult female speech around 165-255 Hz, so 165 Hz sits between the two; children, falsetto and
low female voices fall on the wrong side, and ``None`` is returned when there is too little
voiced speech to say.
"""
from __future__ import annotations

import glob
import importlib.util
import os
from types import ModuleType

import numpy as np

from dubkit import dsp
from dubkit.errors import BackendUnavailable, InputError
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

F0_FLOOR = 60.0  # Hz: below any adult speaking voice
F0_CEIL = 500.0  # Hz: above any adult speaking voice, below most harmonics that fool trackers
FRAME_PERIOD = 10.0  # ms between F0 frames
GENDER_THRESHOLD_HZ = 165.0  # median F0 below: "male", at or above: "female"
MIN_VOICED: Seconds = 0.5  # voiced speech needed for a median F0 or a gender
QUIET_DB = 35.0  # frames this far below the loud frames are treated as unvoiced

_pyworld_module: ModuleType | None = None


def f0_contour(audio: Audio, method: str = "dio") -> tuple[np.ndarray, np.ndarray]:
    """``(times, f0)``: frame times in seconds and F0 in Hz, both ``(frames,)``; unvoiced = 0.

    ``audio`` is brought to 16 kHz mono. ``method`` is ``"dio"`` (DIO refined by StoneMask, fast)
    or ``"harvest"`` (sturdier in noise, about 20 times slower). Frames more than ``QUIET_DB``
    below the loud frames (98th percentile) count as unvoiced: trackers find "pitch" in noise.
    """
    if method not in ("dio", "harvest"):
        raise InputError(f"unknown F0 method {method!r}; choose 'dio' or 'harvest'")
    x = dsp.resample(audio.mono(), ANALYSIS_RATE).samples.astype(np.float64)  # 16 kHz mono
    if x.shape[0] < ANALYSIS_RATE * FRAME_PERIOD / 1000:
        return np.zeros(0), np.zeros(0)
    pw = _pyworld()
    if method == "dio":
        f0, times = pw.dio(x, ANALYSIS_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL,
                           frame_period=FRAME_PERIOD)
        f0 = pw.stonemask(x, f0, times, ANALYSIS_RATE)
    else:
        f0, times = pw.harvest(x, ANALYSIS_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL,
                               frame_period=FRAME_PERIOD)
    f0 = np.where((f0 >= F0_FLOOR) & (f0 <= F0_CEIL), f0, 0.0)
    return times, f0 * _loud_enough(x, times)


def median_f0(audio: Audio, method: str = "dio") -> float | None:
    """Median F0 of the voiced frames in Hz, or ``None`` with under ``MIN_VOICED`` of them."""
    _, f0 = f0_contour(audio, method)
    voiced = f0[f0 > 0]
    if voiced.shape[0] * FRAME_PERIOD / 1000 < MIN_VOICED:
        return None
    return float(np.median(voiced))


def estimate_gender(audio: Audio) -> str | None:
    """``"female"``, ``"male"``, or ``None`` when there is too little voiced speech to tell."""
    f0 = median_f0(audio)
    if f0 is None:
        return None
    return "male" if f0 < GENDER_THRESHOLD_HZ else "female"


def _loud_enough(x: np.ndarray, times: np.ndarray) -> np.ndarray:
    """1.0 for F0 frames within ``QUIET_DB`` of the loud frames, else 0.0, ``(frames,)``."""
    half = int(ANALYSIS_RATE * FRAME_PERIOD / 1000)  # 20 ms windows around each frame time
    centres = np.round(times * ANALYSIS_RATE).astype(int)
    a = np.clip(centres - half, 0, x.shape[0])
    b = np.clip(centres + half, 0, x.shape[0])
    energy = np.concatenate([[0.0], np.cumsum(x**2)])  # (samples + 1,)
    power = (energy[b] - energy[a]) / np.maximum(1, b - a)  # (frames,)
    loud = float(np.percentile(power, 98))  # not the maximum: one click would set it
    if loud <= 0:
        return np.zeros_like(power)
    return (power >= loud * 10.0 ** (-QUIET_DB / 10.0)).astype(np.float64)


def _pyworld() -> ModuleType:
    """The pyworld extension module.

    pyworld 0.3.5's ``__init__`` imports ``pkg_resources`` only to read its own version, and
    setuptools 81+ no longer ships it; the compiled module itself is fine, so load it directly
    when the package import fails for that reason.
    """
    global _pyworld_module
    if _pyworld_module is not None:
        return _pyworld_module
    try:
        import pyworld

        _pyworld_module = pyworld
    except ModuleNotFoundError as e:
        if e.name != "pkg_resources":
            raise BackendUnavailable(
                "pitch analysis needs pyworld: pip install pyworld"
            ) from e
        _pyworld_module = _load_extension()
    return _pyworld_module


def _load_extension() -> ModuleType:
    spec = importlib.util.find_spec("pyworld")
    folders = list(spec.submodule_search_locations or []) if spec else []
    binaries = [b for d in folders for b in glob.glob(os.path.join(d, "pyworld*.so"))
                + glob.glob(os.path.join(d, "pyworld*.pyd"))]
    if not binaries:
        raise BackendUnavailable("pyworld is installed without its compiled module; reinstall it")
    ext = importlib.util.spec_from_file_location("pyworld.pyworld", binaries[0])
    module = importlib.util.module_from_spec(ext)
    ext.loader.exec_module(module)
    return module
