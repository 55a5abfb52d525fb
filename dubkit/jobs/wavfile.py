"""Float WAV files whose bytes depend only on their samples, written and read in Python.

libsndfile stamps the time of writing into the PEAK chunk of a float WAV, so the same audio
written twice would give two different files (a resumed job would not be byte for byte the job
run at once). And soundfile reaches an in-memory file through C callbacks that swallow an
exception raised inside them: a Ctrl-C or SIGTERM arriving mid-write became an
AssertionError (an "internal error" instead of a clean stop). scipy's WAV writer and reader are
plain Python over numpy, so neither happens.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from dubkit.jobs.atomic import atomic_path
from dubkit.types import Audio


def wav_bytes(audio: Audio) -> bytes:
    """``audio`` as a 32-bit float WAV (no quantisation noise between stages)."""
    buffer = io.BytesIO()
    wavfile.write(buffer, audio.rate, np.ascontiguousarray(audio.samples.T, dtype=np.float32))
    return buffer.getvalue()


def read_wav_bytes(data: bytes) -> Audio:
    """The audio of a float WAV (ValueError when it is not one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wavfile.WavFileWarning)  # a PEAK chunk from libsndfile
        rate, samples = wavfile.read(io.BytesIO(data))
    if samples.dtype != np.float32:
        raise ValueError(f"expected float32 samples, found {samples.dtype}")
    return Audio(np.ascontiguousarray(samples.T), rate)


def write_wav(path: Path, audio: Audio) -> None:
    """Write ``audio`` to ``path`` atomically (see ``wav_bytes``)."""
    data = wav_bytes(audio)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
