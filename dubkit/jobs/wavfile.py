"""Float WAV files whose bytes depend only on their samples.

libsndfile stamps the time of writing into the PEAK chunk of a float WAV, so the same audio
written twice gives two different files: a job resumed after a crash would not be byte for byte
the job run at once, and a file's sha256 would say nothing about its content. The stamp is
zeroed here (a reader takes 0 as "no time given").
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.io import wavfile

from dubkit.jobs.atomic import atomic_path
from dubkit.types import Audio


def wav_bytes(audio: Audio) -> bytes:
    """``audio`` as a 32-bit float WAV (no quantisation noise between stages), without the
    time of writing."""
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples.T, audio.rate, subtype="FLOAT", format="WAV")
    return _without_timestamp(buffer.getvalue())


def read_wav_bytes(data: bytes) -> Audio:
    """The audio of ``wav_bytes``' output (ValueError when it is not a float WAV). Pure Python
    on purpose: a decoder that calls back into Python from C (soundfile's in-memory reads)
    swallows an exception raised there, so a SIGTERM arriving mid-read would be lost."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wavfile.WavFileWarning)  # the PEAK chunk
        rate, samples = wavfile.read(io.BytesIO(data))
    if samples.dtype != np.float32:
        raise ValueError(f"expected float32 samples, found {samples.dtype}")
    return Audio(np.ascontiguousarray(samples.T), rate)


def write_wav(path: Path, audio: Audio) -> None:
    """Write ``audio`` to ``path`` atomically (see ``wav_bytes``)."""
    data = wav_bytes(audio)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _without_timestamp(data: bytes) -> bytes:
    """``data`` (a RIFF WAVE file) with its PEAK chunk's timestamp set to 0."""
    out = bytearray(data)
    at = 12  # chunks start after "RIFF" <size> "WAVE"
    while at + 8 <= len(out):
        chunk, size = bytes(out[at:at + 4]), int.from_bytes(out[at + 4:at + 8], "little")
        if chunk == b"PEAK" and size >= 8:
            out[at + 12:at + 16] = bytes(4)  # after the chunk header and the version word
            break
        if chunk == b"data":
            break
        at += 8 + size + (size & 1)  # chunks are padded to an even length
    return bytes(out)
