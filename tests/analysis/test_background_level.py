"""What is not speech, measured against the speech: is there a background worth separating?"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubkit import media
from dubkit.analysis.background import MAX_FLOOR_DB, MAX_OUTSIDE_DB, measure_background
from dubkit.types import Audio, SpeechRegion

RATE = 16_000
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
FALCON = DATA / "diar_picovoice_falcon" / "test.wav"


def talk(seconds: float = 20.0, floor_db: float = -60.0, seed: int = 0):
    """Syllable-like bursts (a voiced tone, 4 a second) in 2 s phrases with 1 s pauses, over a
    steady noise floor ``floor_db`` below the bursts; and the phrases as speech regions."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    voice = np.sin(2 * np.pi * 140 * t) + 0.5 * np.sin(2 * np.pi * 280 * t)
    syllables = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 2
    regions = [SpeechRegion(a, a + 2.0) for a in np.arange(0.5, seconds - 2.0, 3.0)]
    speaking = np.zeros_like(t)
    for r in regions:
        speaking[(t >= r.start) & (t < r.end)] = 1.0
    x = 0.3 * voice * syllables * speaking
    x += 0.3 * 10 ** (floor_db / 20) * rng.standard_normal(t.size)
    return x, regions


def chords(n: int, seed: int = 1) -> np.ndarray:
    """A bed of changing chords with a noise hit every half second, at unit RMS."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    root = np.choose((t // 2).astype(int) % 3, [220.0, 174.6, 261.6])
    bed = sum(np.sin(2 * np.pi * root * ratio * t) for ratio in (1.0, 1.26, 1.5))
    hits = (t % 0.5) < 0.05
    bed = bed + 2 * hits * rng.standard_normal(n)
    return bed / np.sqrt(np.mean(bed**2))


def level(x: np.ndarray, regions):
    return measure_background(Audio(x.astype(np.float32), RATE), regions)


def test_speech_over_a_quiet_floor_has_nothing_to_keep():
    x, regions = talk(floor_db=-60.0)
    measured = level(x, regions)
    assert not measured.something_to_keep
    assert measured.floor_db < MAX_FLOOR_DB - 10 and measured.outside_db < MAX_OUTSIDE_DB - 10


@pytest.mark.parametrize("below_db", [6.0, 12.0, 18.0])
def test_music_under_the_speech_is_something_to_keep(below_db):
    x, regions = talk()
    speech_rms = np.sqrt(np.mean(x[x != 0] ** 2))
    x = x + speech_rms * 10 ** (-below_db / 20) * chords(x.size)
    assert level(x, regions).something_to_keep


def test_music_before_the_first_word_is_something_to_keep():
    x, regions = talk()
    intro = 0.1 * chords(5 * RATE)
    moved = [SpeechRegion(r.start + 5.0, r.end + 5.0) for r in regions]
    measured = level(np.concatenate([intro, x]), moved)
    assert measured.something_to_keep and measured.outside_db > MAX_OUTSIDE_DB


def test_a_minute_of_music_in_a_long_talk_is_not_averaged_away():
    x, regions = talk(seconds=120.0)
    x[30 * RATE:40 * RATE] += 0.05 * chords(10 * RATE)  # under the speech there only
    assert level(x, regions).something_to_keep
    assert not level(talk(seconds=120.0)[0], regions).something_to_keep


def test_no_speech_measures_nothing():
    x, _ = talk()
    measured = level(x, [])
    assert measured.floor_db == measured.outside_db == float("-inf")
    assert not measured.something_to_keep


def test_the_levels_are_described_in_words():
    x, regions = talk(floor_db=-40.0)
    words = level(x, regions).describe()
    assert "27 dB below the speech" in words and "26 dB below it" in words
    assert "inf" not in level(x, []).describe()


@pytest.mark.skipif(not FALCON.exists(), reason="../shared/data is absent")
def test_a_real_clean_recording_has_nothing_to_keep_until_music_is_laid_under_it():
    speech = media.decode_audio(FALCON, rate=RATE, mono=True).samples.astype(np.float64)
    # the speech regions of the reference, as the VAD would find them
    from dubkit.analysis.rttm import read_rttm

    regions = [SpeechRegion(t.start, t.end)
               for t in read_rttm(FALCON.with_suffix(".rttm"))["test"]]
    assert not level(speech, regions).something_to_keep
    rms = np.sqrt(np.mean(speech**2))
    assert level(speech + 0.1 * rms * chords(speech.size), regions).something_to_keep
