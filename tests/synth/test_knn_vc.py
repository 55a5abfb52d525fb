"""kNN-VC through its real loaders (transformers' WavLMModel, the HiFi-GAN checkpoint layout of
kNN-VC's release) on tiny random weights: the plumbing is real, the voices are noise."""
from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from dubkit import Dubber
from dubkit.analysis.speaker_profile import build_speaker_profile
from dubkit.errors import InputError, ModelUnavailable
from dubkit.jobs.consent import Consent
from dubkit.models import resolve_model
from dubkit.synth.hifigan import fold_weight_norm, load_hifigan
from dubkit.synth.knn_vc import FEATURE_HOP, FEATURE_WINDOW, KnnVoiceConverter, nearest_mean
from dubkit.testing.signals import two_voices
from dubkit.types import Audio

PRESETS = Path(__file__).parents[2] / "presets"
SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"


@pytest.fixture(scope="module")
def folders() -> dict[str, Path]:
    return {"features": resolve_model("tiny-wavlm").path,
            "vocoder": resolve_model("tiny-knn-vc-hifigan").path}


@pytest.fixture(scope="module")
def speakers() -> tuple[Audio, Audio]:
    """Two synthetic voices' speech, 16 kHz (a two-voice conversation cut in halves)."""
    audio, turns = two_voices()
    cut = [audio.slice(t.start, t.end) for t in turns]
    first = [c for c, t in zip(cut, turns, strict=True) if t.speaker == turns[0].speaker]
    second = [c for c, t in zip(cut, turns, strict=True) if t.speaker != turns[0].speaker]
    return (Audio(np.concatenate([c.samples for c in first]), audio.rate),
            Audio(np.concatenate([c.samples for c in second]), audio.rate))


def _profile(speech: Audio, name: str):
    return build_speaker_profile([speech], name, None, keep_speech=True)


def test_weight_norm_pairs_fold_into_the_weights_torch_computes():
    conv = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # kNN-VC's era: weight_g, weight_v
        old = torch.nn.utils.weight_norm(torch.nn.ConvTranspose1d(4, 2, 6, 3))
    for module, key in ((conv, "parametrizations.weight.original0"), (old, "weight_g")):
        state = module.state_dict()
        assert key in state
        folded = fold_weight_norm(state)
        assert set(folded) == {"weight", "bias"}
        assert torch.allclose(folded["weight"], module.weight, atol=1e-6)
    with pytest.raises(ModelUnavailable, match="half a weight-norm pair"):
        fold_weight_norm({"conv.weight_g": torch.ones(2, 1, 1)})


def test_vocoder_loads_the_release_layout_and_says_what_is_wrong(folders, tmp_path):
    vocoder = load_hifigan(folders["vocoder"])
    stored = torch.load(next(folders["vocoder"].glob("*.pt")), weights_only=True)
    assert any(k.endswith(".weight_g") for k in stored["generator"])  # as kNN-VC saved it
    with torch.inference_mode():
        y = vocoder(torch.randn(1, 7, vocoder.lin_pre.in_features))
    assert y.shape == (1, 7 * FEATURE_HOP) and float(y.abs().max()) <= 1.0
    broken = tmp_path / "two-files"
    shutil.copytree(folders["vocoder"], broken)
    shutil.copy(broken / "generator.pt", broken / "other.pth")
    with pytest.raises(ModelUnavailable, match="exactly one weights file"):
        load_hifigan(broken)
    (broken / "other.pth").unlink()
    (broken / "config.json").unlink()
    with pytest.raises(ModelUnavailable, match="cannot load the vocoder"):
        load_hifigan(broken)


def test_each_frame_becomes_the_mean_of_its_nearest_speaker_frames():
    matching = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0]])
    query = torch.tensor([[5.0, 0.1], [0.1, 0.5], [-1.0, -1.2]])
    assert torch.equal(nearest_mean(query, matching, 1), matching[[0, 1, 3]])
    two = nearest_mean(query, matching, 2)
    assert torch.allclose(two[0], (matching[0] + matching[1]) / 2)  # cosine, not distance
    assert torch.allclose(nearest_mean(query, matching[:2], 9)[0], matching[:2].mean(0))


def test_a_line_is_rebuilt_from_the_speakers_own_frames(folders, speakers):
    converter = KnnVoiceConverter(folders, device="cpu", min_reference=5.0, chunk_seconds=2.0,
                                  batch=2)
    alice, bob = (_profile(s, n) for s, n in zip(speakers, ("alice", "bob"), strict=True))
    line = Audio(speakers[1].samples[: 3 * 16000], 16000)
    line_32k = Audio(np.repeat(line.samples, 2), 32000)
    out = converter.convert(line_32k, alice)
    assert converter.last_method == "knn-vc"
    assert out.rate == 32000 and abs(out.duration - line_32k.duration) < 0.05
    assert np.isfinite(out.samples).all() and 0 < np.abs(out.samples).max() <= 0.95
    again = converter.convert(line_32k, alice)
    other = converter.convert(line_32k, bob)
    assert np.array_equal(out.samples, again.samples)  # deterministic
    assert not np.allclose(out.samples, other.samples)  # another speaker, other frames
    # each speaker's speech is encoded once, in 2 s chunks two at a time
    assert converter.matching_passes == 2
    matching = converter._matching_set(alice.speech)
    chunk = 2 * 16000
    sizes = [min(chunk, len(alice.speech.samples) - i)
             for i in range(0, len(alice.speech.samples), chunk)]
    frames = sum((s - FEATURE_WINDOW) // FEATURE_HOP + 1 for s in sizes if s >= FEATURE_WINDOW)
    assert matching.shape == (frames, 16) and converter.matching_passes == 2


def test_only_the_matched_layer_runs_and_batches_are_masked(folders, speakers):
    from transformers import WavLMModel

    converter = KnnVoiceConverter(folders, device="cpu", chunk_seconds=3.0, batch=3)
    x = speakers[0].samples[: int(7.5 * 16000)]  # chunks of 3, 3 and 1.5 s
    batched = converter._frames_of(x)
    wavlm, _ = converter._load()
    assert len(wavlm.encoder.layers) == 6  # the tiny WavLM's layers past the sixth: none
    alone = KnnVoiceConverter(folders, device="cpu", chunk_seconds=3.0, batch=1)
    assert torch.allclose(batched, alone._frames_of(x), atol=1e-4)  # padding unseen
    full = WavLMModel.from_pretrained(folders["features"], local_files_only=True).eval()
    with torch.inference_mode():
        expected = full(torch.from_numpy(x[None, :48000]),
                        output_hidden_states=True).hidden_states[6][0]
    assert torch.allclose(batched[: expected.shape[0]], expected, atol=1e-4)


def test_a_lines_conversion_is_keyed_by_the_speakers_speech(backends, speakers):
    import dataclasses

    from dubkit.steps.speech import ConvertVoice, Voicing

    profile = _profile(speakers[0], "alice")
    step = ConvertVoice(backends)
    item = Voicing("line-1", speakers[1], profile, None)
    more = dataclasses.replace(profile, speech=Audio(np.concatenate(
        [profile.speech.samples, speakers[1].samples]), 16000))
    assert step.key(item) == step.key(Voicing("line-1", speakers[1], profile, None))
    assert step.key(item) != step.key(Voicing("line-1", speakers[1], more, None))


def test_too_little_of_the_speakers_speech_leaves_the_timbre_to_world(folders, speakers):
    converter = KnnVoiceConverter(folders, device="cpu", min_reference=5.0)
    short = _profile(Audio(speakers[0].samples[: 4 * 16000], 16000), "brief")
    out = converter.convert(Audio(speakers[1].samples[:16000], 16000), short)
    assert converter.last_method == "world" and converter.matching_passes == 0
    assert out.duration == pytest.approx(1.0, abs=0.02)
    no_speech = build_speaker_profile([speakers[0]], "carol", None, keep_speech=False)
    with pytest.raises(InputError, match="carol's own speech"):
        converter.convert(Audio(speakers[1].samples[:16000], 16000), no_speech)


def test_options_and_mismatched_models_are_refused(folders, speakers, tmp_path):
    with pytest.raises(InputError, match="two models"):
        KnnVoiceConverter(folders["features"])
    with pytest.raises(InputError, match="k, layer"):
        KnnVoiceConverter(folders, k=0)
    with pytest.raises(InputError, match="min_reference >= 1"):
        KnnVoiceConverter(folders, min_reference=0.01)
    wide = tmp_path / "wide-vocoder"
    shutil.copytree(folders["vocoder"], wide)
    config = json.loads((wide / "config.json").read_text())
    (wide / "config.json").write_text(json.dumps(config | {"hubert_dim": 1024}))
    converter = KnnVoiceConverter({"features": folders["features"], "vocoder": wide},
                                  min_reference=5.0)
    with pytest.raises(ModelUnavailable, match="cannot load the vocoder.*size mismatch"):
        converter.convert(speakers[1], _profile(speakers[0], "alice"))
    deep = KnnVoiceConverter(folders, layer=7, min_reference=5.0)  # the tiny WavLM has 6 layers
    with pytest.raises(ModelUnavailable, match="does not fit WavLM"):
        deep.convert(speakers[1], _profile(speakers[0], "alice"))


@pytest.mark.slow
def test_a_job_keeps_voices_with_knn_vc_only_with_consent(tmp_path):
    preset = (PRESETS / "tiny-test.toml").read_text()
    preset = preset.replace('name = "tiny-test"', 'name = "tiny-knn-vc"')
    preset = preset.split("[voice]")[0] + (
        '[voice]\nbackend = "knn-vc"\n'
        'model = { features = "tiny-wavlm", vocoder = "tiny-knn-vc-hifigan" }\n'
        'device = "cpu"\nmin_reference = 2.0\n') + _after_voice(preset)
    (tmp_path / "knn.toml").write_text(preset)
    shutil.copy(SAMPLE, tmp_path / "talk.mp4")
    dubber = Dubber(preset=str(tmp_path / "knn.toml"))
    stock = dubber.translate(tmp_path / "talk.mp4", to="es", source_language="en",
                             output=tmp_path / "stock.mp4")
    assert stock.options["voice"] == "stock" and "convert" not in stock.work  # no consent
    kept = dubber.translate(tmp_path / "talk.mp4", to="es", source_language="en",
                            voice="keep", consent=Consent.declared("declared"),
                            output=tmp_path / "kept.mp4")
    assert kept.options["voice"] == "keep" and kept.work["convert"]["computed"] >= 1
    converter = dubber.pipeline.backends.get("voice")
    assert converter.last_method == "knn-vc" and converter.matching_passes == 1
    spoken = {m for seg in kept.segments for m in seg.spoken_by}
    assert {"tiny-wavlm", "tiny-knn-vc-hifigan"} <= spoken
    again = dubber.translate(tmp_path / "talk.mp4", to="es", source_language="en",
                             voice="keep", consent=Consent.declared("declared"),
                             output=tmp_path / "kept.mp4", force=True)
    assert again.work["convert"]["computed"] == 0  # every line's conversion reused


def _after_voice(preset: str) -> str:
    """The tables after ``[voice]``'s own lines."""
    rest = preset.split("[voice]", 1)[1]
    tables = rest.split("\n[", 1)
    return "\n[" + tables[1] if len(tables) > 1 else ""
