"""Who speaks when, and in what language: voice activity, diarization, speakers, language ID."""
from __future__ import annotations

import numpy as np

from dubkit.analysis.pitch import estimate_gender
from dubkit.jobs.cache import content_key
from dubkit.progress import StageProgress
from dubkit.stages.context import JobContext, concat_spans
from dubkit.synth.base import VoiceRequest
from dubkit.types import Audio, Speaker, SpeechRegion, Turn

SILENCE_DBFS = -80.0  # below this peak level the input counts as silent
LANGUAGE_PROBE_SECONDS = 30.0  # speech used to detect the source language
GENDER_PROBE_SECONDS = 30.0  # speech used to estimate a speaker's pitch


def find_speech(job: JobContext, audio: Audio) -> list[SpeechRegion]:
    """Speech regions of the 16 kHz analysis track; none for a silent input."""
    with job.timed("vad"):
        peak = float(np.max(np.abs(audio.samples))) if audio.num_samples else 0.0
        if peak <= 10 ** (SILENCE_DBFS / 20):
            return []
        key = content_key("vad", job.audio_id, job.backends.fingerprint("vad"))
        cached = job.cache.get_json("vad", key)
        if cached is not None:
            return [SpeechRegion(*r) for r in cached]
        with StageProgress(job.progress, "vad", None):
            regions = job.backends.get("vad").detect(audio)
        job.cache.put_json("vad", key, [[r.start, r.end] for r in regions])
        return regions


def diarize(job: JobContext, audio: Audio, regions: list[SpeechRegion],
            num_speakers: int | None) -> list[Turn]:
    """Speaker turns inside ``regions``."""
    with job.timed("diarize"):
        key = content_key("diarize", job.audio_id, [[r.start, r.end] for r in regions],
                          num_speakers, job.backends.fingerprint("diarization"))
        cached = job.cache.get_json("diarize", key)
        if cached is not None:
            return [Turn(*t) for t in cached]
        with StageProgress(job.progress, "diarize", None):
            turns = job.backends.get("diarization").diarize(audio, regions, num_speakers)
        job.cache.put_json("diarize", key, [[t.start, t.end, t.speaker] for t in turns])
        return turns


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
    """The spoken language of the first ``LANGUAGE_PROBE_SECONDS`` of speech, and its
    probability."""
    with job.timed("language"):
        key = content_key("language", job.audio_id, job.backends.fingerprint("transcription"))
        cached = job.cache.get_json("language", key)
        if cached is not None:
            return cached[0], cached[1]
        speech = concat_spans(audio, [(r.start, r.end) for r in regions], LANGUAGE_PROBE_SECONDS)
        with StageProgress(job.progress, "language", None):
            language, probability = job.backends.get("transcription").detect_language(speech)
        job.cache.put_json("language", key, [language, float(probability)])
        return language, float(probability)
