"""speechbrain's ECAPA-TDNN speaker encoder (``speechbrain/spkrec-ecapa-voxceleb``), 192-d.

The model is loaded from a local folder in the hub repository's layout (``hyperparams.yaml``,
``embedding_model.ckpt``, ``mean_var_norm_emb.ckpt``, ...); nothing is downloaded. No PyPI
package carries these weights, and speechbrain 1.x imports torchaudio at import time, which does
not load beside torch 2.13: where speechbrain cannot be imported this backend says so with
``BackendUnavailable`` when it is built.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dubkit import dsp
from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

MIN_DURATION: Seconds = 0.1  # shortest clip that can be embedded
_REQUIRED = ("hyperparams.yaml", "embedding_model.ckpt")
_BATCH = 32  # clips per forward pass


def encoder_classifier_class() -> type:
    """speechbrain's ``EncoderClassifier``, or ``BackendUnavailable`` saying why it cannot load."""
    try:
        try:
            from speechbrain.inference.speaker import EncoderClassifier  # speechbrain >= 1.0
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("speechbrain.inference"):
                raise
            from speechbrain.pretrained import EncoderClassifier  # speechbrain 0.5
    except (ImportError, OSError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if getattr(exc, "name", None) == "speechbrain":
            hint = "pip install speechbrain"
        else:
            hint = "speechbrain needs a torchaudio that loads beside the installed torch"
        raise BackendUnavailable(f"embedder 'ecapa' cannot import speechbrain ({reason}): {hint}")\
            from None
    logging.getLogger("speechbrain").setLevel(logging.WARNING)
    return EncoderClassifier


class EcapaEmbedder:
    """``SpeakerEmbedder`` named ``"ecapa"``: 192-d L2-normalised ECAPA-TDNN embeddings.

    ``model_path`` is a local ``spkrec-ecapa-voxceleb`` folder; weights load on the first
    embedding. ``device`` is a torch device name.
    """

    name = "ecapa"
    # cosine above which two clips are called one speaker: different people 0.08 on average,
    # one person 0.75 (the shared recordings), as ERes2Net's
    same_speaker_threshold = 0.3
    dim = 192

    def __init__(self, model_path: str | Path, device: str = "cpu") -> None:
        self.path = Path(model_path)
        missing = [f for f in _REQUIRED if not (self.path / f).is_file()]
        if missing:
            raise ModelUnavailable(
                f"ECAPA folder {self.path} lacks {', '.join(missing)} "
                "(expected the speechbrain/spkrec-ecapa-voxceleb layout)"
            )
        self._cls = encoder_classifier_class()
        self.device_name = device
        self._model = None

    def embed(self, audio: Audio) -> np.ndarray:
        """A ``(192,)`` unit-length embedding of one speaker's ``audio`` (any rate)."""
        return self.embed_many([audio])[0]

    def embed_many(self, clips: Sequence[Audio]) -> np.ndarray:
        """``(clips, 192)`` unit-length embeddings; clips are zero-padded into batches and the
        model is told each one's true length."""
        import torch

        model = self._load()
        waves = [_prepare(c) for c in clips]
        out = []
        for i in range(0, len(waves), _BATCH):
            part = waves[i:i + _BATCH]
            longest = max(w.shape[0] for w in part)
            batch = np.stack([np.pad(w, (0, longest - w.shape[0])) for w in part])  # (b, samples)
            lengths = torch.tensor([w.shape[0] / longest for w in part])  # relative, as speechbrain
            with torch.inference_mode():
                emb = model.encode_batch(torch.from_numpy(batch), lengths)  # (b, 1, 192)
            out.append(emb.reshape(len(part), -1).float().cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        e = np.concatenate(out)
        return (e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def _load(self):  # -> speechbrain EncoderClassifier
        if self._model is None:
            from dubkit.torch_device import pick_device

            device = pick_device(self.device_name)
            try:
                self._model = self._cls.from_hparams(
                    source=str(self.path), savedir=str(self.path),
                    run_opts={"device": str(device)},
                )
            except Exception as exc:  # speechbrain raises many kinds while fetching and building
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise ModelUnavailable(f"cannot load ECAPA from {self.path}: {reason}") from exc
            self._model.eval()
        return self._model


def _prepare(audio: Audio) -> np.ndarray:
    """16 kHz mono float32 samples of one clip, ``(samples,)``."""
    if audio.duration < MIN_DURATION:
        raise InputError(
            f"audio of {audio.duration:.3f} s is too short for a speaker embedding "
            f"(at least {MIN_DURATION} s)"
        )
    return dsp.resample(audio.mono(), ANALYSIS_RATE).samples
