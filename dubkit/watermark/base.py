"""The watermarker protocol, its result type and the secret key handling shared by backends."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from dubkit.types import Audio, Seconds
from dubkit.watermark.payload import Payload

# Used when no key is given, so marking works out of the box. Anyone with dubkit can detect (and
# try to remove) marks made with it: deployments that care should set their own key.
DEFAULT_KEY = "dubkit-default-watermark-key-v1"


def key_id(key: str) -> str:
    """A short public name for ``key`` (8 hex digits of its SHA-256): safe to record in
    project.json, where the key itself must never go."""
    return hashlib.sha256(("dubkit-key-id:" + key).encode("utf-8")).hexdigest()[:8]


def key_seed(key: str, purpose: str) -> int:
    """A 64-bit seed derived from ``key`` for one ``purpose`` (layout, dither...)."""
    digest = hashlib.sha256(f"dubkit-watermark:{purpose}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Detection:
    """What a detector found in a piece of audio.

    ``found`` is the decision; ``payload`` is set only when the payload's code check passed;
    ``score`` is the detector's statistic (for the spread-spectrum backend a z-score whose null
    distribution is standard normal or lighter); ``ranges`` are ``(start, end)`` seconds of the
    input where the mark was seen; ``layers`` maps each layer of a layered mark to what it
    found (``{"found": bool, "score": float}``), empty for a single-layer backend.
    """

    found: bool
    payload: Payload | None
    score: float
    ranges: list[tuple[Seconds, Seconds]] = field(default_factory=list)
    key_id: str = ""
    layers: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "found": self.found,
            "job_id": None if self.payload is None else self.payload.job_id,
            "version": None if self.payload is None else self.payload.version,
            "score": round(float(self.score), 3),
            "ranges": [[round(a, 3), round(b, 3)] for a, b in self.ranges],
            "key_id": self.key_id,
            "layers": self.layers,
        }


class Watermarker(Protocol):
    """Marks synthesized speech and finds the mark again.

    Backends are built with ``key: str | None`` (None: ``DEFAULT_KEY``) and are deterministic for
    a given key: the same audio and payload give the same marked audio.
    """

    name: str
    key_id: str
    # seconds after which the mark repeats, counted from the start of what is embedded; None
    # when it does not (a sample-level mark). Pieces marked apart but played on one timeline
    # (live phrases) keep this phase, so that a recording of them adds up to one mark.
    period: float | None

    def embed(self, audio: Audio, payload: Payload, cover: Audio | None = None) -> Audio:
        """``audio`` (mono speech, any rate) with ``payload`` hidden in it, same rate and length.
        ``cover``, when given, is what will be mixed under ``audio`` (mono, same rate and
        length); a backend may use it to make the mark survive that mix."""

    def detect(self, audio: Audio) -> Detection:
        """Look for this key's mark anywhere in ``audio`` (any rate, mono or multichannel)."""
