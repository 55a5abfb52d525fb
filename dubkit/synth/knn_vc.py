"""kNN-VC voice conversion (Baas, van Niekerk and Kamper, Interspeech 2023): any voice to the
speaker's, from their own speech, by nearest neighbours in WavLM's feature space.

Every 20 ms frame of the synthesized line is described by WavLM Large's sixth layer, which
carries what is said and how, and little of who says it. Each frame is replaced by the mean of
its ``k`` nearest frames (cosine) among the same layer's frames of the speaker's own speech
(the *matching set*), so the line is rebuilt from the speaker's sounds; a HiFi-GAN trained on
such features ("prematched") turns them back into 16 kHz speech (so nothing above 8 kHz). The
more of the speaker's speech, the closer the match: the paper reports intelligibility near the
source's from about 5 minutes and usable from 30 s, so a speaker with less keeps WORLD's
timbre. Before matching, the line is moved onto the speaker's pitch range and the source line's
intonation, energy and pauses by ``WorldVoiceConverter`` (its timbre steps off), so the
neighbours are found among frames of similar pitch and the dub keeps the source's prosody.

Weights: ``model_path`` is ``{"features": <WavLM folder>, "vocoder": <HiFi-GAN folder>}``, the
catalog's ``wavlm-large`` (transformers ``WavLMModel``, e.g. ``microsoft/wavlm-large``) and
``knn-vc-hifigan`` (see ``dubkit.synth.hifigan``). Only WavLM's first ``layer`` layers are
run. A speaker's matching set is computed once (in batches of chunks) and kept for the job's
later lines.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dubkit import dsp
from dubkit.analysis.prosody import SegmentProsody, loudness
from dubkit.analysis.speaker_profile import SpeakerProfile
from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable, first_line
from dubkit.synth.convert import WorldVoiceConverter, match_level
from dubkit.synth.reference_cache import ReferenceCache
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

FEATURE_HOP = 320  # samples at 16 kHz per WavLM frame (20 ms): the conv stack's total stride
FEATURE_WINDOW = 400  # samples the first frame needs (the conv stack's receptive field)
_KEPT_FRAMES = 300_000  # matching-set frames kept (1.2 GB at 1024-d): 100 min of speakers
_QUERY_ROWS = 2048  # query frames compared at once (bounds the distance matrix)


class KnnVoiceConverter:
    """A ``VoiceConverter`` named ``"knn-vc"``; it needs each profile's ``speech``.

    ``k`` neighbours are averaged per frame from WavLM layer ``layer``. A speaker with less than
    ``min_reference`` seconds of speech is converted by WORLD alone (``last_method`` says which
    ran); at most ``max_reference`` seconds are matched against. The matching set is encoded in
    chunks of ``chunk_seconds``, ``batch`` at a time. ``prosody_weight``, ``energy_weight`` and
    ``transfer_pauses`` are passed to the WORLD step that carries the source line's prosody.
    """

    name = "knn-vc"
    needs_speaker_speech = True  # the job hands each profile the speaker's speech

    def __init__(self, model_path: Mapping[str, str | Path], device: str = "auto", k: int = 4,
                 layer: int = 6, min_reference: Seconds = 30.0, max_reference: Seconds = 480.0,
                 chunk_seconds: Seconds = 20.0, batch: int = 4, prosody_weight: float = 0.8,
                 energy_weight: float = 0.5, transfer_pauses: bool = True) -> None:
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable(
                f"knn-vc needs {exc.name or 'transformers'}: pip install 'dubkit[hf]'") from None
        if not isinstance(model_path, Mapping) or {"features", "vocoder"} - set(model_path):
            raise InputError("knn-vc needs two models: model = { features = <WavLM>, "
                             "vocoder = <HiFi-GAN> }")
        if k < 1 or layer < 1 or batch < 1 or chunk_seconds < 1 or min_reference < 1 \
                or max_reference < min_reference:
            raise InputError("knn-vc needs k, layer and batch >= 1, chunk_seconds and "
                             "min_reference >= 1 and max_reference >= min_reference")
        from dubkit.torch_device import pick_device

        self.features_path = Path(model_path["features"])
        self.vocoder_path = Path(model_path["vocoder"])
        self.device = pick_device(device)
        self.k, self.layer, self.batch = int(k), int(layer), int(batch)
        self.min_reference, self.max_reference = float(min_reference), float(max_reference)
        self.chunk_seconds = float(chunk_seconds)
        self.prosody = WorldVoiceConverter(prosody_weight=prosody_weight,
                                           energy_weight=energy_weight, warp=False,
                                           equalize=0.0, transfer_pauses=transfer_pauses)
        self.fallback = WorldVoiceConverter(prosody_weight=prosody_weight,
                                            energy_weight=energy_weight,
                                            transfer_pauses=transfer_pauses)
        self._models: tuple[Any, Any] | None = None
        self._layer_out: list[Any] = []  # what the hook on WavLM's last kept layer saw
        self._matching: ReferenceCache[Any] = ReferenceCache(_KEPT_FRAMES,
                                                             lambda m: m.shape[0])
        self.last_method = ""

    @property
    def matching_passes(self) -> int:
        """Matching sets encoded so far (each speaker's once while it is kept)."""
        return self._matching.computed

    def convert(self, speech: Audio, target: SpeakerProfile,
                prosody: SegmentProsody | None = None) -> Audio:
        """See ``VoiceConverter.convert``."""
        if target.speech is None:
            raise InputError(f"knn-vc needs speaker {target.speaker or '?'}'s own speech to "
                             "match against (SpeakerProfile.speech)")
        if target.speech.duration < self.min_reference:
            self.last_method = "world"
            return self.fallback.convert(speech, target, prosody)
        self.last_method = "knn-vc"
        rate = speech.rate
        shaped = self.prosody.convert(speech, target, prosody)
        x = dsp.resample(shaped.mono(), ANALYSIS_RATE).samples
        if x.shape[0] < FEATURE_WINDOW or not np.any(x):
            return Audio(np.zeros(round(shaped.duration * rate), np.float32), rate)
        y = self._convert_samples(x, self._matching_set(target.speech))
        goal = prosody.loudness if prosody is not None else loudness(speech)
        out = dsp.resample(Audio(y, ANALYSIS_RATE), rate)
        return Audio(match_level(out.samples, rate, goal), rate)

    def _convert_samples(self, x: np.ndarray, matching: Any) -> np.ndarray:
        """16 kHz samples rebuilt from ``matching`` frames, as long as ``x``."""
        import torch

        _, vocoder = self._load()
        frames = -(-x.shape[0] // FEATURE_HOP)  # enough frames to cover every sample
        padded = np.zeros((frames - 1) * FEATURE_HOP + FEATURE_WINDOW, np.float32)
        padded[: x.shape[0]] = x
        query = self._encode(padded[None])[0]  # (frames, dim)
        matched = nearest_mean(query, matching, self.k)
        with torch.inference_mode():
            y = vocoder(matched[None]).float().cpu().numpy()[0]
        return np.pad(y, (0, max(0, x.shape[0] - y.shape[0])))[: x.shape[0]]

    def _matching_set(self, speech: Audio) -> Any:
        """``(frames, dim)`` WavLM frames of the speaker's speech, encoded once per speaker."""
        x = dsp.resample(speech.mono(), ANALYSIS_RATE).samples
        return self._matching.get(x[: int(self.max_reference * ANALYSIS_RATE)], self._frames_of)

    def _frames_of(self, x: np.ndarray) -> Any:
        """``x``'s WavLM frames, encoded in chunks, ``batch`` at a time."""
        import torch

        chunk = int(self.chunk_seconds * ANALYSIS_RATE)
        pieces = [x[i:i + chunk] for i in range(0, x.shape[0], chunk)]
        pieces = [p for p in pieces if p.shape[0] >= FEATURE_WINDOW]
        feats = []
        for i in range(0, len(pieces), self.batch):
            group = pieces[i:i + self.batch]
            width = max(p.shape[0] for p in group)
            stacked = np.zeros((len(group), width), np.float32)
            mask = np.zeros((len(group), width), np.int64)
            for row, p in enumerate(group):
                stacked[row, : p.shape[0]] = p
                mask[row, : p.shape[0]] = 1
            encoded = self._encode(stacked, mask)
            for row, p in enumerate(group):  # padding's frames are not the speaker's
                feats.append(encoded[row, : (p.shape[0] - FEATURE_WINDOW) // FEATURE_HOP + 1])
        return torch.cat(feats)

    def _encode(self, batch: np.ndarray, mask: np.ndarray | None = None) -> Any:
        """WavLM layer ``layer`` of ``(rows, samples)`` 16 kHz audio: ``(rows, frames, dim)``;
        ``mask`` marks each row's real samples (1) against its padding (0). Raw samples go in,
        as kNN-VC's vocoder was trained on (no normalisation)."""
        import torch

        wavlm, _ = self._load()
        attention = None if mask is None else torch.from_numpy(mask).to(self.device)
        self._layer_out.clear()
        with torch.inference_mode(), warnings.catch_warnings():
            # torch's advice to transformers' WavLM attention about its mask types
            warnings.filterwarnings("ignore", "Support for mismatched key_padding_mask",
                                    UserWarning)
            wavlm(torch.from_numpy(batch).to(self.device), attention_mask=attention)
        return self._layer_out.pop().float()

    def _load(self) -> tuple[Any, Any]:
        if self._models is None:
            from transformers import WavLMModel

            from dubkit.synth.hifigan import load_hifigan
            from dubkit.torch_device import quiet_hf_loading

            quiet_hf_loading()
            try:
                wavlm = WavLMModel.from_pretrained(self.features_path, local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ModelUnavailable(
                    f"cannot load WavLM from {self.features_path}: {first_line(exc)}") from exc
            wavlm.to(self.device).eval()
            vocoder = load_hifigan(self.vocoder_path, self.device)
            config = wavlm.config
            hop = int(np.prod(config.conv_stride))
            if vocoder.lin_pre.in_features != config.hidden_size or vocoder.hop != hop \
                    or vocoder.rate != ANALYSIS_RATE or self.layer > config.num_hidden_layers:
                raise ModelUnavailable(
                    f"the vocoder in {self.vocoder_path} ({vocoder.lin_pre.in_features}-d "
                    f"frames, hop {vocoder.hop}, {vocoder.rate} Hz) does not fit WavLM in "
                    f"{self.features_path} ({config.hidden_size}-d, hop {hop}, 16000 Hz, "
                    f"{config.num_hidden_layers} layers for layer {self.layer})")
            # the layers after the one matched are never read: do not run them. Its output is
            # taken by a hook, as the encoder's own output is layer-normed after its last layer
            wavlm.encoder.layers = wavlm.encoder.layers[: self.layer]
            wavlm.encoder.layers[-1].register_forward_hook(
                lambda _module, _inputs, output: self._layer_out.append(
                    output[0] if isinstance(output, tuple) else output))
            self._models = (wavlm, vocoder)
        return self._models


def nearest_mean(query: Any, matching: Any, k: int) -> Any:
    """Each row of ``query`` ``(n, dim)`` replaced by the mean of its ``k`` nearest rows of
    ``matching`` ``(m, dim)`` by cosine similarity (all of them when ``m < k``)."""
    import torch
    from torch.nn import functional as F

    k = min(k, matching.shape[0])
    unit = F.normalize(matching, dim=-1)
    out = []
    for start in range(0, query.shape[0], _QUERY_ROWS):
        rows = F.normalize(query[start:start + _QUERY_ROWS], dim=-1)
        nearest = (rows @ unit.T).topk(k, dim=-1).indices  # (rows, k)
        out.append(matching[nearest].mean(dim=1))
    return torch.cat(out) if out else query
