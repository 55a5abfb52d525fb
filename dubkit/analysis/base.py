"""Stage protocols for analysis: voice activity, speaker embeddings, diarization.

Every stage takes 16 kHz mono ``Audio`` (``types.ANALYSIS_RATE``). Voice activity is stateful so
that a live microphone can feed it chunk by chunk; feeding a signal whole or in chunks gives the
same regions.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from dubkit.types import Audio, Seconds, SpeechRegion, Turn


class VadStream(Protocol):
    """Per-session voice-activity state. Regions come out as soon as they are closed."""

    def feed(self, chunk: Audio) -> list[SpeechRegion]:
        """Consume the next chunk (any length); return the speech regions that ended in it."""

    def flush(self) -> list[SpeechRegion]:
        """End of input: close and return any open region."""

    def reset(self) -> None:
        """Forget everything; the next ``feed`` starts at time 0."""


class VoiceActivityDetector(Protocol):
    name: str
    padding: Seconds  # each region reaches this far past its speech on both sides

    def stream(self) -> VadStream:
        """A fresh streaming state."""

    def detect(self, audio: Audio) -> list[SpeechRegion]:
        """All speech regions of a whole signal (the same as one ``feed`` and a ``flush``)."""


class SpeakerEmbedder(Protocol):
    name: str
    dim: int
    same_speaker_threshold: float  # cosine above which two clips count as one speaker (QA)

    def embed(self, audio: Audio) -> np.ndarray:
        """A ``(dim,)`` L2-normalised embedding of one stretch of a single speaker's speech."""

    def embed_many(self, clips: Sequence[Audio]) -> np.ndarray:
        """``(len(clips), dim)`` embeddings, each what ``embed`` gives for that clip (to within
        float rounding); a neural embedder runs them through its network in batches. A diarizer
        embeds all its windows through this."""


class Diarizer(Protocol):
    name: str
    embedder: SpeakerEmbedder | None  # the voices it tells apart, reused to profile speakers

    def diarize(
        self,
        audio: Audio,
        regions: Sequence[SpeechRegion],
        num_speakers: int | None = None,
    ) -> list[Turn]:
        """Who spoke when, within ``regions``. Speakers are named ``SPEAKER_00``, ``SPEAKER_01``...
        in order of first appearance. Turns are sorted by start. An overlap-aware diarizer
        may return overlapping turns of different speakers (people talking at once): each then
        becomes a line of its own, dubbed at once (``tests/test_overlapping_turns.py``); the
        clustering diarizer's never overlap."""
