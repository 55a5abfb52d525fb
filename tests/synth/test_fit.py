"""TempoFitter: trim, then speed up (pitch kept) within bounds; report what still overflows."""
from __future__ import annotations

import numpy as np
import pytest

from dubkit.errors import InputError
from dubkit.synth.fit import TempoFitter
from dubkit.types import Audio

RATE = 22_050


def tone(seconds: float, hz: float = 220.0, lead: float = 0.0, tail: float = 0.0) -> Audio:
    """A tone of ``seconds`` with ``lead`` and ``tail`` seconds of silence around it."""
    t = np.arange(int(seconds * RATE)) / RATE
    body = (0.4 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    pad = lambda s: np.zeros(int(s * RATE), np.float32)
    return Audio(np.concatenate([pad(lead), body, pad(tail)]), RATE)


def dominant_hz(audio: Audio) -> float:
    x = audio.samples
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.shape[0])))
    return float(np.fft.rfftfreq(x.shape[0], 1 / audio.rate)[spectrum.argmax()])


def test_fitting_speech_is_only_trimmed() -> None:
    result = TempoFitter().fit(tone(1.0, lead=0.5, tail=0.8), slot=1.5)
    assert result.tempo == 1.0 and result.overflow == 0.0
    assert result.audio.duration == pytest.approx(1.04, abs=0.015)  # 20 ms kept each side
    assert result.audio.rate == RATE


def test_slightly_long_speech_is_sped_up_to_fit() -> None:
    result = TempoFitter().fit(tone(2.2, lead=0.3), slot=2.0)
    assert result.tempo == pytest.approx(2.24 / 2.0, abs=0.01)
    assert result.audio.duration == pytest.approx(2.0, abs=0.01)
    assert result.overflow < 0.01
    assert dominant_hz(result.audio) == pytest.approx(220.0, abs=3.0)  # pitch kept


def test_much_too_long_speech_overflows_at_max_tempo() -> None:
    result = TempoFitter(max_tempo=1.25).fit(tone(3.0), slot=2.0)  # no silence to trim
    assert result.tempo == 1.25
    assert result.audio.duration == pytest.approx(3.0 / 1.25, abs=0.01)
    assert result.overflow == pytest.approx(3.0 / 1.25 - 2.0, abs=0.01)


def test_max_tempo_one_never_speeds_up() -> None:
    result = TempoFitter(max_tempo=1.0).fit(tone(3.0), slot=2.0)
    assert result.tempo == 1.0 and result.overflow == pytest.approx(1.0, abs=0.01)


def test_min_tempo_below_one_fills_the_slot() -> None:
    result = TempoFitter(min_tempo=0.8).fit(tone(1.8), slot=2.0)
    assert result.tempo == pytest.approx(0.9, abs=0.01)
    assert result.audio.duration == pytest.approx(2.0, abs=0.01)


def test_silent_audio() -> None:
    result = TempoFitter().fit(Audio(np.zeros(RATE, np.float32), RATE), slot=1.0)
    assert result.audio.num_samples == 0 and result.tempo == 1.0 and result.overflow == 0.0


@pytest.mark.parametrize("kwargs", [dict(max_tempo=0.9), dict(min_tempo=0.0),
                                    dict(min_tempo=1.1)])
def test_bounds_are_checked(kwargs: dict) -> None:
    with pytest.raises(InputError):
        TempoFitter(**kwargs)


def test_slot_is_checked() -> None:
    with pytest.raises(InputError):
        TempoFitter().fit(tone(1.0), slot=0.0)
