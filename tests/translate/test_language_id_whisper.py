"""Language ID from windows with the real Whisper base (faster-whisper) on real recordings from
../shared/data: the ``DetectLanguage`` step, ``combine`` and ``decide`` as the job runs them
(skipped when the model, the VAD or the recordings are missing)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")

from dubkit.analysis.language_id import choose_windows, combine, decide  # noqa: E402
from dubkit.backends import StageBackends  # noqa: E402
from dubkit.config import load_preset  # noqa: E402
from dubkit.errors import UncertainLanguage  # noqa: E402
from dubkit.models import model_status  # noqa: E402
from dubkit.steps.analysis import DetectLanguage, LanguageProbe  # noqa: E402
from dubkit.testing.music import music  # noqa: E402
from dubkit.types import Audio, SpeechRegion  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def backends() -> StageBackends:
    for name in ("whisper-base", "silero-vad"):
        status = model_status(name)
        if not status.available:
            pytest.skip(f"model {name} is not installed: {status.detail}")
    return StageBackends(load_preset("cpu"))


def _clip(relative: str) -> Audio:
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"real recordings are missing: {path} (see shared/data/README.md)")
    from dubkit.media import decode_audio

    return decode_audio(path, rate=16_000, mono=True)


def _detect(backends: StageBackends, audio: Audio,
            regions: list[SpeechRegion]) -> tuple[str, float]:
    """What ``stages.analysis.detect_language`` does, without a job around it."""
    windows = tuple(choose_windows(regions))
    evidence = DetectLanguage(backends).process(LanguageProbe("test", audio, windows))
    return decide(combine(evidence.guesses), evidence.thresholds)


@pytest.mark.parametrize("intro", [20.0, 30.0])
def test_english_after_a_music_intro_is_english(backends, intro):
    jfk = _clip("en_jfk/jfk.flac")
    tune = music(intro, seed=2)
    mixed = Audio(np.concatenate([tune.samples, jfk.samples]), 16_000)
    # the worst case: the VAD took the whole intro for speech
    regions = [SpeechRegion(0.0, intro),
               *(r.with_offset(intro) for r in backends.get("vad").detect(jfk))]
    whisper = backends.get("transcription")
    # the intro alone sounds like another language to Whisper (Romanian); with a 30 s intro it
    # is all that the old probe, the first 30 s of speech, heard
    heard, _ = whisper.detect_language(tune)
    assert heard != "en"
    language, probability = _detect(backends, mixed, regions)
    assert language == "en" and probability > 0.6


@pytest.mark.parametrize("relative, language", [
    ("multi_speechrecognition/english.wav", "en"),
    ("multi_speechrecognition/french.aiff", "fr"),
    ("multi_speechrecognition/chinese.flac", "zh"),
    ("multi_picovoice_leopard/test_fr.wav", "fr"),
    ("multi_picovoice_leopard/test_ko.wav", "ko"),
])
def test_short_clips_are_right_or_refused(backends, relative, language):
    clip = _clip(relative)
    regions = backends.get("vad").detect(clip)
    try:
        detected, _ = _detect(backends, clip, regions)
    except UncertainLanguage as refused:
        assert "--from" in str(refused)
    else:
        assert detected == language


@pytest.mark.parametrize("relative, language, wrong", [
    ("fleurs_asr/fleurs-pt-005.ogg", "pt", "en"),
    ("fleurs_asr/fleurs-de-009.ogg", "de", "tr"),
])
def test_a_short_crop_that_whisper_mistakes_is_refused(backends, relative, language, wrong):
    clip = _clip(relative)
    regions = backends.get("vad").detect(clip)
    # 1.5 s of speech from the middle of the clip's speech
    total = sum(r.duration for r in regions)
    lo, at, crop = (total - 1.5) / 2, 0.0, []
    for r in regions:
        a, b = max(lo, at), min(lo + 1.5, at + r.duration)
        if b > a:
            crop.append(SpeechRegion(r.start + a - at, r.start + b - at))
        at += r.duration
    speech = Audio(np.concatenate([clip.slice(r.start, r.end).samples for r in crop]), 16_000)
    assert backends.get("transcription").detect_language(speech)[0] == wrong  # the mistake
    with pytest.raises(UncertainLanguage, match=wrong):
        _detect(backends, clip, crop)
    # the whole clip is heard right
    assert _detect(backends, clip, regions)[0] == language
