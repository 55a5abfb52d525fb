"""Float WAV files whose bytes depend only on their samples, written and read in Python.

libsndfile stamps the time of writing into the PEAK chunk of a float WAV, so the same audio
written twice would give two different files (a resumed job would not be byte for byte the job
run at once). And soundfile reaches an in-memory file through C callbacks that swallow an
exception raised inside them: a Ctrl-C or SIGTERM arriving mid-write became an
AssertionError (an "internal error" instead of a clean stop). scipy's WAV writer is plain
Python over numpy, and a WAV is read back here (see ``read_wav_bytes``), so neither happens.
"""
from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from dubkit.jobs.atomic import atomic_path
from dubkit.types import Audio

_IEEE_FLOAT, _EXTENSIBLE = 3, 0xFFFE  # WAV format tags


def wav_bytes(audio: Audio) -> bytes:
    """``audio`` as a 32-bit float WAV (no quantisation noise between stages)."""
    buffer = io.BytesIO()
    wavfile.write(buffer, audio.rate, np.ascontiguousarray(audio.samples.T, dtype=np.float32))
    return buffer.getvalue()


def read_wav_bytes(data: bytes) -> Audio:
    """The audio of a 32-bit float WAV (ValueError when it is not one, or is cut short). Its
    chunks are walked here and the samples taken with ``np.frombuffer``: scipy's reader hands a
    file object to ``np.fromfile``, which tries it as a path first, and a signal arriving just
    then came out as "TypeError: expected str, bytes or os.PathLike object, not BytesIO"."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    at, fmt, samples = 12, None, None
    while at + 8 <= len(data):
        chunk, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        body = data[at + 8:at + 8 + size]
        if len(body) < size:
            raise ValueError(f"the {chunk!r} chunk is cut short")
        if chunk == b"fmt ":
            fmt = body
        elif chunk == b"data":
            samples = body
            break
        at += 8 + size + (size & 1)  # chunks are padded to an even length
    if fmt is None or len(fmt) < 16 or samples is None:
        raise ValueError("a WAV file without its format or data chunk")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]  # the sub-format's first two bytes
    if tag != _IEEE_FLOAT or bits != 32 or channels < 1:
        raise ValueError(f"expected float32 samples, found format {tag} with {bits} bits")
    frames = np.frombuffer(samples, dtype="<f4", count=len(samples) // (4 * channels) * channels)
    frames = frames.reshape(-1, channels) if channels > 1 else frames
    return Audio(np.ascontiguousarray(frames.T, dtype=np.float32), rate)


def write_wav(path: Path, audio: Audio) -> None:
    """Write ``audio`` to ``path`` atomically (see ``wav_bytes``)."""
    data = wav_bytes(audio)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
