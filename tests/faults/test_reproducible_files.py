"""The job's float WAV files depend on their samples alone (libsndfile would stamp the time of
writing into them, so a resumed job's files would differ from an uninterrupted one's), and a
signal arriving while one is written or read stops the job as itself."""
from __future__ import annotations

import io
import signal
import time

import numpy as np
import pytest
import soundfile as sf

from dubkit.jobs.track import load_track, store_track
from dubkit.jobs.wavfile import read_wav_bytes, wav_bytes, write_wav
from dubkit.types import Audio


def tones(channels: int, seconds: float = 1.0) -> Audio:
    t = np.arange(int(16_000 * seconds)) / 16_000
    samples = np.stack([0.5 * np.sin(2 * np.pi * 220 * (c + 1) * t) for c in range(channels)])
    return Audio(samples[0].astype(np.float32) if channels == 1
                 else samples.astype(np.float32), 16_000)


@pytest.mark.parametrize("channels", [1, 2])
def test_float_wav_bytes_depend_on_the_samples_alone(tmp_path, channels):
    audio = tones(channels)
    data = wav_bytes(audio)
    time.sleep(1.1)  # libsndfile's stamp counts seconds
    assert wav_bytes(audio) == data
    back, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)  # any reader
    assert rate == audio.rate
    np.testing.assert_array_equal(back.T.reshape(audio.samples.shape), audio.samples)
    np.testing.assert_array_equal(read_wav_bytes(data).samples, audio.samples)
    write_wav(tmp_path / "line.wav", audio)
    assert (tmp_path / "line.wav").read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["line.wav"]


class Stop(BaseException):
    """As dubkit's ``Terminated`` (a KeyboardInterrupt), no ``Exception``."""


# what is written and read, seconds of audio, tries, seconds between timer ticks
CASES = {"wav": ("wav", 2.0, 150, 0.0005), "track": ("track", 2.0, 150, 0.0005),
         "short wav read": ("read", 0.025, 3000, 0.00002)}


@pytest.mark.parametrize("case", CASES)
def test_a_signal_mid_write_or_read_is_raised_as_itself(tmp_path, case):
    """soundfile reaches an in-memory file through C callbacks that swallow the handler's
    exception (it came out as an AssertionError), and scipy's reader gave a WAV in memory to
    ``np.fromfile``, which tried it as a path first (a TypeError about BytesIO, about once in
    130 tries of the short clip): either way an internal error, not a clean stop."""
    kind, seconds, tries, tick = CASES[case]
    audio = tones(2, seconds=seconds)
    data = wav_bytes(audio)

    def once():
        if kind == "read":
            read_wav_bytes(data)
        elif kind == "wav":
            read_wav_bytes(wav_bytes(audio))
        else:
            load_track(tmp_path, store_track(tmp_path, Audio(audio.samples[0], 16_000), "id"))

    armed = False

    def stop_once(signum, frame):  # once per try: the timer keeps ticking until disarmed
        nonlocal armed
        if armed:
            armed = False
            raise Stop

    previous = signal.signal(signal.SIGALRM, stop_once)
    stops = 0
    try:
        for _ in range(tries):
            try:  # armed inside: a tick may come before the loop starts
                signal.setitimer(signal.ITIMER_REAL, tick, tick)
                armed = True
                while True:
                    once()
            except Stop:
                stops += 1
            finally:
                armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert stops == tries
