"""EcapaEmbedder: a clear error where speechbrain cannot load, batching through a stand-in
speechbrain, and the real model where a local spkrec-ecapa-voxceleb folder is given."""
from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from dubkit.analysis.ecapa_embedder import EcapaEmbedder, encoder_classifier_class
from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable
from dubkit.testing.signals import high_voice, low_voice
from dubkit.types import Audio

RATE = 16_000


def speechbrain_imports() -> bool:
    try:
        encoder_classifier_class()
    except BackendUnavailable:
        return False
    return True


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("hyperparams.yaml", "embedding_model.ckpt"):
        (tmp_path / name).write_text("")
    return tmp_path


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="embedding_model.ckpt"):
        EcapaEmbedder(tmp_path)


def test_unimportable_speechbrain_is_a_clear_error(folder: Path) -> None:
    if speechbrain_imports():
        pytest.skip("speechbrain imports here")
    with pytest.raises(BackendUnavailable, match="speechbrain"):
        EcapaEmbedder(folder)


class _FakeClassifier:
    """Stands in for speechbrain's EncoderClassifier: a 192-d 'embedding' of each clip's true
    part (mean, RMS and length), so padding mistakes show."""

    calls: list = []

    @classmethod
    def from_hparams(cls, source, savedir, run_opts):
        cls.calls.append((source, savedir, run_opts))
        return cls()

    def eval(self) -> _FakeClassifier:
        return self

    def encode_batch(self, wavs, wav_lens):
        import torch

        rows = []
        for wav, rel in zip(wavs, wav_lens):
            x = wav[: int(round(float(rel) * wavs.shape[1]))]
            base = torch.stack([x.mean(), x.pow(2).mean().sqrt(), torch.tensor(x.shape[0] / 1e5)])
            rows.append(base.repeat(64) * 3.0)
        return torch.stack(rows)[:, None, :]  # (batch, 1, 192)


def test_batching_with_a_stand_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    package = types.ModuleType("speechbrain")
    inference = types.ModuleType("speechbrain.inference")
    speaker = types.ModuleType("speechbrain.inference.speaker")
    speaker.EncoderClassifier = _FakeClassifier
    for name, module in (("speechbrain", package), ("speechbrain.inference", inference),
                         ("speechbrain.inference.speaker", speaker)):
        monkeypatch.setitem(sys.modules, name, module)
    embedder = EcapaEmbedder(folder)
    assert embedder.name == "ecapa" and embedder.dim == 192
    clips = [Audio(low_voice(1.0, 0), RATE), Audio(high_voice(2.5, 1), RATE),
             Audio(low_voice(0.5, 2), 8000)]
    batch = embedder.embed_many(clips)
    assert batch.shape == (3, 192) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for clip, row in zip(clips, batch):
        assert np.allclose(embedder.embed(clip), row, atol=1e-5)  # padding did not leak in
    assert _FakeClassifier.calls[0][:2] == (str(folder), str(folder))  # loaded once, locally
    assert len(_FakeClassifier.calls) == 1
    with pytest.raises(InputError):
        embedder.embed(Audio(np.zeros(100, np.float32), RATE))


def test_real_model() -> None:
    path = os.environ.get("DUBKIT_ECAPA_MODEL")
    if not path:
        pytest.skip("set DUBKIT_ECAPA_MODEL to a local speechbrain/spkrec-ecapa-voxceleb folder")
    if not speechbrain_imports():
        pytest.skip("speechbrain does not import here (it needs a torchaudio matching torch)")
    embedder = EcapaEmbedder(path)
    a1, a2, b = (embedder.embed(Audio(v, RATE))
                 for v in (low_voice(3.0, 0), low_voice(3.0, 1), high_voice(3.0, 2)))
    assert float(a1 @ a2) > float(a1 @ b)
