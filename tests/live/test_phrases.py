"""Endpointing: phrases at the VAD's pauses whatever the chunking, cut after ``max_phrase``
when nobody pauses, and bounded memory however long the stream runs."""
from __future__ import annotations

import numpy as np
import pytest

from dubkit.analysis.energy_vad import EnergyVad
from dubkit.errors import InputError
from dubkit.live.phrases import PhraseCutter
from dubkit.testing.signals import low_voice, two_voices
from dubkit.types import ANALYSIS_RATE


def _cut(samples: np.ndarray, chunk: int, max_phrase: float = 8.0):
    cutter = PhraseCutter(EnergyVad(), max_phrase)
    phrases = []
    for i in range(0, samples.size, chunk):
        phrases += cutter.feed(samples[i:i + chunk])
    return phrases + cutter.flush(), cutter


def test_phrases_are_the_vad_regions_whatever_the_chunking():
    audio = two_voices()[0]
    regions = EnergyVad().detect(audio)
    for chunk in (160, 1600, 4093):
        phrases, _ = _cut(audio.samples, chunk)
        # flat lists: pytest 9.2's approx no longer compares nested ones
        assert [t for p in phrases for t in (p.start, p.end)] == \
            pytest.approx([t for r in regions for t in (r.start, r.end)], abs=1 / ANALYSIS_RATE)
        for p in phrases:  # each phrase holds exactly its own samples
            a = int(round(p.start * ANALYSIS_RATE))
            assert np.array_equal(p.audio.samples, audio.samples[a:a + p.audio.num_samples])
        assert [p.index for p in phrases] == list(range(len(phrases)))
        assert not any(p.cut for p in phrases)


def test_a_speaker_who_never_pauses_is_cut_at_max_phrase():
    talk = np.concatenate([low_voice(1.0, seed=1) * 0, low_voice(25.0, seed=2)])
    phrases, _ = _cut(talk.astype(np.float32), 1600, max_phrase=6.0)
    assert len(phrases) >= 4
    assert all(p.end - p.start <= 6.5 for p in phrases)
    assert any(p.cut for p in phrases)
    covered = sum(p.end - p.start for p in phrases)
    assert covered > 0.9 * 25.0  # nothing of the speech is lost at the cuts


def test_memory_stays_bounded_on_a_long_stream():
    rng = np.random.default_rng(0)
    cutter = PhraseCutter(EnergyVad(), max_phrase=5.0)
    for _ in range(600):  # 60 s of noise and speech
        cutter.feed((rng.standard_normal(1600) * 0.05).astype(np.float32))
        assert cutter._kept.size <= (5.0 + 1.5) * ANALYSIS_RATE


def test_max_phrase_must_leave_room_for_speech():
    with pytest.raises(InputError):
        PhraseCutter(EnergyVad(), max_phrase=0.5)
