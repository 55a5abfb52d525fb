"""Shared signal helpers: resampling, levels, fades, silence trimming."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit import dsp
from dubkit.errors import InputError
from dubkit.types import Audio

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def sine(freq: float, seconds: float, rate: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.shape[-1])))
    return float(np.fft.rfftfreq(x.shape[-1], 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("src, dst", [(44_100, 16_000), (16_000, 48_000), (24_000, 22_050)])
def test_resample_mono_keeps_length_and_pitch(src: int, dst: int) -> None:
    out = dsp.resample(Audio(sine(440.0, 1.0, src), src), dst)
    assert out.rate == dst and out.samples.dtype == np.float32
    assert out.num_samples == pytest.approx(dst, abs=1)
    assert dominant_hz(out.samples, dst) == pytest.approx(440.0, abs=2.0)


def test_resample_multichannel_keeps_channels_apart() -> None:
    stereo = np.stack([sine(300.0, 0.5, 48_000), sine(1000.0, 0.5, 48_000)])  # (2, samples)
    out = dsp.resample(Audio(stereo, 48_000), 16_000)
    assert out.samples.shape == (2, 8000)
    assert dominant_hz(out.samples[0], 16_000) == pytest.approx(300.0, abs=3.0)
    assert dominant_hz(out.samples[1], 16_000) == pytest.approx(1000.0, abs=3.0)


def test_resample_same_rate_and_empty() -> None:
    a = Audio(sine(100.0, 0.1, 16_000), 16_000)
    assert dsp.resample(a, 16_000) is a
    empty = dsp.resample(Audio(np.zeros((2, 0), np.float32), 44_100), 16_000)
    assert empty.samples.shape == (2, 0) and empty.rate == 16_000
    with pytest.raises(InputError):
        dsp.resample(a, 0)


def test_to_mono_averages_channels() -> None:
    stereo = Audio(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32), 8000)
    assert np.allclose(dsp.to_mono(stereo).samples, [0.5, 0.5])


def test_levels() -> None:
    full = sine(1000.0, 1.0, 16_000, amp=1.0)
    assert dsp.rms_dbfs(full) == pytest.approx(-3.01, abs=0.02)
    assert dsp.peak_dbfs(full) == pytest.approx(0.0, abs=0.01)
    assert dsp.peak_dbfs(full * 0.1) == pytest.approx(-20.0, abs=0.01)
    silent = np.zeros(100, np.float32)
    assert dsp.rms_dbfs(silent) == dsp.DB_FLOOR and dsp.peak_dbfs(silent) == dsp.DB_FLOOR
    assert dsp.rms_dbfs(np.zeros(0, np.float32)) == dsp.DB_FLOOR
    assert dsp.db_to_gain(-6.0) == pytest.approx(0.501, abs=1e-3)


def test_normalize_peak() -> None:
    x = sine(200.0, 0.2, 16_000, amp=0.01)
    y = dsp.normalize_peak(x, -3.0)
    assert dsp.peak_dbfs(y) == pytest.approx(-3.0, abs=1e-3)
    assert np.array_equal(dsp.normalize_peak(np.zeros(10, np.float32)), np.zeros(10))
    with pytest.raises(InputError):
        dsp.normalize_peak(x, 1.0)


def test_fade_shapes_both_ends_only() -> None:
    x = np.ones((2, 1000), np.float32)
    y = dsp.fade(x, 1000, fade_in=0.1, fade_out=0.2)
    assert y.shape == x.shape and np.array_equal(x, np.ones((2, 1000)))  # input untouched
    assert y[0, 0] < 0.01 and y[0, -1] < 0.01
    assert np.all(np.diff(y[0, :100]) > 0) and np.all(np.diff(y[0, -200:]) < 0)
    assert np.array_equal(y[:, 100:800], x[:, 100:800])
    short = dsp.fade(np.ones(10, np.float32), 1000, fade_in=1.0)  # longer than the signal
    assert short.shape == (10,) and np.all(np.diff(short) > 0)
    with pytest.raises(InputError):
        dsp.fade(x, 1000, fade_in=-0.1)


def test_trim_silence_keeps_a_margin() -> None:
    rate = 16_000
    x = np.concatenate([np.zeros(rate), sine(200.0, 0.5, rate), np.zeros(rate // 2)])
    trimmed = dsp.trim_silence(Audio(x, rate), keep=0.02)
    assert trimmed.duration == pytest.approx(0.54, abs=0.015)
    stereo = dsp.trim_silence(Audio(np.stack([x, x]), rate))
    assert stereo.channels == 2 and stereo.duration == pytest.approx(0.54, abs=0.015)
    assert dsp.trim_silence(Audio(np.zeros(rate, np.float32), rate)).num_samples == 0


def test_resample_real_recording() -> None:
    path = DATA / "en_jfk" / "jfk.flac"
    if not path.exists():
        pytest.skip(f"shared recordings not found at {DATA.resolve()}")
    x, rate = sf.read(path, dtype="float32", always_2d=True)  # (samples, channels)
    audio = Audio(x.T, rate)  # 44.1 kHz stereo
    out = dsp.resample(dsp.to_mono(audio), 16_000)
    assert out.samples.ndim == 1 and out.duration == pytest.approx(audio.duration, abs=1e-3)
    assert abs(dsp.rms_dbfs(out.samples) - dsp.rms_dbfs(audio.mono().samples)) < 0.5
