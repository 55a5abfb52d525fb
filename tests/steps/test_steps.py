"""Steps called directly with real small inputs, and the cached runner that drives them in batch
jobs: a result is computed once, read back the same, and computed again when damaged."""
from __future__ import annotations

import numpy as np
import pytest

from dubkit.backends import StageBackends
from dubkit.config import load_preset
from dubkit.jobs.cache import StageCache, audio_id
from dubkit.runners.cached import CachedRunner
from dubkit.steps.analysis import FindSpeech, LineSpeech, MeasureProsody, Track
from dubkit.steps.speech import FitTiming, Slotting, Speakable, Synthesize
from dubkit.steps.text import Sentence, Transcribe, Translate, Utterance
from dubkit.synth.base import VoiceRequest
from dubkit.synth.fit import TempoFitter
from dubkit.translate.base import TranslationRequest


def test_find_speech_on_a_real_signal(backends, voices):
    regions = FindSpeech(backends).process(Track(voices, audio_id(voices)))
    assert regions and all(0 <= r.start < r.end <= voices.duration + 1e-6 for r in regions)
    speech = sum(r.end - r.start for r in regions)
    assert 0.3 * voices.duration < speech <= voices.duration + 1e-6


def test_keys_follow_what_the_result_depends_on(backends, voices):
    step = Transcribe(backends)
    clip = voices.slice(0.0, 1.0)
    a = Utterance("track", 0.0, 1.0, clip, "en")
    assert step.key(a) == step.key(Utterance("track", 0.0, 1.0, clip, "en"))
    assert step.key(a) != step.key(Utterance("track", 0.0, 1.0, clip, "es"))
    assert step.key(a) != step.key(Utterance("track", 0.0, 1.5, clip, "en"))
    assert step.key(a) != step.key(Utterance("other", 0.0, 1.0, clip, "en"))
    text = Translate(backends)
    request = TranslationRequest("Hello there.")
    assert text.key(Sentence("text", request, "en", "es")) != \
        Translate(backends, shorten=True).key(Sentence("text", request, "en", "es"))


def test_text_steps_give_text(backends, voices):
    said = Transcribe(backends).process(Utterance("t", 0.0, 1.0, voices.slice(0, 1), "en"))
    assert isinstance(said, str)
    same = Translate(backends).process(Sentence("same", TranslationRequest("Hola."), "es", "es"))
    assert same.text == "Hola." and same.flags == ()
    empty = Translate(backends).process(Sentence("text", TranslationRequest("  "), "en", "es"))
    assert empty.text.strip() == ""


def test_speech_steps_on_real_audio(backends, voices):
    synth = backends.get("synthesis")
    voice = synth.voice_for(VoiceRequest("A", "en"))
    speech = Synthesize(backends).process(Speakable("Hello there.", "en", voice))
    assert speech.duration > 0 and np.all(np.isfinite(speech.samples))
    fitted = FitTiming(TempoFitter(max_tempo=1.2, min_tempo=0.85)).process(
        Slotting("k", voices.slice(0.0, 2.0), 1.8))
    assert 0.85 <= fitted.tempo <= 1.2 and fitted.length == pytest.approx(fitted.audio.duration)
    prosody = MeasureProsody().process(LineSpeech("t", "original", voices, 0.0, 2.0))
    assert prosody.to_dict()


class Counting:
    """A step that doubles numbers and counts its calls (``process_many`` batches)."""

    name = "double"

    class codec:  # noqa: N801 - a codec object, used as the class itself
        form = "json"

        @staticmethod
        def encode(result):
            return {"value": result}

        @staticmethod
        def decode(stored):
            return stored["value"]

    def __init__(self):
        self.calls: list[list[int]] = []

    def key(self, item: int) -> str:
        return f"{item:064d}"

    def process(self, item: int) -> int:
        return self.process_many([item])[0]

    def process_many(self, items):
        self.calls.append(list(items))
        return [2 * i for i in items]


def test_a_result_is_computed_once_and_reused(tmp_path):
    cache = StageCache(tmp_path)
    step = Counting()
    assert CachedRunner(cache).run(step, 3) == 6
    assert CachedRunner(StageCache(tmp_path)).run(step, 3) == 6
    assert step.calls == [[3]]
    assert cache.computed["double"] == 1


def test_only_missing_items_are_batched(tmp_path):
    runner, step = CachedRunner(StageCache(tmp_path)), Counting()
    runner.run(step, 2)
    assert runner.run_many(step, [1, 2, 3]) == [2, 4, 6]
    assert step.calls == [[2], [1, 3]]


def test_a_damaged_entry_is_computed_again(tmp_path):
    runner, step = CachedRunner(StageCache(tmp_path)), Counting()
    runner.run(step, 5)
    entry = next((tmp_path / "double").glob("*.json"))
    entry.write_text(entry.read_text().replace("10", "11"))  # the checksum no longer matches
    fresh = StageCache(tmp_path)
    assert CachedRunner(fresh).run(step, 5) == 10
    assert fresh.repaired["double"] == 1 and len(step.calls) == 2


def test_a_record_without_its_audio_is_a_miss(tmp_path, voices):
    runner = CachedRunner(StageCache(tmp_path))
    step = FitTiming(TempoFitter(max_tempo=1.2, min_tempo=0.85))
    item = Slotting("k", voices.slice(0.0, 1.0), 1.0)
    first = runner.run(step, item)
    for wav in (tmp_path / "fit").glob("*.wav"):
        wav.unlink()
    again = CachedRunner(StageCache(tmp_path)).run(step, item)
    assert again.length == pytest.approx(first.length)
    assert np.allclose(again.audio.samples, first.audio.samples, atol=1e-6)


def test_computed_and_read_back_results_are_equal(tmp_path, voices):
    """A job's output must not depend on whether a value came from this run or the store."""
    step = FindSpeech(StageBackends(load_preset("tiny-test")))
    track = Track(voices, audio_id(voices))
    computed = CachedRunner(StageCache(tmp_path)).run(step, track)
    read_back = CachedRunner(StageCache(tmp_path)).run(step, track)
    assert computed == read_back
