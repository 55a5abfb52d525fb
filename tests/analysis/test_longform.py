"""Splitting long speech at its pauses into pieces a speech translation model takes whole."""
from __future__ import annotations

import numpy as np
import pytest

from dubkit.analysis.longform import split_at_pauses
from dubkit.errors import InputError
from dubkit.testing.signals import RATE, synthetic_voice
from dubkit.types import Audio, SpeechRegion

MAX = 20.0


def _ten_minutes() -> tuple[Audio, list[SpeechRegion]]:
    """600 s of vowel-like speech in bursts of 0.5-12 s, parted by 0.4-2 s of quiet noise, with
    one 45 s stretch that has no pause at all; and the truth of where speech is."""
    rng = np.random.default_rng(7)
    parts, truth, t = [], [], 0.0
    while t < 600.0:
        pause = rng.uniform(0.4, 2.0)
        speech = 45.0 if len(truth) == 10 else rng.uniform(0.5, 12.0)
        if t + pause + speech > 600.0:
            break
        parts.append(np.zeros(int(pause * RATE), np.float32))
        parts.append(synthetic_voice(speech, 120.0, 1.0, seed=len(truth)))
        truth.append(SpeechRegion(t + pause, t + pause + speech))
        t = truth[-1].end
    samples = np.concatenate(parts)
    samples += 0.001 * rng.standard_normal(samples.size).astype(np.float32)
    return Audio(samples, RATE), truth


def _check_pieces(pieces, truth, max_len, tolerance=0.0):
    assert all(0 < end - start <= max_len + 1e-6 for start, end in pieces)
    assert all(a[1] <= b[0] for a, b in zip(pieces, pieces[1:])), "pieces overlap or are unordered"
    for region in truth:  # every moment of speech lies in some piece
        inside = sum(max(0.0, min(end, region.end) - max(start, region.start))
                     for start, end in pieces)
        assert inside >= region.duration - tolerance, region


def _loud_frames(audio: Audio, below_peak_db: float = 30.0) -> np.ndarray:
    """Centres (seconds) of the 20 ms frames within ``below_peak_db`` of the loudest."""
    frame = int(0.02 * audio.rate)
    frames = audio.samples[: audio.num_samples // frame * frame].reshape(-1, frame)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    loud = 20 * np.log10(rms / rms.max() + 1e-12) > -below_peak_db
    return (np.flatnonzero(loud) + 0.5) * frame / audio.rate


def test_ten_minutes_of_speech_split_within_the_limit_covering_all_speech_in_order():
    audio, truth = _ten_minutes()
    pieces = split_at_pauses(audio, MAX)
    # The edges of a syllable fade to 2 %: the detector may leave up to a syllable's fade out.
    _check_pieces(pieces, truth, MAX, tolerance=0.2)
    starts, ends = np.array(pieces).T
    for t in _loud_frames(audio):  # every loud moment lies in a piece
        assert ((starts <= t) & (t <= ends)).any(), t
    assert len(pieces) >= audio.duration / MAX
    # Cuts fall in pauses except inside the 45 s stretch, which has none.
    long = truth[10]
    for start, end in pieces:
        for cut in (start, end):
            in_speech = [r for r in truth if r.start + 0.2 < cut < r.end - 0.2]
            assert not in_speech or in_speech == [long], cut


def test_region_list_cut_only_between_regions_preferring_a_long_pause():
    regions = [SpeechRegion(0, 4), SpeechRegion(4.2, 11), SpeechRegion(13, 15),
               SpeechRegion(15.3, 19), SpeechRegion(19.2, 24), SpeechRegion(24.5, 30)]
    pieces = split_at_pauses(regions, MAX)
    assert pieces == [(0.0, 11.0), (13.0, 30.0)]  # the 2 s pause, not the last one that fits
    _check_pieces(pieces, regions, MAX)


def test_speech_that_fits_is_one_piece_from_first_to_last_word():
    regions = [SpeechRegion(1.0, 3.0), SpeechRegion(4.0, 6.5)]
    assert split_at_pauses(regions, MAX) == [(1.0, 6.5)]


def test_a_region_longer_than_the_limit_is_cut_evenly_without_audio():
    pieces = split_at_pauses([SpeechRegion(0.0, 50.0)], MAX)
    assert len(pieces) == 3
    _check_pieces(pieces, [SpeechRegion(0.0, 50.0)], MAX)


def test_cut_inside_speech_goes_to_the_quietest_moment():
    voice = synthetic_voice(30.0, 120.0, 1.0, seed=3)
    dip = int(17.0 * RATE)
    voice[dip:dip + int(0.1 * RATE)] *= 0.01  # a 100 ms dip, too short to be a pause
    pieces = split_at_pauses(Audio(voice, RATE), MAX)
    assert pieces[0][1] == pytest.approx(17.05, abs=0.06)
    assert pieces[-1][1] == pytest.approx(30.0, abs=0.2)


def test_silence_only_is_kept_as_one_stretch_rather_than_dropped():
    pieces = split_at_pauses(Audio.silence(5.0, RATE), MAX)
    assert pieces == [(0.0, 5.0)]


def test_bad_limit_is_an_input_error():
    with pytest.raises(InputError, match="max_len"):
        split_at_pauses([SpeechRegion(0, 1)], 0)
