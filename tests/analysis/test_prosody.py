"""Segment prosody: F0 contour, energy, speaking rate, pauses, loudness, and its stored form."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dubkit.analysis.prosody import (
    HOP,
    Pause,
    SegmentProsody,
    extract_prosody,
    find_pauses,
    loudness,
)
from dubkit.testing.signals import synthetic_voice
from dubkit.types import Audio

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000


def glide(seconds: float, start_hz: float, end_hz: float, rate: int = RATE) -> np.ndarray:
    """A harmonic tone gliding from ``start_hz`` to ``end_hz``, syllable-shaped at 4 Hz."""
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(start_hz + (end_hz - start_hz) * t / seconds) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.2 + 0.8 * np.sin(np.pi * 4 * t) ** 2  # 4 nuclei per second
    return (0.3 * x * envelope / np.abs(x).max()).astype(np.float32)


def test_rising_contour_rate_and_interior_pause() -> None:
    x = np.concatenate([glide(1.0, 120, 150), np.zeros(int(0.4 * RATE), np.float32),
                        glide(1.0, 150, 220)])
    p = extract_prosody(Audio(x, RATE))
    assert p.f0.shape == p.energy.shape and p.hop == HOP
    voiced = p.f0 > 0
    first, last = p.f0[voiced][:20].mean(), p.f0[voiced][-20:].mean()
    assert first == pytest.approx(125, rel=0.06) and last == pytest.approx(215, rel=0.06)
    assert len(p.pauses) == 1
    assert p.pauses[0].start == pytest.approx(1.0, abs=0.06)
    assert p.pauses[0].duration == pytest.approx(0.4, abs=0.08)
    assert 3.0 <= p.syllable_rate <= 5.0  # 4 energy peaks a second
    assert p.log_f0_stats() is not None


def test_round_trip_through_json_is_compact() -> None:
    p = extract_prosody(Audio(synthetic_voice(2.0, 150.0, 1.0, seed=1), RATE))
    text = json.dumps(p.to_dict())
    assert len(text) < 20 * p.f0.shape[0]  # about 12 bytes a frame
    q = SegmentProsody.from_dict(json.loads(text))
    np.testing.assert_allclose(q.f0, p.f0, atol=0.051)
    np.testing.assert_allclose(q.energy, p.energy, atol=0.051)
    assert q.pauses == tuple(Pause(round(a.start, 2), round(a.duration, 2)) for a in p.pauses)
    assert q.loudness == pytest.approx(p.loudness, abs=0.01)


def test_silence_and_tiny_clips() -> None:
    p = extract_prosody(Audio.silence(1.0, RATE))
    assert not p.voiced.any() and p.pauses == () and p.log_f0_stats() is None
    assert loudness(Audio.silence(1.0, RATE)) == -70.0
    assert extract_prosody(Audio(np.zeros(50, np.float32), RATE)).f0.shape[0] <= 1
    assert find_pauses(np.full(100, -60.0)) == ()


def test_loudness_follows_gain_and_short_clips_use_the_fallback() -> None:
    x = synthetic_voice(1.5, 150.0, 1.0, seed=2)
    a, b = loudness(Audio(x, RATE)), loudness(Audio(x * 0.5, RATE))
    assert a - b == pytest.approx(6.02, abs=0.1)
    short = x[int(0.5 * RATE): int(0.8 * RATE)]  # under one 0.4 s BS.1770 block
    c, d = loudness(Audio(short, RATE)), loudness(Audio(short * 0.5, RATE))
    assert -50 < c < 0 and c - d == pytest.approx(6.02, abs=0.1)


def test_real_speech() -> None:
    path = DATA / "en_jfk" / "jfk.flac"
    if not path.is_file():
        pytest.skip(f"shared recordings not found at {path.parent}")
    import soundfile as sf

    x, rate = sf.read(path, dtype="float32", always_2d=True)
    p = extract_prosody(Audio(x.mean(axis=1), rate))
    assert p.duration == pytest.approx(11.0, abs=0.1)
    assert 2.0 <= p.syllable_rate <= 5.0  # oratory: 29 syllables in about 8 s of speech
    assert len(p.pauses) >= 3  # JFK pauses between phrases
    assert p.voiced.mean() > 0.15  # DIO finds about a quarter voiced in this noisy take
