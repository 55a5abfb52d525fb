"""MfccEmbedder: shape, invariances, and that it tells clearly different voices apart."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit import dsp
from dubkit.analysis.mfcc_embedder import MfccEmbedder, mfcc_frames
from dubkit.analysis.rttm import read_rttm
from dubkit.errors import InputError
from dubkit.testing.signals import high_voice, low_voice
from dubkit.types import Audio

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000


def low(seconds: float, seed: int) -> Audio:
    return Audio(low_voice(seconds, seed), RATE)


def high(seconds: float, seed: int) -> Audio:
    return Audio(high_voice(seconds, seed), RATE)


def cos_dist(a: np.ndarray, b: np.ndarray) -> float:
    return 1.0 - float(a @ b)


def test_shape_and_norm() -> None:
    embedder = MfccEmbedder()
    e = embedder.embed(low(1.5, 0))
    assert embedder.name == "mfcc" and e.shape == (embedder.dim,) == (60,)
    assert e.dtype == np.float32 and np.linalg.norm(e) == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(e, embedder.embed(low(1.5, 0)))


def test_level_rate_and_channels_do_not_matter() -> None:
    embedder = MfccEmbedder()
    a = low(2.0, 1)
    e = embedder.embed(a)
    assert cos_dist(e, embedder.embed(Audio(a.samples * 0.05, RATE))) < 1e-3
    at_44k = dsp.resample(Audio(np.stack([a.samples, a.samples]), RATE), 44_100)
    assert cos_dist(e, embedder.embed(at_44k)) < 0.02


def test_clearly_different_voices_are_further_apart() -> None:
    embedder = MfccEmbedder()
    same = cos_dist(embedder.embed(low(2.0, 2)), embedder.embed(low(2.0, 3)))
    other = cos_dist(embedder.embed(low(2.0, 2)), embedder.embed(high(2.0, 4)))
    assert other > 2 * same


def test_edge_cases() -> None:
    embedder = MfccEmbedder()
    with pytest.raises(InputError):
        embedder.embed(Audio(np.zeros(100, np.float32), RATE))  # 6 ms
    silent = embedder.embed(Audio(np.zeros(RATE, np.float32), RATE))
    assert np.all(np.isfinite(silent)) and np.linalg.norm(silent) == pytest.approx(1.0, abs=1e-5)
    short = embedder.embed(Audio(low(0.1, 5).samples, RATE))  # shorter than the delta window
    assert np.all(np.isfinite(short))


def test_mfcc_frames_grid() -> None:
    c, loud = mfcc_frames(low(1.0, 6).samples)
    assert c.shape == (20, 97) and loud.shape == (97,)  # frames of 32 ms every 10 ms
    assert 0.5 < loud.mean() < 1.0  # the closures between syllables are not loud


def test_real_speakers_are_closer_to_themselves() -> None:
    folder = DATA / "diar_picovoice_falcon"
    if not folder.exists():
        pytest.skip(f"shared recordings not found at {DATA.resolve()}")
    x, rate = sf.read(folder / "test.wav", dtype="float32")
    audio = Audio(x, rate)
    turns = read_rttm(folder / "test.rttm")["test"]
    embedder = MfccEmbedder()
    windows = [(t.speaker, embedder.embed(audio.slice(s, s + 1.5)))
               for t in turns for s in np.arange(t.start, t.end - 1.5, 0.75)]
    same, other = [], []
    for i, (si, ei) in enumerate(windows):
        for sj, ej in windows[i + 1:]:
            (same if si == sj else other).append(cos_dist(ei, ej))
    assert np.mean(other) > np.mean(same) + 0.05
