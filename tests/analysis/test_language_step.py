"""The DetectLanguage step on the tiny-test preset (random tiny Whisper through hf-whisper): what
its key depends on, what it gives, and the transcribers' ``language_probabilities``."""
from __future__ import annotations

from dataclasses import replace

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from dubkit.analysis.language_id import choose_windows, combine, decide  # noqa: E402
from dubkit.backends import StageBackends  # noqa: E402
from dubkit.config import StageConfig, load_preset  # noqa: E402
from dubkit.errors import InputError  # noqa: E402
from dubkit.jobs.cache import StageCache  # noqa: E402
from dubkit.runners.cached import CachedRunner  # noqa: E402
from dubkit.steps.analysis import DetectLanguage, LanguageProbe  # noqa: E402
from dubkit.translate.router import TranscriberRouter  # noqa: E402
from dubkit.types import Audio, SpeechRegion  # noqa: E402


def _probe(voices: Audio, regions: list[SpeechRegion], track: str = "track") -> LanguageProbe:
    return LanguageProbe(track, voices, tuple(choose_windows(regions, count=3, seconds=4.0)))


def test_key_follows_the_windows_and_the_track(backends, voices):
    step = DetectLanguage(backends)
    a = _probe(voices, [SpeechRegion(0.5, 12.5)])
    assert step.key(a) == step.key(_probe(voices, [SpeechRegion(0.5, 12.5)]))
    assert step.key(a) != step.key(_probe(voices, [SpeechRegion(0.5, 10.0)]))
    assert step.key(a) != step.key(_probe(voices, [SpeechRegion(0.5, 12.5)], "other"))


def test_key_follows_the_transcriber(voices):
    probe = _probe(voices, [SpeechRegion(0.5, 12.5)])
    preset = load_preset("tiny-test")
    config = preset.stages["transcription"]
    other = StageConfig(config.backend, {**config.options, "batch_size": 2})
    changed = replace(preset, stages={**preset.stages, "transcription": other})
    assert DetectLanguage(StageBackends(preset)).key(probe) != \
        DetectLanguage(StageBackends(changed)).key(probe)


def test_one_guess_per_window_and_unmeasured_model_is_not_refused(backends, voices, tmp_path):
    probe = _probe(voices, [SpeechRegion(0.5, 3.5), SpeechRegion(4.0, 12.5)])
    assert len(probe.windows) == 3
    runner = CachedRunner(StageCache(tmp_path))
    evidence = runner.run(DetectLanguage(backends), probe)
    assert [g.seconds for g in evidence.guesses] == pytest.approx([11.5 / 3] * 3, abs=0.01)
    assert evidence.thresholds is None  # random weights: nobody measured them
    for guess in evidence.guesses:
        assert set(guess.probabilities) <= backends.get("transcription").languages
        assert sum(guess.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert runner.run(DetectLanguage(backends), probe) == evidence  # read back from the cache
    language, probability = decide(combine(evidence.guesses), evidence.thresholds)
    assert language in backends.get("transcription").languages and 0 < probability <= 1


def test_detect_language_is_the_top_of_language_probabilities(backends, voices):
    whisper = backends.get("transcription")
    clip = voices.slice(0.0, 3.0)
    probabilities = whisper.language_probabilities(clip)
    ranked = list(probabilities.values())
    assert ranked == sorted(ranked, reverse=True)
    code, probability = whisper.detect_language(clip)
    assert code == next(iter(probabilities)) and probability == pytest.approx(ranked[0])


class _Deaf:
    """A transcriber that cannot tell languages apart (as Moonshine)."""

    languages = frozenset({"en"})
    language_thresholds = None
    word_times: frozenset[str] = frozenset()

    def language_probabilities(self, audio: Audio) -> dict[str, float]:
        raise InputError("cannot tell")

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        raise InputError("cannot tell")


def test_router_asks_the_first_transcriber_that_can_tell(backends, voices):
    whisper = backends.get("transcription")
    router = TranscriberRouter([("deaf", _Deaf()), ("whisper", whisper)])
    clip = voices.slice(0.0, 2.0)
    assert router.language_probabilities(clip) == whisper.language_probabilities(clip)
    assert router.language_thresholds is None
    with pytest.raises(InputError, match="cannot tell"):
        TranscriberRouter([("deaf", _Deaf())]).language_probabilities(clip)
