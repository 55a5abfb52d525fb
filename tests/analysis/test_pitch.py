"""F0 contours, median F0 and the pitch-based gender guess."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit.analysis.pitch import (
    GENDER_THRESHOLD_HZ,
    estimate_gender,
    f0_contour,
    median_f0,
)
from dubkit.errors import InputError
from dubkit.types import Audio

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000


def voiced(f0, seconds: float, rate: int = RATE) -> np.ndarray:
    """A buzzy harmonic tone following ``f0`` (Hz, a number or a function of time)."""
    t = np.arange(int(seconds * rate)) / rate
    freq = f0(t) if callable(f0) else np.full_like(t, f0)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 15))
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


@pytest.mark.parametrize("hz", [100.0, 150.0, 240.0])
def test_median_f0_of_steady_tones(hz: float) -> None:
    assert median_f0(Audio(voiced(hz, 1.5), RATE)) == pytest.approx(hz, rel=0.03)


def test_contour_follows_a_glide_and_marks_silence_unvoiced() -> None:
    glide = voiced(lambda t: 100.0 + 100.0 * t, 1.0)  # 100 -> 200 Hz
    x = np.concatenate([np.zeros(RATE // 2, np.float32), glide])
    times, f0 = f0_contour(Audio(x, RATE))
    assert times.shape == f0.shape and times[1] - times[0] == pytest.approx(0.01)
    assert np.all(f0[times < 0.45] == 0)
    inside = (times > 0.6) & (times < 1.4)
    expected = 100.0 + 100.0 * (times[inside] - 0.5)
    assert np.median(np.abs(f0[inside] / expected - 1)) < 0.03


def test_harvest_agrees_and_other_input_shapes() -> None:
    tone = voiced(180.0, 1.0, rate=44_100)
    stereo = Audio(np.stack([tone, tone]), 44_100)  # resampled and mixed to 16 kHz mono inside
    assert median_f0(stereo) == pytest.approx(180.0, rel=0.03)
    assert median_f0(stereo, method="harvest") == pytest.approx(180.0, rel=0.03)
    with pytest.raises(InputError):
        f0_contour(stereo, method="yin")


def test_gender_guess() -> None:
    assert estimate_gender(Audio(voiced(110.0, 2.0), RATE)) == "male"
    assert estimate_gender(Audio(voiced(220.0, 2.0), RATE)) == "female"
    assert estimate_gender(Audio(voiced(GENDER_THRESHOLD_HZ + 10, 2.0), RATE)) == "female"
    assert estimate_gender(Audio(np.zeros(2 * RATE, np.float32), RATE)) is None
    assert estimate_gender(Audio(voiced(110.0, 0.3), RATE)) is None  # too little voiced speech
    assert estimate_gender(Audio(np.zeros(10, np.float32), RATE)) is None
    noise = np.random.default_rng(0).standard_normal(2 * RATE).astype(np.float32) * 0.1
    assert estimate_gender(Audio(noise, RATE)) is None


def test_real_speech_is_in_the_speaking_range() -> None:
    folder = DATA / "multi_picovoice_leopard"
    if not folder.exists():
        pytest.skip(f"shared recordings not found at {DATA.resolve()}")
    x, rate = sf.read(folder / "test.wav", dtype="float32")
    audio = Audio(x, rate)
    dio, harvest = median_f0(audio), median_f0(audio, method="harvest")
    assert 70 < dio < 300 and dio == pytest.approx(harvest, rel=0.1)
    assert estimate_gender(audio) in ("female", "male")
