"""Core value types that flow between stages. Time is always in seconds (``Seconds``)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Seconds = float

ANALYSIS_RATE = 16_000  # Hz: every analysis stage (VAD, diarization, ASR) takes 16 kHz mono


@dataclass(frozen=True)
class Audio:
    """A block of float32 samples in [-1, 1].

    ``samples`` is ``(samples,)`` for mono or ``(channels, samples)`` for multichannel.
    """

    samples: np.ndarray
    rate: int

    def __post_init__(self) -> None:
        if self.samples.dtype != np.float32:
            object.__setattr__(self, "samples", self.samples.astype(np.float32))

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else self.samples.shape[0]

    @property
    def num_samples(self) -> int:
        return self.samples.shape[-1]

    @property
    def duration(self) -> Seconds:
        return self.num_samples / self.rate

    def mono(self) -> Audio:
        """Average of the channels, ``(samples,)``."""
        if self.samples.ndim == 1:
            return self
        return Audio(self.samples.mean(axis=0), self.rate)

    def slice(self, start: Seconds, end: Seconds) -> Audio:
        """The part between ``start`` and ``end`` (clamped to the audio)."""
        a = max(0, int(round(start * self.rate)))
        b = min(self.num_samples, int(round(end * self.rate)))
        return Audio(self.samples[..., a:max(a, b)], self.rate)

    @staticmethod
    def silence(duration: Seconds, rate: int) -> Audio:
        return Audio(np.zeros(int(round(duration * rate)), dtype=np.float32), rate)


@dataclass(frozen=True)
class SpeechRegion:
    """A stretch of the input where somebody speaks."""

    start: Seconds
    end: Seconds

    @property
    def duration(self) -> Seconds:
        return self.end - self.start

    def with_offset(self, offset: Seconds) -> SpeechRegion:
        return SpeechRegion(self.start + offset, self.end + offset)


@dataclass(frozen=True)
class Turn:
    """One speaker's turn: who spoke when (a row of RTTM)."""

    start: Seconds
    end: Seconds
    speaker: str

    @property
    def duration(self) -> Seconds:
        return self.end - self.start

    def with_offset(self, offset: Seconds) -> Turn:
        return Turn(self.start + offset, self.end + offset, self.speaker)


@dataclass(frozen=True)
class Transcript:
    """What a transcriber heard in one piece of speech."""

    text: str
    language: str  # ISO 639-1
    language_probability: float | None = None


@dataclass(frozen=True)
class Word:
    """A word a transcriber heard and when, in seconds from the start of the clip it heard.
    ``text`` keeps the space before it where the language writes one (" country,")."""

    text: str
    start: Seconds
    end: Seconds


@dataclass(frozen=True)
class Placement:
    """Where a dubbed segment was put on the output timeline and how it was fitted."""

    start: Seconds
    end: Seconds
    tempo: float  # > 1 means sped up
    overflow: Seconds  # how far the fitted audio still runs past its slot


@dataclass(frozen=True)
class Segment:
    """One dubbed line: a speaker's turn with its texts and, once synthesized, its placement."""

    id: str
    start: Seconds
    end: Seconds
    speaker: str
    source_text: str = ""
    target_text: str = ""
    audio_file: str | None = None  # relative to the job folder
    placement: Placement | None = None
    flags: tuple[str, ...] = ()  # reasons to review this line (e.g. "translation-echoed-source")
    # what the machine gave the line (translation, shortening); a target_text that differs
    # is the user's edit. None: not recorded (job folders of dubkit before 0.1)
    machine_text: str | None = None
    # whose line the machine made it and where (diarization and segmentation); a speaker or
    # times that differ are the user's edits. None: not recorded (older job folders)
    machine_speaker: str | None = None
    machine_start: Seconds | None = None
    machine_end: Seconds | None = None
    # catalog names of the models that made the line's speech (synthesizer or speech
    # translator, voice converter): what provenance.json lists for it. Empty: none yet
    spoken_by: tuple[str, ...] = ()
    approved: bool = False  # a reviewer approved it (``dubkit review``)

    @property
    def duration(self) -> Seconds:
        return self.end - self.start

    def replace(self, **changes: Any) -> Segment:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["flags"] = list(self.flags)
        d["spoken_by"] = list(self.spoken_by)
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Segment:
        d = dict(d)
        placement = d.pop("placement", None)
        flags = tuple(d.pop("flags", ()) or ())
        spoken_by = tuple(d.pop("spoken_by", ()) or ())
        return Segment(**d, placement=Placement(**placement) if placement else None,
                       flags=flags, spoken_by=spoken_by)


@dataclass(frozen=True)
class Speaker:
    """A diarized speaker and the speech time attributed to them."""

    id: str
    total_speech: Seconds
    voice: str | None = None  # the synthesis voice chosen for them
    gender: str | None = None  # "female" | "male" | None, estimated from pitch

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ProgressEvent:
    """Reported through the progress hook: ``done`` of ``total`` units of ``stage``."""

    stage: str
    done: int
    total: int | None
    message: str = ""


@dataclass
class StageTimings:
    """Wall seconds spent per stage, in the order they ran."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
