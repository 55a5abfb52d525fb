"""Pause fitting: what tempo cannot do goes into a line's pauses, and every word stays as it was."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubkit.errors import InputError
from dubkit.synth import pauses
from dubkit.synth.fit import TempoFitter
from dubkit.types import Audio

RATE = 24_000
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def words(*parts: float) -> Audio:
    """Alternating word (tone) and pause lengths in seconds, starting and ending with a word."""
    out = []
    for i, seconds in enumerate(parts):
        t = np.arange(int(seconds * RATE)) / RATE
        body = 0.4 * np.sin(2 * np.pi * (180 + 40 * i) * t) if i % 2 == 0 else 0 * t
        out.append(body.astype(np.float32))
    return Audio(np.concatenate(out), RATE)


def loud(audio: Audio) -> np.ndarray:
    """The samples of ``audio`` louder than its pauses: the words, in order."""
    x = audio.samples
    return x[np.abs(x) > 1e-3]


def test_gaps_are_interior_pauses_only() -> None:
    lead = np.zeros(RATE // 5, np.float32)
    audio = Audio(np.concatenate([lead, words(0.5, 0.2, 0.4, 0.02, 0.3).samples]), RATE)
    gaps = pauses.find_gaps(audio)  # the leading silence and the 20 ms closure are not pauses
    assert len(gaps) == 1
    a, b = gaps[0]
    assert a / RATE == pytest.approx(0.7, abs=0.011) and b / RATE == pytest.approx(0.9, abs=0.011)


def test_lengthening_shares_by_pause_length_and_caps_each() -> None:
    audio = words(0.5, 0.3, 0.4, 0.1, 0.4)
    out = pauses.lengthen_pauses(audio, 0.4, max_per_pause=1.0)
    assert out.duration == pytest.approx(audio.duration + 0.4, abs=0.002)
    gaps = [(b - a) / RATE for a, b in pauses.find_gaps(out)]
    assert gaps == pytest.approx([0.3 + 0.3, 0.1 + 0.1], abs=0.012)  # 3 : 1 like the pauses
    capped = pauses.lengthen_pauses(audio, 0.4, max_per_pause=0.15)
    assert capped.duration == pytest.approx(audio.duration + 0.25, abs=0.002)  # 0.15 + 0.1
    doubled = pauses.lengthen_pauses(audio, 1.0, max_per_pause=1.0)  # no pause more than doubled
    assert doubled.duration == pytest.approx(audio.duration + 0.4, abs=0.002)
    # the words are untouched apart from 5 ms fades inside the pauses
    assert np.array_equal(loud(out)[:RATE // 4], loud(audio)[:RATE // 4])
    assert loud(out).size == pytest.approx(loud(audio).size, rel=0.01)


def test_shortening_never_goes_below_the_floor() -> None:
    audio = words(0.5, 0.5, 0.4, 0.15, 0.4)
    out = pauses.shorten_pauses(audio, 2.0, min_pause=0.1)
    assert out.duration == pytest.approx(audio.duration - 0.4 - 0.05, abs=0.003)
    gaps = [(b - a) / RATE for a, b in pauses.find_gaps(out)]
    assert min(gaps) >= 0.09
    half = pauses.shorten_pauses(audio, 0.2, min_pause=0.1)
    assert half.duration == pytest.approx(audio.duration - 0.2, abs=0.003)


def test_speech_without_pauses_is_left_alone() -> None:
    audio = words(1.0)
    assert pauses.lengthen_pauses(audio, 0.5, 0.5) is audio
    assert pauses.shorten_pauses(audio, 0.5, 0.1) is audio


def test_fitter_fills_a_short_line_through_its_pauses() -> None:
    audio = words(0.5, 0.4, 0.5)  # 1.4 s; at 0.85x it is 1.65 s
    slot = 2.0
    plain = TempoFitter(min_tempo=0.85).fit(audio, slot)
    filled = TempoFitter(min_tempo=0.85, max_pause_fill=0.5).fit(audio, slot)
    assert plain.tempo == filled.tempo == 0.85
    assert plain.audio.duration / slot < 0.9  # what the pauses are for
    assert filled.audio.duration == pytest.approx(slot, abs=0.01)
    assert filled.pause_change == pytest.approx(slot - plain.audio.duration, abs=0.01)
    assert filled.overflow == 0.0


def test_fitter_takes_a_long_lines_excess_from_its_pauses() -> None:
    audio = words(0.8, 0.6, 0.8)  # 2.2 s; at 1.2x still 1.83 s for a 1.6 s slot
    result = TempoFitter(max_tempo=1.2, min_pause=0.1).fit(audio, 1.6)
    assert result.tempo == 1.2
    assert result.audio.duration == pytest.approx(1.6, abs=0.02)
    assert result.pause_change < -0.2 and result.overflow < 0.02


def test_pause_bounds_are_checked() -> None:
    with pytest.raises(InputError):
        TempoFitter(max_pause_fill=-0.1)
    with pytest.raises(InputError):
        TempoFitter(min_pause=-0.1)


def test_real_speech_keeps_its_words() -> None:
    import soundfile as sf

    path = DATA / "multi_picovoice_leopard" / "test_es.wav"
    if not path.is_file():
        pytest.skip(f"{path} is absent (real recordings live in ../shared/data)")
    x, rate = sf.read(path, dtype="float32")
    audio = Audio(x, rate)
    gaps = pauses.find_gaps(audio)
    assert len(gaps) >= 3  # a clean read with phrase breaks
    out = pauses.lengthen_pauses(audio, 1.0, max_per_pause=0.5)
    assert out.duration == pytest.approx(audio.duration + 1.0, abs=0.005)
    assert loud(out).size == pytest.approx(loud(audio).size, rel=0.01)  # only silence added
    first = gaps[0][0]
    assert np.array_equal(out.samples[: first], audio.samples[: first])
