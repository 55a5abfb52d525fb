"""HFWhisperTranscriber on tiny random Whisper folders (the loader real checkpoints go through)."""
from __future__ import annotations

import inspect
import json
import os
import shutil
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("torch")
pytest.importorskip("transformers")

from dubkit.errors import InputError, UnsupportedLanguage  # noqa: E402
from dubkit.testing.tiny_models import (  # noqa: E402
    TINY_LANGUAGES,
    TINY_WHISPER_MAX_NEW_TOKENS,
    build_tiny_whisper,
)
from dubkit.translate import hf_whisper  # noqa: E402
from dubkit.translate.hf_whisper import HFWhisperTranscriber  # noqa: E402
from dubkit.types import Audio, Transcript  # noqa: E402


def _speechlike(seconds: float, rate: int = 16_000, seed: int = 0) -> Audio:
    """Voiced bursts with pauses: a harmonic tone under a syllable-rate envelope, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) * (np.sin(2 * np.pi * 0.4 * t) > -0.3)
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
    samples = 0.3 * envelope * voice + 0.01 * rng.standard_normal(t.size)
    return Audio(samples.astype(np.float32), rate)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_tiny_whisper(tmp_path_factory.mktemp("whisper") / "tiny-whisper")


@pytest.fixture(scope="module")
def asr(folder):
    return HFWhisperTranscriber(folder, device="cpu")


def test_languages_come_from_the_generation_config(asr):
    assert asr.languages == frozenset(TINY_LANGUAGES)
    assert asr.multilingual
    assert asr.name == "hf-whisper:tiny-whisper"
    assert asr.window_seconds == 10.0


def test_transcribe_returns_text_in_the_requested_language(asr):
    for language in ("en", "ja", "es"):
        result = asr.transcribe(_speechlike(3.0), language)
        assert isinstance(result, Transcript)
        assert result.language == language
        assert isinstance(result.text, str)
        assert result.text == result.text.strip()
        assert "<|" not in result.text  # special tokens skipped


def test_translate_task_gives_english(asr):
    result = asr.transcribe(_speechlike(3.0), "ja", task="translate")
    assert result.language == "en"


def test_language_and_task_reach_the_decoder_prompt(asr, monkeypatch):
    seen = []
    original = asr.model.generate

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append((kwargs.get("language"), kwargs.get("task"), out))
        return out

    monkeypatch.setattr(asr.model, "generate", spy)
    asr.transcribe(_speechlike(2.0), "fr", task="translate")
    language, task, out = seen[0]
    assert (language, task) == ("<|fr|>", "translate")
    assert out.shape[-1] <= 4 + TINY_WHISPER_MAX_NEW_TOKENS


def test_detect_language(asr):
    language, probability = asr.detect_language(_speechlike(3.0))
    assert language in asr.languages
    assert 0.0 <= probability <= 1.0
    assert asr.detect_language(_speechlike(3.0)) == (language, probability)


def test_unsupported_language_and_task(asr):
    with pytest.raises(UnsupportedLanguage):
        asr.transcribe(_speechlike(1.0), "sw")
    with pytest.raises(UnsupportedLanguage):
        asr.transcribe(_speechlike(1.0), "klingon")
    with pytest.raises(InputError):
        asr.transcribe(_speechlike(1.0), "en", task="summarize")


def test_other_rates_and_stereo_are_resampled(asr):
    mono = _speechlike(2.0, rate=44_100)
    stereo = Audio(np.stack([mono.samples, mono.samples]), 44_100)
    assert asr.transcribe(stereo, "de").language == "de"


def test_long_audio_is_cut_into_windows(asr, monkeypatch):
    audio = _speechlike(25.0)
    pieces = asr._split(asr._prepare(audio))
    assert len(pieces) == 3
    assert all(p.size <= asr.window_seconds * 16_000 for p in pieces)
    assert sum(p.size for p in pieces) == audio.num_samples

    batches = []
    original = asr._generate

    def spy(pieces, code, task):
        batches.append(len(pieces))
        return original(pieces, code, task)

    monkeypatch.setattr(asr, "_generate", spy)
    results = asr.transcribe_batch([audio, _speechlike(3.0, seed=1)], "en")
    assert [r.language for r in results] == ["en", "en"]
    assert batches == [4]  # 3 windows + 1 clip in one batch


def test_batch_matches_one_by_one(asr):
    clips = [_speechlike(2.0, seed=s) for s in range(3)]
    one_by_one = [asr.transcribe(c, "it") for c in clips]
    assert asr.transcribe_batch(clips, "it") == one_by_one


def test_empty_audio_gives_empty_text(asr):
    assert asr.transcribe(Audio.silence(0.0, 16_000), "en") == Transcript("", "en")


def test_fast_enough(asr):
    clip = _speechlike(4.0)
    asr.transcribe(clip, "en")
    start = time.perf_counter()
    asr.transcribe(clip, "en")
    asr.detect_language(clip)
    assert time.perf_counter() - start < 2.0  # about 0.1 s on 2 CPU cores


def test_max_new_tokens_is_configurable_and_bounded(folder, monkeypatch):
    asr = HFWhisperTranscriber(folder, device="cpu", max_new_tokens=3)
    lengths = []
    original = asr.model.generate

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        lengths.append(out.shape[-1])
        return out

    monkeypatch.setattr(asr.model, "generate", spy)
    asr.transcribe(_speechlike(2.0), "en")
    assert lengths[0] <= 4 + 3
    capped = HFWhisperTranscriber(folder, device="cpu", max_new_tokens=10_000)
    assert capped.max_new_tokens == capped.model.config.max_target_positions - 4


def test_real_whisper_window_is_30_seconds(tmp_path):
    folder = build_tiny_whisper(tmp_path / "w30", chunk_seconds=30)
    asr = HFWhisperTranscriber(folder, device="cpu")
    assert asr.window_seconds == 30.0
    assert asr.model.config.max_source_positions == 1500  # as every real Whisper
    assert len(asr._split(asr._prepare(_speechlike(65.0)))) == 3
    assert asr.transcribe(_speechlike(35.0), "ko").language == "ko"


def test_english_only_checkpoint(folder, tmp_path):
    english = shutil.copytree(folder, tmp_path / "tiny-en")
    gen_file = english / "generation_config.json"
    gen = json.loads(gen_file.read_text())
    gen["is_multilingual"] = False
    gen_file.write_text(json.dumps(gen))
    asr = HFWhisperTranscriber(english, device="cpu")
    assert asr.languages == frozenset({"en"})
    assert asr.detect_language(_speechlike(1.0)) == ("en", 1.0)
    assert asr.transcribe(_speechlike(1.0), "en").language == "en"
    with pytest.raises(UnsupportedLanguage):
        asr.transcribe(_speechlike(1.0), "ja")


def test_no_special_case_for_tiny_models():
    assert "tiny" not in inspect.getsource(hf_whisper).lower()
