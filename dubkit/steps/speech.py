"""Steps that speak: synthesis of a line, its move to the speaker's voice, its fit to a slot."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from dubkit.analysis.prosody import SegmentProsody
from dubkit.analysis.speaker_profile import SpeakerProfile
from dubkit.backends import StageBackends
from dubkit.jobs.cache import audio_id, content_key
from dubkit.steps.base import AUDIO, ItemStep
from dubkit.synth.fit import TempoFitter
from dubkit.types import Audio, Seconds


@dataclass(frozen=True)
class Speakable:
    """Text to speak in ``language`` with the synthesizer's ``voice``."""

    text: str
    language: str
    voice: str


class Synthesize(ItemStep[Speakable, Audio]):
    name = "synthesize"
    codec = AUDIO

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: Speakable) -> str:
        return content_key("synthesize", item.text, item.language, item.voice,
                           self.backends.fingerprint("synthesis"))

    def process(self, item: Speakable) -> Audio:
        return self.backends.get("synthesis").synthesize(item.text, item.language, item.voice)


@dataclass(frozen=True)
class Voicing:
    """Speech (stored under ``speech_key`` by the step that made it) to move to a speaker's
    voice, with the prosody of the source line where it is known."""

    speech_key: str
    speech: Audio
    profile: SpeakerProfile
    prosody: SegmentProsody | None


class ConvertVoice(ItemStep[Voicing, Audio]):
    name = "convert"
    codec = AUDIO

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: Voicing) -> str:
        # a converter that matches against the speaker's speech depends on all of it
        reference = None if item.profile.speech is None else audio_id(item.profile.speech)
        return content_key("convert", item.speech_key, item.profile.to_dict(),
                           item.prosody.to_dict() if item.prosody else None,
                           self.backends.fingerprint("voice"), reference)

    def process(self, item: Voicing) -> Audio:
        return self.backends.get("voice").convert(item.speech, item.profile, item.prosody)


@dataclass(frozen=True)
class Slotting:
    """Speech (stored under ``speech_key``) to fit into ``duration`` seconds."""

    speech_key: str
    speech: Audio
    duration: Seconds


@dataclass(frozen=True)
class Fitted:
    audio: Audio
    tempo: float
    length: Seconds
    pause_change: Seconds  # silence added to (+) or taken from (-) its pauses


class _Fitted:
    form: ClassVar[str] = "record"

    def has_audio(self, value: Any) -> bool:
        return True

    def encode(self, result: Fitted) -> tuple[Any, Any]:
        return [result.tempo, result.length, result.pause_change], result.audio

    def decode(self, stored: tuple[Any, Any]) -> Fitted:
        (tempo, length, pause_change), audio = stored
        return Fitted(audio, tempo, length, pause_change)


class FitTiming(ItemStep[Slotting, Fitted]):
    """Tempo and pauses changed within the fitter's bounds so the speech fills its slot."""

    name = "fit"
    codec = _Fitted()

    def __init__(self, fitter: TempoFitter) -> None:
        self.fitter = fitter

    def key(self, item: Slotting) -> str:
        f = self.fitter
        return content_key("fit", item.speech_key, item.duration, f.min_tempo, f.max_tempo,
                           f.max_pause_fill, f.min_pause)

    def process(self, item: Slotting) -> Fitted:
        result = self.fitter.fit(item.speech, item.duration)
        return Fitted(result.audio, result.tempo, result.audio.duration, result.pause_change)
