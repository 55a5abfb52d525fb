"""The job's float WAV files depend on their samples alone: libsndfile stamps the time of
writing into them, which would make a resumed job's files differ from an uninterrupted one's."""
from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from dubkit.jobs.wavfile import wav_bytes, write_wav
from dubkit.types import Audio


@pytest.mark.parametrize("channels", [1, 2])
def test_float_wav_without_the_time_of_writing(tmp_path, channels):
    t = np.arange(16_000) / 16_000
    samples = np.stack([np.sin(2 * np.pi * 220 * (c + 1) * t) for c in range(channels)])
    audio = Audio(samples[0].astype(np.float32) if channels == 1
                  else samples.astype(np.float32), 16_000)
    stamped = io.BytesIO()
    sf.write(stamped, audio.samples.T, audio.rate, subtype="FLOAT", format="WAV")
    stamped = stamped.getvalue()
    at = stamped.index(b"PEAK") + 12  # chunk id, size, version: then the time
    assert stamped[at:at + 4] != bytes(4), "libsndfile no longer stamps the time"

    data = wav_bytes(audio)
    assert data[at:at + 4] == bytes(4)
    assert data[:at] + data[at + 4:] == stamped[:at] + stamped[at + 4:]
    back, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    assert rate == audio.rate
    np.testing.assert_array_equal(back.T.reshape(audio.samples.shape), audio.samples)
    write_wav(tmp_path / "line.wav", audio)
    assert (tmp_path / "line.wav").read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["line.wav"]
