"""SeamlessTranslator on a tiny random SeamlessM4T v2 folder, loaded as real checkpoints are."""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from dubkit.analysis.longform import split_at_pauses  # noqa: E402
from dubkit.errors import InputError, ModelUnavailable, UnsupportedLanguage  # noqa: E402
from dubkit.testing.signals import synthetic_voice  # noqa: E402
from dubkit.testing.tiny_models import (  # noqa: E402
    TINY_LANGUAGES,
    TINY_SEAMLESS_TEXT_ONLY,
    build_tiny_seamless,
)
from dubkit.translate.seamless import SeamlessTranslator  # noqa: E402
from dubkit.types import Audio  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000


def _voice(seconds: float, seed: int) -> Audio:
    return Audio(synthetic_voice(seconds, 110.0 + 10 * seed, 1.0, seed=seed), RATE)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_tiny_seamless(tmp_path_factory.mktemp("seamless") / "tiny-seamless")


@pytest.fixture(scope="module")
def s2st(folder):
    return SeamlessTranslator(folder, device="cpu")


def test_languages_are_read_without_loading_weights(folder):
    translator = SeamlessTranslator(folder)
    assert translator.model is None
    assert translator.target_languages == set(TINY_LANGUAGES)
    assert translator.text_languages == set(TINY_LANGUAGES) | set(TINY_SEAMLESS_TEXT_ONLY)
    assert translator.source_languages >= translator.target_languages
    assert translator.sampling_rate == RATE


def test_auto_device_is_cpu_float32_here_and_cuda_without_a_gpu_is_a_clear_error(folder):
    translator = SeamlessTranslator(folder)
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert (translator.device.type, translator.dtype) == ("cpu", torch.float32)
    with pytest.raises(InputError, match="CUDA is not available"):
        SeamlessTranslator(folder, device="cuda")


def test_unsupported_pairs_name_the_supported_languages(s2st):
    with pytest.raises(UnsupportedLanguage) as speech:
        s2st.translate([_voice(1.0, 0)], "en", "el")  # a text-only target
    message = str(speech.value)
    assert "\n" not in message and "Greek" in message and "ja" in message and "el," not in message
    with pytest.raises(UnsupportedLanguage, match="supported: .*he"):
        s2st.translate_text_only([_voice(1.0, 0)], "en", "xx")
    with pytest.raises(UnsupportedLanguage, match="cannot hear"):
        s2st.translate([_voice(1.0, 0)], "xx", "ja")


def test_bad_options_and_folders_are_one_line_errors(folder, tmp_path):
    with pytest.raises(InputError, match="max_batch"):
        SeamlessTranslator(folder, max_batch=0)
    with pytest.raises(InputError, match="speaker_id"):
        SeamlessTranslator(folder, speaker_id=99)
    with pytest.raises(ModelUnavailable, match="config.json is missing"):
        SeamlessTranslator(tmp_path)


def test_speech_and_text_out_at_the_model_rate_loading_once_and_quietly(folder, capfd):
    translator = SeamlessTranslator(folder, device="cpu")
    out = translator.translate([_voice(3.0, 1), _voice(1.5, 2)], "en", "ja")
    model = translator.model
    again = translator.translate([_voice(3.0, 1)], None, "ja")
    assert translator.model is model  # loaded once, reused
    assert [o.target_text for o in out[:1]] == [again[0].target_text]
    for o in out:
        assert o.target_text and o.source_text == ""
        assert o.speech.rate == RATE and o.speech.num_samples > 0
        assert np.isfinite(o.speech.samples).all() and np.abs(o.speech.samples).max() <= 1.0
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == "", "third-party output reached the terminal"


def test_batched_equals_one_at_a_time(folder):
    clips = [_voice(s, i) for i, s in enumerate((2.0, 5.5, 0.7, 3.3, 4.1))]
    batched = SeamlessTranslator(folder, device="cpu", max_batch=8).translate(clips, "en", "fr")
    alone = SeamlessTranslator(folder, device="cpu", max_batch=1)
    for clip, b in zip(clips, batched, strict=True):
        a = alone.translate([clip], "en", "fr")[0]
        assert a.target_text == b.target_text
        np.testing.assert_array_equal(a.speech.samples, b.speech.samples)


def test_batches_are_sorted_and_within_the_limits(s2st):
    seconds = [3.0, 12.0, 1.0, 8.0, 8.0, 2.0, 30.0]
    sizes = [int(s * RATE) for s in seconds]
    limited = SeamlessTranslator(s2st.path, batch_seconds=20.0, max_batch=3)
    batches = limited._batches(list(range(len(sizes))), sizes)
    assert sorted(i for b in batches for i in b) == list(range(len(sizes)))
    flat = [seconds[i] for b in batches for i in b]
    assert flat == sorted(flat, reverse=True)
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(seconds[i] for i in batch) <= 20.0


def test_long_segment_is_split_at_pauses_and_rejoined_with_the_pauses(s2st):
    gap = np.zeros(int(0.8 * RATE), np.float32)
    parts = [_voice(7.0, 3).samples, gap, _voice(9.0, 4).samples, gap, _voice(8.0, 5).samples]
    long = Audio(np.concatenate(parts), RATE)  # 25.6 s > max_segment
    spans = split_at_pauses(long, s2st.max_segment)
    assert len(spans) == 2
    pieces = s2st.translate([long.slice(a, b) for a, b in spans], "en", "de")
    whole = s2st.translate([long], "en", "de")[0]
    assert whole.target_text == " ".join(p.target_text for p in pieces)
    pause = spans[1][0] - spans[0][1]
    expected = np.concatenate([pieces[0].speech.samples, np.zeros(int(round(pause * RATE))),
                               pieces[1].speech.samples])
    np.testing.assert_array_equal(whole.speech.samples, expected.astype(np.float32))


def test_too_short_input_gives_empty_results_without_failing_the_batch(s2st):
    out = s2st.translate([Audio(np.zeros(800, np.float32), RATE), _voice(1.0, 6)], "en", "es")
    assert out[0].target_text == "" and out[0].speech.num_samples == 0
    assert out[1].target_text and out[1].speech.num_samples > 0


def test_text_only_path_and_source_transcripts(folder):
    translator = SeamlessTranslator(folder, device="cpu", transcribe=True)
    text = translator.translate_text_only([_voice(2.0, 7)], "en", "he")
    assert text[0].speech is None and text[0].target_text
    assert text[0].source_text  # the same encoder output decoded into the source language
    spoken = translator.translate([_voice(2.0, 7)], "en", "ko")[0]
    assert spoken.source_text == text[0].source_text and spoken.speech.num_samples > 0


@pytest.mark.skipif(not (DATA / "multi_picovoice_leopard").is_dir(),
                    reason="../shared/data/multi_picovoice_leopard (real speech) is absent")
def test_real_speech_through_the_preset_and_the_catalog(tmp_path, monkeypatch):
    import soundfile as sf

    from dubkit.backends import StageBackends
    from dubkit.config import load_preset

    monkeypatch.setenv("DUBKIT_CACHE_DIR", str(tmp_path))
    backends = StageBackends(load_preset("tiny-seamless"))
    assert not backends.models  # resolved when a stage first needs them
    translator = backends.get("speech_translation")
    assert backends.models["tiny-seamless"].path.is_relative_to(tmp_path)
    clips = []
    for name in ("test_de.wav", "test_es.wav"):
        samples, rate = sf.read(DATA / "multi_picovoice_leopard" / name, dtype="float32")
        clips.append(Audio(samples.T if samples.ndim == 2 else samples, rate))
    out = translator.translate(clips, None, "en")
    for o, clip in zip(out, clips, strict=True):
        assert o.target_text
        assert o.speech.rate == RATE and 0 < o.speech.duration
        assert clip.duration > 3.0
