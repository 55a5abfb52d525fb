"""Who speaks when, and in what language: voice activity, diarization, speakers, language ID."""
from __future__ import annotations

import numpy as np

from dubkit.analysis.language_id import choose_windows, combine, decide
from dubkit.analysis.pitch import estimate_gender
from dubkit.errors import NoSpeech
from dubkit.progress import StageProgress
from dubkit.stages.context import JobContext, concat_spans
from dubkit.steps.analysis import (
    DetectLanguage,
    Diarize,
    DiarizeItem,
    FindSpeech,
    LanguageProbe,
    Track,
)
from dubkit.synth.base import VoiceRequest
from dubkit.types import Audio, Speaker, SpeechRegion, Turn

SILENCE_DBFS = -80.0  # below this peak level the input counts as silent
GENDER_PROBE_SECONDS = 30.0  # speech used to estimate a speaker's pitch


def find_speech(job: JobContext, audio: Audio) -> list[SpeechRegion]:
    """Speech regions of the 16 kHz analysis track; none for a silent input."""
    with job.timed("vad"):
        peak = float(np.max(np.abs(audio.samples))) if audio.num_samples else 0.0
        if peak <= 10 ** (SILENCE_DBFS / 20):
            return []
        with StageProgress(job.progress, "vad", None):
            return job.runner.run(FindSpeech(job.backends), Track(audio, job.audio_id))


def diarize(job: JobContext, audio: Audio, regions: list[SpeechRegion],
            num_speakers: int | None) -> list[Turn]:
    """Speaker turns inside ``regions``."""
    with job.timed("diarize"), StageProgress(job.progress, "diarize", None):
        item = DiarizeItem(Track(audio, job.audio_id), tuple(regions), num_speakers)
        return job.runner.run(Diarize(job.backends), item)


def speaker_spans(turns: list[Turn], speaker: str) -> list[tuple[float, float]]:
    return [(t.start, t.end) for t in turns if t.speaker == speaker]


def describe_speakers(job: JobContext, audio: Audio, turns: list[Turn],
                      target: str) -> list[Speaker]:
    """Each speaker's speech time, pitch-estimated gender and stock synthesis voice."""
    synth = None
    speakers = []
    for speaker_id in dict.fromkeys(t.speaker for t in turns):
        spans = speaker_spans(turns, speaker_id)
        gender = estimate_gender(concat_spans(audio, spans, GENDER_PROBE_SECONDS))
        synth = synth or job.backends.get("synthesis")
        voice = synth.voice_for(VoiceRequest(speaker_id, target, gender))
        total = round(sum(e - s for s, e in spans), 3)
        speakers.append(Speaker(speaker_id, total, voice, gender))
    return speakers


def detect_language(job: JobContext, audio: Audio,
                    regions: list[SpeechRegion]) -> tuple[str, float]:
    """The spoken language heard in windows of speech spread over the whole input, and its
    combined probability; ``UncertainLanguage`` (asking for ``--from``) when that is weak."""
    with job.timed("language"), StageProgress(job.progress, "language", None):
        windows = tuple(choose_windows(regions))
        if not windows:
            raise NoSpeech("no speech to tell the language from")
        evidence = job.runner.run(DetectLanguage(job.backends),
                                  LanguageProbe(job.audio_id, audio, windows))
        return decide(combine(evidence.guesses), evidence.thresholds)
