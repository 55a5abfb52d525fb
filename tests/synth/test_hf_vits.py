"""HFVitsSynthesizer on tiny random VITS folders (the loader MMS-TTS checkpoints go through)."""
from __future__ import annotations

import inspect
import json
import os
import shutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("torch")
pytest.importorskip("transformers")

from dubkit.errors import InputError, UnsupportedLanguage  # noqa: E402
from dubkit.synth import hf_vits  # noqa: E402
from dubkit.synth.base import VoiceRequest  # noqa: E402
from dubkit.synth.hf_vits import HFVitsSynthesizer, _speakable  # noqa: E402
from dubkit.testing.tiny_models import DUBKIT_JSON, TINY_LANGUAGES, build_tiny_vits  # noqa: E402
from dubkit.types import Audio  # noqa: E402

HOP = 256  # samples per VITS frame at 16 kHz


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_tiny_vits(tmp_path_factory.mktemp("vits") / "tiny-vits")


@pytest.fixture(scope="module")
def tts(folder):
    return HFVitsSynthesizer(folder, device="cpu")


def test_languages_from_the_model_card(tts):
    assert tts.languages == frozenset(TINY_LANGUAGES)
    assert tts.name == "hf-vits:tiny-vits"


def test_voice_names_and_gender(tts):
    female = tts.voice_for(VoiceRequest("SPEAKER_00", "es", "female"))
    male = tts.voice_for(VoiceRequest("SPEAKER_01", "es", "male"))
    assert (female, male) == ("vits:tiny-vits:0", "vits:tiny-vits:1")
    unknown = {tts.voice_for(VoiceRequest(f"S{i}", "en")) for i in range(8)}
    assert unknown == {"vits:tiny-vits:0", "vits:tiny-vits:1"}  # speakers spread over voices
    assert tts.voice_for(VoiceRequest("S1", "en")) == tts.voice_for(VoiceRequest("S1", "fr"))


def test_two_speakers_of_unknown_gender_get_distinct_voices(folder):
    """The model has two voices: a job's two speakers share one only when a third comes (a hash
    of the label used to give SPEAKER_10 and SPEAKER_12 the same one)."""
    tts = HFVitsSynthesizer(folder, device="cpu")  # a job's own: no speakers given yet
    first = tts.voice_for(VoiceRequest("SPEAKER_10", "de"))
    second = tts.voice_for(VoiceRequest("SPEAKER_12", "de"))
    assert first != second


def test_synthesize_shape_rate_and_determinism(tts):
    voice = tts.voice_for(VoiceRequest("SPEAKER_00", "fr", "female"))
    audio = tts.synthesize("Bonjour à tous, ça va très bien.", "fr", voice)
    assert isinstance(audio, Audio)
    assert audio.rate == 16_000
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert audio.num_samples > 0 and audio.num_samples % HOP == 0
    assert np.all(np.abs(audio.samples) <= 1.0)
    again = tts.synthesize("Bonjour à tous, ça va très bien.", "fr", voice)
    assert np.array_equal(audio.samples, again.samples)
    other_voice = tts.synthesize("Bonjour à tous, ça va très bien.", "fr", "vits:tiny-vits:1")
    assert not np.array_equal(audio.samples, other_voice.samples[: audio.num_samples])


def test_synthesis_leaves_the_global_random_state_alone(tts):
    import torch

    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    tts.synthesize("hello", "en", "vits:tiny-vits:0")
    assert torch.equal(torch.rand(2), expected)


@pytest.mark.parametrize("text", ["", "   ", "日本語のテキスト", "!?…", "\n\t"])
def test_nothing_to_say_gives_short_silence(tts, text):
    audio = tts.synthesize(text, "ja", "vits:tiny-vits:0")
    assert audio.rate == 16_000
    assert audio.duration == pytest.approx(0.2)
    assert not audio.samples.any()


def test_unknown_characters_are_mapped_or_dropped(tts):
    vocab = tts._load(tts._folder("en"))[0].get_vocab()
    assert _speakable("Hello, WORLD! © 2024", vocab, True) == "hello world"
    assert _speakable("Ǆemal Ŧest", vocab, True) == "dzemal est"  # ǆ -> dz, ŧ dropped
    assert _speakable("naïve", vocab, True) == "naïve"  # kept where the model has it
    mixed = tts.synthesize("Tōkyō 東京 station", "ja", "vits:tiny-vits:0")
    assert mixed.num_samples > HOP


def test_errors(tts):
    with pytest.raises(UnsupportedLanguage):
        tts.synthesize("hello", "sw", "vits:tiny-vits:0")
    with pytest.raises(UnsupportedLanguage):
        tts.voice_for(VoiceRequest("S", "xx"))
    with pytest.raises(InputError):
        tts.synthesize("hello", "en", "kokoro:jf_alpha")
    with pytest.raises(InputError):
        tts.synthesize("hello", "en", "vits:tiny-vits:7")


def test_a_dubbed_line_s_length_is_spoken_the_same_twice(tts):
    """(Its speed is a benchmark's business, not a timed test's: the suite runs under load.)"""
    text = "This sentence is a little longer, about as long as one dubbed line."
    first = tts.synthesize(text, "en", "vits:tiny-vits:0")
    again = tts.synthesize(text, "en", "vits:tiny-vits:0")
    assert first.duration > 0.5 and first.duration > tts.synthesize("Hi.", "en",
                                                                    "vits:tiny-vits:0").duration
    assert np.array_equal(first.samples, again.samples)


def test_one_folder_per_language(folder, tmp_path):
    spanish = shutil.copytree(folder, tmp_path / "mms-tts-spa")
    tts = HFVitsSynthesizer({"en": folder, "ES": spanish}, device="cpu")
    assert tts.languages == frozenset({"en", "es"})
    assert tts._loaded == {}  # models load on first use
    voice = tts.voice_for(VoiceRequest("S", "es", "male"))
    assert voice == "vits:mms-tts-spa:1"
    assert tts.synthesize("hola", "es", voice).rate == 16_000
    assert list(tts._loaded) == [spanish]
    with pytest.raises(UnsupportedLanguage):
        tts.synthesize("bonjour", "fr", voice)


def test_mms_folder_without_card_uses_the_tokenizer_language(folder, tmp_path):
    mms = shutil.copytree(folder, tmp_path / "mms-tts-por")
    (mms / DUBKIT_JSON).unlink()
    config_file = mms / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    config["language"] = "por"
    config_file.write_text(json.dumps(config))
    tts = HFVitsSynthesizer(mms, device="cpu")
    assert tts.languages == frozenset({"pt"})
    # without gender names every speaker is a candidate
    voice = tts.voice_for(VoiceRequest("S", "pt", "female"))
    assert voice in {"vits:mms-tts-por:0", "vits:mms-tts-por:1"}
    config["language"] = None
    config_file.write_text(json.dumps(config))
    with pytest.raises(InputError):
        HFVitsSynthesizer(mms, device="cpu")
    assert HFVitsSynthesizer(mms, device="cpu", languages=["pt", "es"]).languages == {"pt", "es"}


def test_no_special_case_for_tiny_models():
    assert "tiny" not in inspect.getsource(hf_vits).lower()
