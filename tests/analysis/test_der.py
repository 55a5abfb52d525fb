"""Frame-based DER (dubkit.analysis.der) and the synthetic voices of dubkit.testing.signals."""
from __future__ import annotations

import numpy as np
import pytest

from dubkit.analysis.der import diarization_error_rate as der
from dubkit.analysis.der import score_diarization
from dubkit.errors import InputError
from dubkit.testing.signals import high_voice, low_voice, synthetic_voice, two_voices
from dubkit.types import Turn


def test_der_basics() -> None:
    ref = [Turn(0, 10, "a"), Turn(10, 20, "b")]
    assert der(ref, [Turn(0, 10, "x"), Turn(10, 20, "y")]) == 0.0  # names do not matter
    assert der(ref, [Turn(0, 20, "x")]) == pytest.approx(0.5, abs=0.02)
    assert der(ref, [Turn(0, 10, "x")]) == pytest.approx(0.5, abs=0.02)  # missed
    assert der(ref, [Turn(0.2, 9.8, "x"), Turn(10.2, 20, "y")]) == 0.0  # inside the collar
    assert der(ref, []) == pytest.approx(1.0)


def test_der_parts() -> None:
    ref = [Turn(0, 10, "a"), Turn(10, 20, "b")]
    score = score_diarization(ref, [Turn(0, 15, "x"), Turn(15, 25, "y")], collar=0.0)
    assert score.total == pytest.approx(20.0)
    assert score.missed == 0.0 and score.false_alarm == pytest.approx(5.0)
    assert score.confusion == pytest.approx(5.0)  # 10-15 s is b, given to x (mapped to a)
    assert score.der == pytest.approx(0.5)
    overlap = score_diarization([Turn(0, 10, "a"), Turn(5, 10, "b")], [Turn(0, 10, "x")], 0.0)
    assert overlap.missed == pytest.approx(5.0) and overlap.total == pytest.approx(15.0)
    assert score_diarization([], [Turn(0, 1, "x")]).der == 0.0
    with pytest.raises(InputError):
        score_diarization(ref, ref, collar=-1)


def test_synthetic_voices() -> None:
    a = synthetic_voice(1.0, 110.0, 1.0, seed=3)
    assert a.shape == (16_000,) and a.dtype == np.float32
    assert np.abs(a).max() == pytest.approx(0.3, abs=1e-6)
    assert np.array_equal(a, low_voice(1.0, 3))  # seeded: repeatable
    assert not np.array_equal(low_voice(1.0, 3), high_voice(1.0, 3))
    assert synthetic_voice(0.5, 150.0, 1.1, seed=0, rate=8000).shape == (4000,)
    audio, truth = two_voices()
    assert audio.rate == 16_000 and audio.duration == pytest.approx(19.0)
    assert {t.speaker for t in truth} == {"A", "B"}
    assert all(a.end <= b.start for a, b in zip(truth, truth[1:]))
