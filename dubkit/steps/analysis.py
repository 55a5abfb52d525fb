"""Steps that listen: voice activity, speakers, spoken language, voice profiles, prosody."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from dubkit.analysis.language_id import LanguageEvidence, WindowGuess
from dubkit.analysis.prosody import SegmentProsody, extract_prosody
from dubkit.analysis.speaker_profile import build_speaker_profile
from dubkit.backends import StageBackends
from dubkit.errors import InputError
from dubkit.jobs.cache import content_key
from dubkit.steps.base import ItemStep, JsonValue
from dubkit.types import Audio, Seconds, SpeechRegion, Turn

Span = tuple[Seconds, Seconds]


@dataclass(frozen=True)
class Track:
    """A 16 kHz mono track and the sha256 of its samples (``jobs.cache.audio_id``)."""

    audio: Audio
    id: str


class _Regions(JsonValue[list[SpeechRegion]]):
    def encode(self, result: list[SpeechRegion]) -> Any:
        return [[r.start, r.end] for r in result]

    def decode(self, stored: Any) -> list[SpeechRegion]:
        return [SpeechRegion(*r) for r in stored]


class FindSpeech(ItemStep[Track, list[SpeechRegion]]):
    """Speech regions of a whole track (the VAD backend)."""

    name = "vad"
    codec = _Regions()

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: Track) -> str:
        return content_key("vad", item.id, self.backends.fingerprint("vad"))

    def process(self, item: Track) -> list[SpeechRegion]:
        return self.backends.get("vad").detect(item.audio)


@dataclass(frozen=True)
class DiarizeItem:
    track: Track
    regions: tuple[SpeechRegion, ...]
    num_speakers: int | None = None


class _Turns(JsonValue[list[Turn]]):
    def encode(self, result: list[Turn]) -> Any:
        return [[t.start, t.end, t.speaker] for t in result]

    def decode(self, stored: Any) -> list[Turn]:
        return [Turn(*t) for t in stored]


class Diarize(ItemStep[DiarizeItem, list[Turn]]):
    """Speaker turns inside the speech regions."""

    name = "diarize"
    codec = _Turns()

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: DiarizeItem) -> str:
        return content_key("diarize", item.track.id, [[r.start, r.end] for r in item.regions],
                           item.num_speakers, self.backends.fingerprint("diarization"))

    def process(self, item: DiarizeItem) -> list[Turn]:
        return self.backends.get("diarization").diarize(item.track.audio, list(item.regions),
                                                        item.num_speakers)


@dataclass(frozen=True)
class LanguageProbe:
    """Windows of speech to detect the language of, each its spans of ``audio``, the track
    ``track_id`` (``analysis.language_id.choose_windows``)."""

    track_id: str
    audio: Audio
    windows: tuple[tuple[Span, ...], ...]


class _Evidence(JsonValue[LanguageEvidence]):
    def encode(self, result: LanguageEvidence) -> Any:
        return result.to_dict()

    def decode(self, stored: Any) -> LanguageEvidence:
        return LanguageEvidence.from_dict(stored)


class DetectLanguage(ItemStep[LanguageProbe, LanguageEvidence]):
    """Each window's language distribution (the transcriber's language ID), and how sure the
    transcriber's model must be for an answer to stand; ``language_id`` combines and decides."""

    name = "language"
    codec = _Evidence()

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: LanguageProbe) -> str:
        windows = [[list(span) for span in window] for window in item.windows]
        return content_key("language-windows", item.track_id, windows,
                           self.backends.fingerprint("transcription"))

    def process(self, item: LanguageProbe) -> LanguageEvidence:
        transcriber = self.backends.get("transcription")
        track = item.audio.mono()
        guesses = []
        for window in item.windows:
            speech = Audio(np.concatenate([track.slice(s, e).samples for s, e in window]),
                           track.rate)
            guesses.append(WindowGuess(round(speech.duration, 3),
                                       transcriber.language_probabilities(speech)))
        return LanguageEvidence(tuple(guesses), transcriber.language_thresholds)


@dataclass(frozen=True)
class SpeakerSpeech:
    """A speaker's speech: ``spans`` of the 16 kHz ``speech`` track (``speech_id`` names how
    that track was made: the original or a separated one), at most ``limit`` seconds used."""

    track_id: str
    speech_id: str
    speech: Audio
    speaker: str
    spans: tuple[Span, ...]
    limit: Seconds


class ProfileSpeaker(ItemStep[SpeakerSpeech, dict]):
    """A speaker's voice profile as a dict (``SpeakerProfile.to_dict``); ``{}`` when there is too
    little voiced speech for one."""

    name = "profile"
    codec: ClassVar[JsonValue[dict]] = JsonValue()

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: SpeakerSpeech) -> str:
        return content_key("profile", item.track_id, item.speech_id, list(item.spans),
                           self.backends.fingerprint("diarization"))

    def process(self, item: SpeakerSpeech) -> dict:
        clips, total = [], 0.0
        for start, end in item.spans:
            if total >= item.limit:
                break
            clips.append(item.speech.slice(start, end))
            total += end - start
        embedder = self.backends.get("diarization").embedder
        try:
            return build_speaker_profile(clips, item.speaker, embedder,
                                         keep_speech=False).to_dict()
        except InputError:  # too little (voiced) speech for a profile
            return {}


@dataclass(frozen=True)
class LineSpeech:
    """One line's source speech: ``start``..``end`` of a track (as for ``SpeakerSpeech``)."""

    track_id: str
    speech_id: str
    speech: Audio
    start: Seconds
    end: Seconds


class _Prosody(JsonValue[SegmentProsody]):
    def encode(self, result: SegmentProsody) -> Any:
        return result.to_dict()

    def decode(self, stored: Any) -> SegmentProsody:
        return SegmentProsody.from_dict(stored)


class MeasureProsody(ItemStep[LineSpeech, SegmentProsody]):
    """A line's F0 contour, energy envelope, speaking rate and pauses (no model)."""

    name = "prosody"
    codec = _Prosody()

    def key(self, item: LineSpeech) -> str:
        return content_key("prosody", item.track_id, item.speech_id, item.start, item.end)

    def process(self, item: LineSpeech) -> SegmentProsody:
        return extract_prosody(item.speech.slice(item.start, item.end))
