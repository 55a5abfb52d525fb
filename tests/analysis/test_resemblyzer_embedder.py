"""ResemblyzerEmbedder: shape, batching, invariances, real voices, parity with resemblyzer."""
from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit import dsp
from dubkit.analysis.rttm import read_rttm
from dubkit.errors import InputError, ModelUnavailable
from dubkit.models import model_status, resolve_model
from dubkit.types import Audio

pytest.importorskip("torch", reason="the Resemblyzer encoder runs on torch")
from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000


@pytest.fixture(scope="module")
def embedder() -> ResemblyzerEmbedder:
    status = model_status("resemblyzer")
    if not status.available:
        pytest.skip(f"resemblyzer model not available: {status.detail}")
    return ResemblyzerEmbedder(resolve_model("resemblyzer").path)


@pytest.fixture(scope="module")
def falcon() -> tuple[Audio, list]:
    folder = DATA / "diar_picovoice_falcon"
    if not folder.exists():
        pytest.skip(f"shared recordings not found at {DATA.resolve()}")
    x, rate = sf.read(folder / "test.wav", dtype="float32")
    return Audio(x, rate), read_rttm(folder / "test.rttm")["test"]


def test_shape_norm_and_repeatability(embedder: ResemblyzerEmbedder, falcon) -> None:
    audio, _ = falcon
    clip = audio.slice(6.5, 8.5)
    e = embedder.embed(clip)
    assert embedder.name == "resemblyzer" and e.shape == (embedder.dim,) == (256,)
    assert e.dtype == np.float32 and np.linalg.norm(e) == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(e, embedder.embed(clip))
    silent = embedder.embed(Audio(np.zeros(RATE, np.float32), RATE))
    assert np.all(np.isfinite(silent)) and np.linalg.norm(silent) == pytest.approx(1.0, abs=1e-5)


def test_embed_many_matches_embed(embedder: ResemblyzerEmbedder, falcon) -> None:
    audio, _ = falcon
    clips = [audio.slice(s, s + d) for s, d in ((2.0, 1.5), (6.2, 4.0), (13.0, 0.3), (13.0, 5.0))]
    batch = embedder.embed_many(clips)
    assert batch.shape == (4, 256)
    for k in (1, 2):  # a clip of several partials, and one padded to a single partial
        assert np.abs(embedder.embed(clips[k]) - batch[k]).max() < 1e-5
    assert embedder.embed_many([]).shape == (0, 256)


def test_level_rate_and_channels(embedder: ResemblyzerEmbedder, falcon) -> None:
    audio, _ = falcon
    clip = audio.slice(13.0, 16.0)
    # Every clip is brought to -30 dBFS RMS first, so its level does not matter.
    scaled = [Audio(dsp.normalize_peak(clip.samples, peak), clip.rate) for peak in (-1, -40, -55)]
    at_44k = dsp.resample(Audio(np.stack([clip.samples, clip.samples]), clip.rate), 44_100)
    e = embedder.embed_many([clip, *scaled, at_44k])  # (5, 256)
    assert np.all(e[1:4] @ e[0] > 0.9999)
    assert float(e[4] @ e[0]) > 0.98


def test_real_speakers_are_closer_to_themselves(embedder: ResemblyzerEmbedder, falcon) -> None:
    audio, turns = falcon
    spans = [(t.speaker, s) for t in turns for s in np.arange(t.start, t.end - 1.5, 0.75)]
    e = embedder.embed_many([audio.slice(s, s + 1.5) for _, s in spans])
    sims = e @ e.T
    same, other = [], []
    for i, (si, _) in enumerate(spans):
        for j in range(i + 1, len(spans)):
            (same if si == spans[j][0] else other).append(sims[i, j])
    assert np.mean(same) > np.mean(other) + 0.2  # measured 0.82 against 0.45
    assert max(other) < 0.7


def test_edge_cases(embedder: ResemblyzerEmbedder) -> None:
    with pytest.raises(InputError):
        embedder.embed(Audio(np.zeros(800, np.float32), RATE))  # 50 ms
    with pytest.raises(ModelUnavailable):
        ResemblyzerEmbedder(Path("/nonexistent/resemblyzer"))
    assert ResemblyzerEmbedder(embedder.weights).weights == embedder.weights  # the file itself
    assert ResemblyzerEmbedder().weights.name == "pretrained.pt"  # the catalog's model


def test_same_as_resemblyzer(embedder: ResemblyzerEmbedder, falcon, monkeypatch) -> None:
    """resemblyzer's own VoiceEncoder gives the same embeddings (volume normalised, untrimmed)."""
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        # webrtcvad 2.0.10 reads its version through pkg_resources, gone from setuptools >= 81.
        shim = types.ModuleType("pkg_resources")
        shim.get_distribution = lambda name: types.SimpleNamespace(version="0")
        monkeypatch.setitem(sys.modules, "pkg_resources", shim)
    resemblyzer = pytest.importorskip("resemblyzer", reason="resemblyzer does not import")
    encoder = resemblyzer.VoiceEncoder("cpu", verbose=False, weights_fpath=embedder.weights)
    audio, _ = falcon
    for start, end in ((2.0, 3.5), (6.2, 11.0)):
        clip = audio.slice(start, end).samples
        theirs = encoder.embed_utterance(resemblyzer.normalize_volume(clip, -30))
        assert float(theirs @ embedder.embed(audio.slice(start, end))) > 0.9999
