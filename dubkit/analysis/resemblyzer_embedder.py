"""Resemblyzer's GE2E speaker encoder (a 3-layer LSTM over 40 mel bands, 256-d output).

The network and its preprocessing are rebuilt here from resemblyzer 0.1.4 and fed the package's
``pretrained.pt``, because ``import resemblyzer`` needs ``webrtcvad``, whose module imports
``pkg_resources`` (gone from setuptools 81 on). What resemblyzer's ``preprocess_wav`` does, and
what of it is kept:

- resample to 16 kHz: kept (``dsp.resample``);
- raise the RMS to -30 dBFS: kept, per clip, but louder clips are also lowered to it. The
  encoder is far from level-invariant above -30 dBFS (one 3 s clip peak-normalised to -1 dBFS
  against the same at -20 dBFS: cosine 0.86), and a speaker's loudness varies from window to
  window; on the diarization benchmark this is as good or better at every setting tried;
- cut pauses longer than ~0.2 s with webrtcvad: left out on purpose. The clips that reach a
  speaker embedder are already inside VAD regions, and cutting would make a diarizer's windows
  stand for a different stretch of time than the one they are placed at.

As resemblyzer's ``embed_utterance``, a clip is cut into 1.6 s partial utterances (160 mel frames,
one every ~0.77 s, the last zero-padded when at least 75 % covered; a shorter clip is padded to
one), each partial is embedded, and the clip's embedding is their normalised mean.
``embed_many`` runs the partials of many clips through the network as one batch.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import librosa
import numpy as np

from dubkit import dsp
from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

N_MELS = 40
PARTIAL_FRAMES = 160  # mel frames (1.6 s) per partial utterance
_HOP = 160  # samples: 10 ms mel hop
_WIN = 400  # samples: 25 ms mel window
_PARTIAL_STEP = int(round(ANALYSIS_RATE / 1.3 / _HOP))  # 77 frames: 1.3 partials per second
_MIN_COVERAGE = 0.75  # a last partial is kept when this much of it is real audio
_TARGET_DBFS = -30.0  # resemblyzer's volume normalisation target
MIN_DURATION: Seconds = 0.1  # shortest clip that can be embedded
_BATCH = 128  # partials per forward pass


class ResemblyzerEmbedder:
    """``SpeakerEmbedder`` named ``"resemblyzer"``: 256-d L2-normalised GE2E embeddings.

    ``model_path`` is a folder holding ``pretrained.pt`` (or the file itself); without one the
    catalog's ``"resemblyzer"`` model is resolved (a diarizer's ``embedder`` option builds it so).
    Weights load on the first embedding. ``device`` is a torch device name (``"cpu"``,
    ``"cuda"``, ``"auto"``).
    """

    name = "resemblyzer"
    # cosine above which a dub counts as its speaker's voice in qa.json; unrelated voices score
    # 0.42-0.51 and one voice 0.85-0.92, so this separates poorly (a secondary judge)
    same_speaker_threshold = 0.6
    dim = 256

    def __init__(self, model_path: str | Path | None = None, device: str = "cpu") -> None:
        if model_path is None:
            from dubkit.models import resolve_model

            model_path = resolve_model("resemblyzer").path
        path = Path(model_path)
        self.weights = path / "pretrained.pt" if path.is_dir() else path
        if not self.weights.is_file():
            raise ModelUnavailable(f"Resemblyzer weights not found: {self.weights} does not exist")
        self.device_name = device
        self._net = None  # torch module, loaded on first use
        self._device = None

    def embed(self, audio: Audio) -> np.ndarray:
        """A ``(256,)`` unit-length embedding of one speaker's ``audio`` (any rate)."""
        return self.embed_many([audio])[0]

    def embed_many(self, clips: Sequence[Audio]) -> np.ndarray:
        """``(clips, 256)`` unit-length embeddings, the partials of all clips batched together."""
        if not clips:
            return np.zeros((0, self.dim), dtype=np.float32)
        mels, owner = [], []
        for k, clip in enumerate(clips):
            parts = partial_mels(_preprocess(clip))  # (partials, 160, 40)
            mels.append(parts)
            owner += [k] * parts.shape[0]
        partials = self._forward(np.concatenate(mels))  # (partials, 256)
        owner_ids = np.asarray(owner)
        sums = np.zeros((len(clips), self.dim), dtype=np.float64)
        np.add.at(sums, owner_ids, partials)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def _forward(self, mels: np.ndarray) -> np.ndarray:
        """Unit-length embeddings ``(n, 256)`` of ``(n, 160, 40)`` mel partials."""
        import torch

        net = self._load()
        out = []
        with torch.inference_mode():
            for i in range(0, mels.shape[0], _BATCH):
                batch = torch.from_numpy(mels[i:i + _BATCH]).to(self._device)
                out.append(net(batch).float().cpu().numpy())
        return np.concatenate(out)

    def _load(self):  # -> torch.nn.Module
        if self._net is None:
            try:
                import torch  # noqa: F401
            except ImportError:
                raise BackendUnavailable(
                    "embedder 'resemblyzer' needs torch: pip install torch"
                ) from None
            from dubkit.torch_device import pick_device

            self._device = pick_device(self.device_name)
            self._net = _build_encoder(self.weights).to(self._device).eval()
        return self._net


def _build_encoder(weights: Path):  # -> torch.nn.Module
    """resemblyzer's ``VoiceEncoder`` network with the weights of ``weights``."""
    import torch
    from torch import nn

    class _Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)

        def forward(self, mels: torch.Tensor) -> torch.Tensor:  # (batch, frames, 40)
            _, (hidden, _) = self.lstm(mels)
            raw = torch.relu(self.linear(hidden[-1]))  # (batch, 256)
            return raw / torch.linalg.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)

    try:
        checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
        state = {k: v for k, v in checkpoint["model_state"].items()
                 if k.startswith(("lstm.", "linear."))}  # drop GE2E's similarity scale/bias
        encoder = _Encoder()
        encoder.load_state_dict(state)
    except Exception as exc:  # a corrupt or foreign file: pickle, key or shape errors
        raise ModelUnavailable(f"cannot load Resemblyzer weights from {weights}: {exc}") from exc
    return encoder


def _preprocess(audio: Audio) -> np.ndarray:
    """16 kHz mono samples with the RMS brought to -30 dBFS (resemblyzer's ``normalize_volume``,
    both ways), ``(samples,)``; digital silence is left as it is."""
    if audio.duration < MIN_DURATION:
        raise InputError(
            f"audio of {audio.duration:.3f} s is too short for a speaker embedding "
            f"(at least {MIN_DURATION} s)"
        )
    x = dsp.resample(audio.mono(), ANALYSIS_RATE).samples
    level = dsp.rms_dbfs(x)
    if level > dsp.DB_FLOOR:
        x = x * np.float32(dsp.db_to_gain(_TARGET_DBFS - level))
    return x


def partial_mels(x: np.ndarray) -> np.ndarray:
    """resemblyzer's partial utterances of 16 kHz samples: ``(partials, 160, 40)`` mel power
    frames (not log), cut as its ``compute_partial_slices`` with rate 1.3 and coverage 0.75."""
    n_frames = int(np.ceil((x.shape[0] + 1) / _HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + _PARTIAL_STEP + 1)
    starts = list(range(0, steps, _PARTIAL_STEP))
    last = starts[-1] * _HOP
    if len(starts) > 1 and (x.shape[0] - last) / (PARTIAL_FRAMES * _HOP) < _MIN_COVERAGE:
        starts = starts[:-1]
    needed = (starts[-1] + PARTIAL_FRAMES) * _HOP
    if needed >= x.shape[0]:
        x = np.pad(x, (0, needed - x.shape[0]))
    mel = librosa.feature.melspectrogram(
        y=x, sr=ANALYSIS_RATE, n_fft=_WIN, hop_length=_HOP, n_mels=N_MELS
    ).astype(np.float32).T  # (frames, 40)
    return np.stack([mel[s:s + PARTIAL_FRAMES] for s in starts])
