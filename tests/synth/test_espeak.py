"""EspeakSynthesizer over espeakng-loader's libespeak-ng, and the espeak-ng program fallback."""
from __future__ import annotations

import re
import stat
import sys
import textwrap

import numpy as np
import pytest

from dubkit.dsp import resample, rms_dbfs
from dubkit.errors import BackendUnavailable, InputError, UnsupportedLanguage
from dubkit.languages import is_language
from dubkit.models import model_status, resolve_model
from dubkit.synth import espeak
from dubkit.synth.base import VoiceRequest
from dubkit.synth.espeak import EspeakSynthesizer

try:
    espeak.engine()
except BackendUnavailable as exc:
    pytest.skip(f"no espeak-ng: {exc}", allow_module_level=True)

TEXT = "Bonjour à tous, je suis très content d'être ici."


@pytest.fixture(scope="module")
def tts() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def test_languages_are_iso_639_1_and_many(tts):
    assert len(tts.languages) >= 80
    assert {"en", "es", "fr", "de", "ja", "zh", "ar", "hi", "ru", "pt", "no"} <= tts.languages
    assert all(is_language(code) for code in tts.languages)
    narrow = EspeakSynthesizer(languages=["fr", "de"])
    assert narrow.languages == frozenset({"fr", "de"})
    with pytest.raises(UnsupportedLanguage, match="no voice"):
        EspeakSynthesizer(languages=["fr", "xx"])


def test_voice_choice_by_gender(tts):
    synth = EspeakSynthesizer(languages=["fr", "zh"])
    women = [synth.voice_for(VoiceRequest(f"SPEAKER_0{i}", "fr", "female")) for i in range(3)]
    assert len(set(women)) == 3 and all(re.fullmatch(r"fr\+f\d", v) for v in women)
    man = synth.voice_for(VoiceRequest("SPEAKER_03", "fr", "male"))
    assert re.fullmatch(r"fr\+m\d", man)
    assert synth.voice_for(VoiceRequest("SPEAKER_04", "fr", None)).startswith("fr+m")
    assert synth.voice_for(VoiceRequest("SPEAKER_00", "zh", "female")) == "cmn+f1"
    override = EspeakSynthesizer(languages=["en"], voices={"en": "en-US"})
    assert override.voice_for(VoiceRequest("SPEAKER_01", "en", "male")) == "en-US+m2"
    stock = synth.stock_voices("fr")  # every variant, gendered, each one it can speak
    assert sorted(g for g in stock.values()) == ["female"] * 5 + ["male"] * 7
    assert women[0] in stock and man in stock
    assert synth.synthesize("Bonjour.", "fr", next(iter(stock))).duration > 0.2


def test_output_shape_level_and_determinism(tts):
    voice = tts.voice_for(VoiceRequest("SPEAKER_00", "fr", "female"))
    audio = tts.synthesize(TEXT, "fr", voice)
    assert audio.rate == 22_050
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert 1.5 < audio.duration < 6.0
    assert np.all(np.abs(audio.samples) <= 1.0) and rms_dbfs(audio.samples) > -35.0
    for _ in range(2):  # espeak-ng's own globals would drift between calls
        assert np.array_equal(tts.synthesize(TEXT, "fr", voice).samples, audio.samples)
    male = tts.synthesize(TEXT, "fr", "fr+m3")
    assert male.num_samples != audio.num_samples or not np.array_equal(male.samples,
                                                                       audio.samples)


def test_unsupported_language_and_bad_voices(tts):
    with pytest.raises(UnsupportedLanguage, match="cannot speak"):
        tts.synthesize("hello", "xx", "en")
    with pytest.raises(UnsupportedLanguage):
        EspeakSynthesizer(languages=["fr"]).voice_for(VoiceRequest("S", "de", "male"))
    with pytest.raises(InputError, match="variant"):
        tts.synthesize("bonjour", "fr", "fr+f9")
    with pytest.raises(InputError, match="no voice"):
        tts.synthesize("bonjour", "fr", "nosuchvoice")
    with pytest.raises(InputError):
        EspeakSynthesizer(words_per_minute=10)


@pytest.mark.parametrize("text", ["", "  ", "...!?"])
def test_nothing_to_say_gives_short_silence(tts, text):
    audio = tts.synthesize(text, "fr", "fr+f1")
    assert audio.rate == 22_050 and 0 < audio.duration <= 0.5 and not np.any(audio.samples)


def test_japanese_kanji_is_read_as_kana(tts):
    pytest.importorskip("pyopenjtalk")
    assert espeak._kana("今日は良い天気") == "キョーワヨイテンキ"
    # espeak-ng spells out kanji one by one: far longer than the sentence
    assert tts.synthesize("今日は良い天気です。", "ja", "ja+f2").duration < 2.5


def test_phonemize_keeps_punctuation_and_stress():
    assert espeak.phonemize("Hola, ¿cómo estás?", "es") == "ˈola, ¿kˈomo estˈas?"


def test_phoneme_tags_are_ones_phonemize_takes():
    assert espeak.phoneme_tag("fr") == "fr-fr"  # phonemizer refuses the bare "fr"
    assert espeak.phoneme_tag("zh") == "cmn"
    assert espeak.phoneme_tag("it") == "it"
    assert espeak.phonemize("Bonjour.", espeak.phoneme_tag("fr")).startswith("bɔ̃ʒ")
    with pytest.raises(UnsupportedLanguage):
        espeak.phoneme_tag("xx")


def test_backend_for_names_itself(tts):
    assert tts.backend_for("fr") == "espeak"
    with pytest.raises(UnsupportedLanguage):
        tts.backend_for("xx")


def test_round_trip_through_whisper(tts):
    faster_whisper = pytest.importorskip("faster_whisper")
    if not model_status("whisper-tiny-en").available:
        pytest.skip("model whisper-tiny-en is not installed")
    model = faster_whisper.WhisperModel(str(resolve_model("whisper-tiny-en").path),
                                        device="cpu", compute_type="int8", cpu_threads=2)
    text = "Let us take a walk in the park."
    audio = tts.synthesize(text, "en", "en-US+f3")
    segments, _ = model.transcribe(resample(audio, 16_000).samples, language="en", beam_size=1,
                                   temperature=0.0)  # greedy: no sampled fallback
    words = lambda s: re.sub(r"[^a-z ]", "", s.lower()).split()
    assert words("".join(s.text for s in segments)) == words(text)


FAKE_ESPEAK = """\
    #!{python}
    import sys, wave
    args = sys.argv[1:]
    if args == ["--voices"]:
        print("Pty Language Age/Gender VoiceName File Other Languages")
        print(" 5  af              --/M      Afrikaans          gmw/af")
        print(" 2  en-gb           --/M      English_(Great_Britain) gmw/en            (en 2)")
        print(" 5  cmn  --/M  Chinese_(Mandarin) sit/cmn  (zh-cmn 5)(zh 5)")
        sys.exit(0)
    path = args[args.index("-w") + 1]
    text = sys.stdin.read()
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)
        w.writeframes(b"\\x00\\x10" * (100 * len(text)))
"""


def test_program_on_path_as_fallback(tmp_path, monkeypatch):
    exe = tmp_path / "espeak-ng"
    exe.write_text(textwrap.dedent(FAKE_ESPEAK.format(python=sys.executable)))
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    program = espeak._Program(str(exe))
    monkeypatch.setattr(espeak, "engine", lambda: program)
    espeak.iso_voices.cache_clear()
    try:
        synth = EspeakSynthesizer()
        assert synth.languages == frozenset({"af", "en", "zh"})
        voice = synth.voice_for(VoiceRequest("SPEAKER_00", "zh", "female"))
        assert voice == "cmn+f1"
        audio = synth.synthesize("ni hao", "zh", voice)
        assert audio.rate == 22_050 and audio.num_samples == 600
    finally:
        espeak.iso_voices.cache_clear()
