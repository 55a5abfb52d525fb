"""Eres2NetEmbedder: tiny random weights through the real loader, Kaldi features, real weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit import dsp
from dubkit.analysis.kaldi_fbank import fbank
from dubkit.analysis.rttm import read_rttm
from dubkit.errors import InputError, ModelUnavailable
from dubkit.registry import get_spec, load_class
from dubkit.testing.signals import synthetic_voice
from dubkit.types import Audio

torch = pytest.importorskip("torch", reason="the ERes2Net encoder runs on torch")
from dubkit.analysis.eres2net import ERes2Net  # noqa: E402
from dubkit.analysis.eres2net_embedder import (  # noqa: E402
    Eres2NetEmbedder,
    features,
    packaged_weights,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Eres2NetEmbedder:
    """A checkpoint of a small random ERes2Net, saved as the released one is (a state dict)."""
    torch.manual_seed(0)
    net = ERes2Net(feat_dim=80, embedding_size=16, m_channels=8, num_blocks=(1, 1, 2, 1))
    for module in net.modules():  # random running statistics, so that loading them matters
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    folder = tmp_path_factory.mktemp("eres2net")
    torch.save(net.state_dict(), folder / "pretrained_eres2net.ckpt")
    return Eres2NetEmbedder(folder)


def voice(pitch: float, seconds: float = 1.5, seed: int = 0) -> Audio:
    return Audio(synthetic_voice(seconds, pitch, 1.0, seed), RATE)


def test_tiny_checkpoint_loads_with_its_own_shape(tiny: Eres2NetEmbedder) -> None:
    e = tiny.embed(voice(120.0))
    assert tiny.name == "eres2net" and tiny.dim == 16 and e.shape == (16,)
    assert e.dtype == np.float32 and np.linalg.norm(e) == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(e, tiny.embed(voice(120.0)))
    assert get_spec("embedder", "eres2net").extra == "cpu"
    assert load_class(get_spec("embedder", "eres2net")) is Eres2NetEmbedder


def test_embed_many_batches_like_embed(tiny: Eres2NetEmbedder) -> None:
    clips = [voice(110.0), voice(220.0, seed=1), voice(150.0, 0.4), voice(180.0, 0.12)]
    batch = tiny.embed_many(clips)
    assert batch.shape == (4, 16)
    for k, clip in enumerate(clips):
        assert np.abs(tiny.embed(clip) - batch[k]).max() < 1e-5
    assert tiny.embed_many([]).shape == (0, 16)


def test_level_and_rate_do_not_matter(tiny: Eres2NetEmbedder) -> None:
    clip = voice(140.0, 2.0)
    quiet = Audio(dsp.normalize_peak(clip.samples, -45.0), clip.rate)
    at_44k = dsp.resample(Audio(np.stack([clip.samples, clip.samples]), clip.rate), 44_100)
    e = tiny.embed_many([clip, quiet, at_44k])
    assert float(e[1] @ e[0]) > 0.9999
    assert float(e[2] @ e[0]) > 0.99


def test_bad_input_and_bad_files(tiny: Eres2NetEmbedder, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="too short"):
        tiny.embed(Audio(np.zeros(800, np.float32), RATE))  # 50 ms
    with pytest.raises(ModelUnavailable, match="does not exist"):
        Eres2NetEmbedder(tmp_path / "missing.ckpt")
    bad = tmp_path / "pretrained_eres2net.ckpt"
    torch.save({"conv1.weight": torch.zeros(8, 1, 3, 3)}, bad)
    with pytest.raises(ModelUnavailable, match="cannot load ERes2Net"):
        Eres2NetEmbedder(bad).embed(voice(120.0))
    assert Eres2NetEmbedder(tiny.weights).weights == tiny.weights  # the file itself


def test_filterbank_is_kaldis() -> None:
    knf = pytest.importorskip("kaldi_native_fbank", reason="kaldi-native-fbank is the reference")
    x = voice(130.0, 0.7).samples
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.mel_opts.num_bins = 80
    ref = knf.OnlineFbank(opts)
    ref.accept_waveform(RATE, x)
    ref.input_finished()
    theirs = np.stack([ref.get_frame(i) for i in range(ref.num_frames_ready)])
    mine = fbank(x)
    assert mine.shape == theirs.shape == (1 + (x.shape[0] - 400) // 160, 80)
    assert np.abs(mine - theirs).max() < 1e-3
    assert fbank(x[:399]).shape == (0, 80)


@pytest.fixture(scope="module")
def real() -> Eres2NetEmbedder:
    try:
        return Eres2NetEmbedder(packaged_weights())
    except ModelUnavailable as exc:
        pytest.skip(f"ERes2Net weights not installed: {exc}")


def test_real_weights_match_3d_speaker(real: Eres2NetEmbedder) -> None:
    """3D-Speaker's own network class, fed the same checkpoint, gives the same embedding."""
    root = real.weights.parents[2]  # .../3D-Speaker
    if not (root / "speakerlab" / "models" / "eres2net" / "ERes2Net.py").is_file():
        pytest.skip("3D-Speaker's model code is not beside the weights")
    import sys

    sys.path.insert(0, str(root))
    try:
        from speakerlab.models.eres2net.ERes2Net import ERes2Net as Theirs
    finally:
        sys.path.remove(str(root))
    theirs = Theirs(feat_dim=80, embedding_size=192).eval()
    theirs.load_state_dict(torch.load(real.weights, map_location="cpu", weights_only=True))
    clip = voice(125.0, 2.0)
    with torch.inference_mode():
        ref = theirs(torch.from_numpy(features(clip))[None])[0].numpy()
    assert float(real.embed(clip) @ (ref / np.linalg.norm(ref))) > 0.9999


def test_real_speakers_are_far_apart(real: Eres2NetEmbedder) -> None:
    folder = DATA / "diar_picovoice_falcon"
    if not folder.exists():
        pytest.skip(f"shared recordings not found at {DATA.resolve()}")
    x, rate = sf.read(folder / "test.wav", dtype="float32")
    audio, turns = Audio(x, rate), read_rttm(folder / "test.rttm")["test"]
    spans = [(t.speaker, s) for t in turns for s in np.arange(t.start, t.end - 1.5, 0.75)]
    e = real.embed_many([audio.slice(s, s + 1.5) for _, s in spans])
    sims = e @ e.T
    same, other = [], []
    for i, (si, _) in enumerate(spans):
        for j in range(i + 1, len(spans)):
            (same if si == spans[j][0] else other).append(sims[i, j])
    # Resemblyzer on the same windows: 0.82 against 0.45.
    assert np.mean(same) > 0.6 and np.mean(other) < 0.3
