"""A sentence that pauses cut into lines is translated once, shared out among its lines, and
shortened as a whole when it does not fit (the text and speech stages, with fake models)."""
from __future__ import annotations

from contextlib import nullcontext
from types import SimpleNamespace

import numpy as np
import pytest

from dubkit.config import FitConfig
from dubkit.jobs.cache import StageCache
from dubkit.progress import ignore_progress
from dubkit.runners.cached import CachedRunner
from dubkit.stages import speech, text
from dubkit.types import Audio, Segment

JFK = [
    Segment("seg-0001", 0.0, 2.0, "S1", "And so my fellow Americans"),
    Segment("seg-0002", 2.5, 3.5, "S1", "ASK NOT!"),
    Segment("seg-0003", 4.0, 9.0, "S1",
            "what your country can do for you, ask what you can do for your country."),
    Segment("seg-0004", 10.0, 11.0, "S2", "Thank you."),
]
SPANISH = ("Y así, mis compatriotas, no pregunten qué puede hacer su país por ustedes, "
           "pregunten qué pueden hacer ustedes por su país.")
SHORT = "Compatriotas, no pidan a su país, den a su país."


class FakeTranslator:
    """Answers whole sentences it knows; anything else word for word in capitals."""

    languages = frozenset({"en", "es"})

    def __init__(self, answers: dict[str, str]):
        self.answers = answers
        self.requests = []

    def translate(self, requests, source, target):
        self.requests += list(requests)
        out = []
        for r in requests:
            if r.max_chars is not None:
                out.append(SHORT)
            else:
                out.append(self.answers.get(r.text, r.text.upper()))
        return out

    def translate_with_flags(self, requests, source, target):
        return [(t, ()) for t in self.translate(requests, source, target)]


def fake_job(tmp_path, translator):
    backends = SimpleNamespace(
        get=lambda stage: translator,
        has=lambda stage: stage == "translation",
        fingerprint=lambda stage: "fake",
    )
    cache = StageCache(tmp_path / "cache")
    return SimpleNamespace(
        backends=backends, cache=cache, runner=CachedRunner(cache), audio_id="0" * 64,
        timed=lambda stage: nullcontext(), progress=ignore_progress,
        preset=SimpleNamespace(fit=FitConfig(), pipeline=SimpleNamespace(english_via_asr=False)),
    )


def test_a_cut_sentence_is_translated_once_and_shared_by_time(tmp_path):
    joined = ("And so my fellow Americans ask not what your country can do for you, ask what "
              "you can do for your country.")
    translator = FakeTranslator({joined: SPANISH, "Thank you.": "Gracias."})
    job = fake_job(tmp_path, translator)
    out = text.translate(job, Audio.silence(12.0, 16000), JFK, "en", "es", previous=None)
    assert [r.text for r in translator.requests] == [joined, "Thank you."]
    assert translator.requests[0].next == "Thank you."
    assert " ".join(s.target_text for s in out[:3]) == SPANISH
    assert out[0].target_text == "Y así, mis compatriotas,"  # 2 s of 8: up to the first comma
    assert out[3].target_text == "Gracias."
    assert [s.source_text for s in out] == [s.source_text for s in JFK]  # sources untouched


def test_a_sentence_with_fewer_words_than_lines_is_translated_line_by_line(tmp_path):
    joined = text.span_request(JFK, [0, 1, 2]).text
    translator = FakeTranslator({joined: "Sí."})  # one word cannot serve three lines
    job = fake_job(tmp_path, translator)
    out = text.translate(job, Audio.silence(12.0, 16000), JFK, "en", "es", previous=None)
    assert [s.target_text for s in out[:3]] == [s.source_text.upper() for s in JFK[:3]]
    assert all(s.target_text for s in out)


def chars_voice(seconds_per_char: float):
    """A fake synthesizer: a tone lasting ``seconds_per_char`` per character."""

    def speak(seg, words):
        n = int(16000 * seconds_per_char * len(words))
        tone = 0.3 * np.sin(2 * np.pi * 200 * np.arange(n) / 16000)
        return speech.Spoken(Audio(tone.astype(np.float32), 16000), f"tone-{words}", ())

    return speak


@pytest.mark.parametrize("seconds_per_char, shortened", [(0.12, True), (0.05, False)])
def test_a_sentence_too_long_for_its_lines_is_shortened_as_a_whole(tmp_path, seconds_per_char,
                                                                   shortened):
    joined = text.span_request(JFK, [0, 1, 2]).text
    translator = FakeTranslator({joined: SPANISH})
    job = fake_job(tmp_path, translator)
    lines = text.translate(job, Audio.silence(12.0, 16000), JFK, "en", "es", previous=None)
    source = Audio(np.full(16000 * 12, 0.3, np.float32), 16000)  # speech over every slot
    fitted, flags = speech._fit_sentence(job, lines, [0, 1, 2], "en", "es",
                                         chars_voice(seconds_per_char), speech.VoicePlan(),
                                         source)
    budgets = [r.max_chars for r in translator.requests if r.max_chars is not None]
    if shortened:  # 123 characters at 0.12 s need 14.8 s; the lines have 8 s at 1.2x = 9.6 s
        assert len(budgets) == 1 and budgets[0] < len(SPANISH) * 9.6 / 14.8
        assert " ".join(s.target_text for s in fitted) == SHORT
        assert flags == ("shortened",)
        # and a later run does not take the shortened pieces for a user's edits
        previous = SimpleNamespace(target_language="es", segments=fitted + lines[3:])
        again = text.translate(job, Audio.silence(12.0, 16000), JFK, "en", "es", previous)
        assert not any("edited" in s.flags for s in again)
    else:
        assert budgets == [] and flags == ()
        assert [s.target_text for s in fitted] == [s.target_text for s in lines[:3]]
