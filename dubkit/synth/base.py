"""Stage protocols for synthesis and timing fit."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dubkit.errors import UnsupportedLanguage
from dubkit.languages import language_name
from dubkit.types import Audio, Seconds


def check_synthesis_language(name: str, languages: frozenset[str], language: str) -> str:
    """The normalised code of ``language``, or a one-line error naming what ``name`` speaks."""
    code = (language or "").strip().lower()
    if code not in languages:
        raise UnsupportedLanguage(
            f"{name} cannot speak {language_name(code)} ({code or 'empty'}); "
            f"it speaks: {', '.join(sorted(languages))}")
    return code


@dataclass(frozen=True)
class VoiceRequest:
    """What the pipeline knows about the speaker a line is spoken for."""

    speaker: str
    language: str
    gender: str | None = None  # "female" | "male" | None, estimated from pitch


class Synthesizer(Protocol):
    name: str
    languages: frozenset[str]

    def voice_for(self, request: VoiceRequest) -> str:
        """The voice this backend will use for ``request`` (recorded in project.json)."""

    def stock_voices(self, language: str) -> dict[str, str | None]:
        """Every voice ``synthesize`` takes for ``language``, with its gender ("female",
        "male") where the voice says: what a speaker may be given by who they sound like
        (``synth.voice_match``)."""

    def synthesize(self, text: str, language: str, voice: str) -> Audio:
        """Mono speech for ``text`` at the backend's own sample rate."""

    def backend_for(self, language: str) -> str:
        """The ``name`` of the synthesizer that speaks ``language``: a single backend's own,
        a router's chosen one. Intelligibility is measured per name (``synth.intelligibility``)."""


@dataclass(frozen=True)
class FitResult:
    audio: Audio
    tempo: float  # 1.0 = unchanged, 1.2 = 20 % faster
    overflow: Seconds  # how far the fitted audio still runs past the slot
    pause_change: Seconds = 0.0  # silence added to (+) or taken from (-) its pauses


class TimeFitter(Protocol):
    def fit(self, audio: Audio, slot: Seconds) -> FitResult:
        """Make ``audio`` fit ``slot`` seconds, within the fitter's tempo bounds."""
