"""OpenJTalkSynthesizer on the real mei_normal HTS voice packaged in pyopenjtalk-plus.

The round trip transcribes the speech back with Whisper base; it skips when that is missing.
"""
from __future__ import annotations

import re
import threading
import unicodedata

import numpy as np
import pytest

from dubkit.analysis.pitch import median_f0
from dubkit.config import StageConfig
from dubkit.dsp import resample, rms_dbfs, speech_bounds
from dubkit.errors import InputError, ModelUnavailable, UnsupportedLanguage
from dubkit.models import model_status, resolve_model
from dubkit.registry import create_backend
from dubkit.synth.base import VoiceRequest
from dubkit.types import Audio

pyopenjtalk = pytest.importorskip("pyopenjtalk", reason="pyopenjtalk-plus is not installed")

from dubkit.synth import openjtalk  # noqa: E402
from dubkit.synth.openjtalk import OpenJTalkSynthesizer  # noqa: E402

TEXT = "新しい技術が私たちの生活を大きく変えています。駅までの道を教えていただけますか。"
SENTENCES = ["今日はとても良い天気ですね。", "明日の会議は午後三時から始まります。",
             "この料理はとても美味しいので、皆さんにおすすめします。"]


@pytest.fixture(scope="module")
def tts() -> OpenJTalkSynthesizer:
    return OpenJTalkSynthesizer()


@pytest.fixture(scope="module")
def speech(tts) -> Audio:
    return tts.synthesize(TEXT, "ja", "mei_normal")


def test_languages_voices_rate_and_name(tts):
    assert tts.languages == frozenset({"ja"})
    assert tts.voices == ["mei_normal", "mei_normal-low"]
    assert tts.rate == 48_000
    assert tts.name == "openjtalk:mei_normal"


def test_voice_choice_by_gender(tts):
    assert tts.voice_for(VoiceRequest("SPEAKER_00", "ja", "female")) == "mei_normal"
    assert tts.voice_for(VoiceRequest("SPEAKER_01", "ja", "male")) == "mei_normal-low"
    assert tts.voice_for(VoiceRequest("SPEAKER_02", "ja", None)) == "mei_normal"
    single = OpenJTalkSynthesizer(male_half_tone=0)
    assert single.voices == ["mei_normal"]
    assert single.voice_for(VoiceRequest("SPEAKER_01", "ja", "male")) == "mei_normal"


def test_unsupported_language_and_bad_options(tts, tmp_path):
    with pytest.raises(UnsupportedLanguage, match="cannot speak"):
        tts.synthesize("Hello there", "en", "mei_normal")
    with pytest.raises(UnsupportedLanguage):
        tts.voice_for(VoiceRequest("S", "zh", "female"))
    with pytest.raises(InputError, match="no voice"):
        tts.synthesize("こんにちは", "ja", "jf_alpha")
    with pytest.raises(InputError, match="speed"):
        OpenJTalkSynthesizer(speed=3.0)
    with pytest.raises(InputError, match="half_tone"):
        OpenJTalkSynthesizer(male_half_tone=4.0)
    with pytest.raises(ModelUnavailable, match="no Open JTalk"):
        OpenJTalkSynthesizer(voice_path=tmp_path / "missing.htsvoice")
    junk = tmp_path / "junk.htsvoice"
    junk.write_bytes(b"not an HTS voice" * 64)
    with pytest.raises(ModelUnavailable, match="cannot load"):
        OpenJTalkSynthesizer(voice_path=junk)


@pytest.mark.parametrize("text", ["", "   ", "。、！", "「」…"])
def test_nothing_to_say_gives_short_silence(tts, text):
    audio = tts.synthesize(text, "ja", "mei_normal")
    assert audio.rate == 48_000 and 0 < audio.duration <= 0.5
    assert not np.any(audio.samples)


def test_output_shape_level_and_trimmed_edges(speech):
    assert speech.rate == 48_000
    assert speech.samples.ndim == 1 and speech.samples.dtype == np.float32
    assert 4.0 < speech.duration < 9.0
    assert np.all(np.abs(speech.samples) <= 1.0)
    assert rms_dbfs(speech.samples) > -30.0
    start, end = speech_bounds(speech, keep=0.0)
    # the voice's own ~0.33 s of edge silence is cut down to about 0.05 s
    assert start / speech.rate < 0.1 and (speech.num_samples - end) / speech.rate < 0.1


def test_deterministic_and_settings_do_not_leak(tts, speech):
    low = tts.synthesize(TEXT, "ja", "mei_normal-low")  # between two runs of the same voice
    assert np.array_equal(tts.synthesize(TEXT, "ja", "mei_normal").samples, speech.samples)
    assert np.array_equal(OpenJTalkSynthesizer().synthesize(TEXT, "ja", "mei_normal").samples,
                          speech.samples)
    # the variant is the same timing, pitched lower (-10 semitones: F0 * 0.56)
    assert low.num_samples == speech.num_samples
    ratio = median_f0(low) / median_f0(speech)
    assert 0.45 < ratio < 0.7, ratio


def test_concurrent_calls_give_the_sequential_result(tts):
    expected = {v: tts.synthesize(SENTENCES[0], "ja", v).samples for v in tts.voices}
    got: dict[str, np.ndarray] = {}

    def speak(voice: str) -> None:
        got[voice] = tts.synthesize(SENTENCES[0], "ja", voice).samples

    threads = [threading.Thread(target=speak, args=(v,)) for v in tts.voices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(got[v], expected[v]) for v in tts.voices)


def test_speed_shortens_speech(speech):
    fast = OpenJTalkSynthesizer(speed=1.4).synthesize(TEXT, "ja", "mei_normal")
    assert fast.duration < 0.85 * speech.duration


def test_text_is_cut_after_sentences_then_clauses():
    text = "".join(SENTENCES * 4)
    cut = openjtalk.pieces(text, limit=60)
    assert len(cut) > 1 and "".join(cut) == text
    assert all(len(p) <= 60 and p.endswith("。") for p in cut)  # whole sentences
    clauses = openjtalk.pieces("値段は3.5ドル、数は1,000個、" * 6, limit=40)
    assert all(len(p) <= 40 and p.endswith("、") for p in clauses)  # not inside the numbers
    assert [len(p) for p in openjtalk.pieces("あ" * 250)] == [100, 100, 50]


def test_long_text_runs_in_pieces_joined_by_a_pause(tts):
    text = "".join(SENTENCES * 3)  # 153 characters: two pieces
    pieces = openjtalk.pieces(text)
    assert len(pieces) == 2
    whole = tts.synthesize(text, "ja", "mei_normal")
    parts = [tts.synthesize(p, "ja", "mei_normal").duration for p in pieces]
    assert whole.duration == pytest.approx(sum(parts) + tts.pause, abs=0.01)
    assert np.all(np.abs(whole.samples) <= 1.0)
    half = whole.num_samples // 2
    assert rms_dbfs(whole.samples[:half]) > -30 and rms_dbfs(whole.samples[half:]) > -30


def test_by_language_router_builds_it_from_the_registry():
    config = StageConfig("by-language", {"backends": {
        "openjtalk": {"backend": "openjtalk", "speed": 1.1},
    }})
    router = create_backend("synthesis", config, {})
    voice = router.voice_for(VoiceRequest("SPEAKER_01", "ja", "male"))
    assert voice == "openjtalk/mei_normal-low"
    assert router.synthesize("はい。", "ja", voice).rate == 48_000
    with pytest.raises(UnsupportedLanguage):
        router.voice_for(VoiceRequest("SPEAKER_01", "en", "male"))


def _kana(text: str) -> str:
    """The katakana reading, without punctuation: compares what is said, not how Whisper
    spells it (美味しい / おいしい, 三時 / 3時)."""
    reading = pyopenjtalk.g2p(unicodedata.normalize("NFKC", text), kana=True)
    return re.sub(r"[\W_]", "", reading)


@pytest.fixture(scope="module")
def whisper():
    faster_whisper = pytest.importorskip("faster_whisper", reason="faster-whisper is absent")
    if not model_status("whisper-base").available:
        pytest.skip("model whisper-base is not installed")
    return faster_whisper.WhisperModel(str(resolve_model("whisper-base").path), device="cpu",
                                       compute_type="int8", cpu_threads=2)


@pytest.mark.parametrize("voice", ["mei_normal", "mei_normal-low"])
def test_round_trip_through_whisper(tts, speech, whisper, voice):
    jiwer = pytest.importorskip("jiwer", reason="jiwer is not installed")
    audio = speech if voice == "mei_normal" else tts.synthesize(TEXT, "ja", voice)
    segments, _ = whisper.transcribe(resample(audio, 16_000).samples, language="ja", beam_size=1,
                                      temperature=0.0)  # greedy: no sampled fallback
    heard = "".join(s.text for s in segments)
    assert jiwer.cer(_kana(TEXT), _kana(heard)) < 0.15, heard
