"""AudioSeal (Meta's neural watermark) as a ``Watermarker``, from a local checkpoint folder.

No PyPI package ships AudioSeal's weights and model hubs are unreachable here, so this backend has
never run on these machines: it only wires the ``audioseal`` package's documented API to dubkit's
types. The folder ``model_path`` must hold ``generator.pth`` and ``detector.pth`` (the 16-bit
checkpoints AudioSeal publishes). AudioSeal carries 16 message bits, so only the low 12 bits of the
job id and the 4-bit version fit; the key is not used by the model (AudioSeal is unkeyed) and is
recorded only by its id.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dubkit.dsp import resample
from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable
from dubkit.types import Audio
from dubkit.watermark.base import DEFAULT_KEY, Detection, key_id
from dubkit.watermark.payload import Payload

RATE = 16_000  # Hz: AudioSeal's models run at 16 kHz
_FILES = ("generator.pth", "detector.pth")


class AudioSealWatermarker:
    """``Watermarker`` over AudioSeal checkpoints in ``model_path`` (loaded on first use)."""

    def __init__(self, model_path: str | Path, key: str | None = None, threshold: float = 0.5,
                 name: str = "audioseal") -> None:
        self.path = Path(model_path)
        self.period = None  # every sample carries the mark
        self.name = name
        self.key_id = key_id(DEFAULT_KEY if key is None else key)
        self.threshold = threshold
        missing = [f for f in _FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelUnavailable(
                f"AudioSeal checkpoints missing in {self.path}: {', '.join(missing)}; "
                "no package ships them, download them on a machine that reaches the hub"
            )
        self._models = None

    def _load(self):
        if self._models is None:
            try:
                from audioseal import AudioSeal
            except ImportError:
                raise BackendUnavailable(
                    "the audioseal watermark needs the audioseal package: pip install audioseal"
                ) from None
            try:
                generator = AudioSeal.load_generator(str(self.path / _FILES[0]), nbits=16)
                detector = AudioSeal.load_detector(str(self.path / _FILES[1]), nbits=16)
            except Exception as exc:  # the package raises many kinds on a bad checkpoint
                raise ModelUnavailable(f"cannot load AudioSeal from {self.path}: {exc}") from exc
            self._models = (generator.eval(), detector.eval())
        return self._models

    def embed(self, audio: Audio, payload: Payload, cover: Audio | None = None) -> Audio:
        """``audio`` (mono) with the 16-bit message ``(job_id & 0xFFF) << 4 | version``.
        ``cover`` is not used: AudioSeal's generator was trained to survive mixing."""
        import torch

        if audio.channels != 1:
            raise InputError("embed a watermark in mono speech segments, before mixing")
        generator, _ = self._load()
        x = torch.from_numpy(resample(audio, RATE).samples)[None, None]  # (1, 1, samples)
        bits = _message_bits(payload)
        with torch.inference_mode():
            mark = generator.get_watermark(x, RATE, message=torch.tensor(bits)[None])
        mark = resample(Audio(mark[0, 0].numpy(), RATE), audio.rate).samples
        return Audio(audio.samples + mark[: audio.num_samples], audio.rate)

    def detect(self, audio: Audio) -> Detection:
        """AudioSeal's detection probability as ``score``; no time ranges (whole input)."""
        import torch

        _, detector = self._load()
        x = torch.from_numpy(resample(audio.mono(), RATE).samples)[None, None]
        with torch.inference_mode():
            prob, message = detector.detect_watermark(x, RATE)
        score = float(prob)
        found = score >= self.threshold
        bits = (message[0].numpy() > 0.5).astype(np.int64)
        value = int("".join(map(str, bits)), 2)
        payload = Payload(value >> 4, value & 0xF) if found else None
        ranges = [(0.0, audio.duration)] if found else []
        return Detection(found, payload, score, ranges, self.key_id)


def _message_bits(payload: Payload) -> list[int]:
    value = ((payload.job_id & 0xFFF) << 4) | payload.version
    return [(value >> i) & 1 for i in range(15, -1, -1)]
