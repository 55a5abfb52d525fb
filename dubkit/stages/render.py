"""The job's outputs: the background separated, the dub mixed over it (or over the ducked
original), muxed into the media, and subtitles."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dubkit import dsp, media
from dubkit.jobs.cache import audio_id, content_key
from dubkit.jobs.paths import JobPaths
from dubkit.progress import StageProgress
from dubkit.stages.context import JobContext
from dubkit.stages.speech import segment_audio
from dubkit.synth.mix import mix_dub
from dubkit.types import ANALYSIS_RATE, Audio, Segment, SpeechRegion

if TYPE_CHECKING:  # the state imports this module
    from dubkit.stages.sequence import DubState


@dataclass(frozen=True)
class Separated:
    """The input's soundtrack without its speech (original rate and channels), and the speech
    it held as 16 kHz mono (for voice profiles without music in them)."""

    background: Audio
    speech_16k: Audio


def separate(job: JobContext, original: Audio, regions: list[SpeechRegion]) -> Separated:
    """Speech and background of ``original`` (the dubbed audio track as decoded); only speech
    regions are processed, elsewhere the background is the original itself."""
    with job.timed("separate"):
        spans = [[r.start, r.end] for r in regions]
        key = content_key("separate", audio_id(original), spans,
                          job.backends.fingerprint("separation"))
        background = job.cache.get_audio("separate", key)
        if background is not None and (background.samples.size != original.samples.size
                                       or background.rate != original.rate):
            background = None  # not this decode's: computed again
        if background is None:
            with StageProgress(job.progress, "separate", None):
                result = job.backends.get("separation").separate(original, regions)
            background = result.background
            job.cache.put_audio("separate", key, background)
        # the cache gives a one-channel file back as (samples,): restore the decoder's shape
        background = Audio(background.samples.reshape(original.samples.shape), background.rate)
        speech = Audio(original.samples - background.samples, original.rate)
        return Separated(background, dsp.resample(speech.mono(), ANALYSIS_RATE))


def mix_and_mux(job: JobContext, state: DubState, output: Path,
                segments: list[Segment]) -> None:
    """Mix the placed lines over the background (keep: the separated soundtrack wherever the
    original speaks or the dub plays; duck: the lowered original; drop: silence) and mux the
    mix into ``output``. All dubbed speech is watermarked with the job's payload first."""
    with job.timed("mix"):
        original = state.soundtrack()
        placed = [
            (s.placement.start, segment_audio(job, s))
            for s in segments if s.placement is not None and s.audio_file
        ]
        mix = job.preset.mix
        separated = state.separated.background if state.separated else None
        if state.speech_only:  # nothing but speech under the speech: nothing to keep there
            separated = Audio(np.zeros_like(original.samples), original.rate)
        mixed = mix_dub(original, placed, mix.duck_db, mix.ramp, background=state.background,
                        separated=separated,
                        speech_spans=[(r.start, r.end) for r in state.regions],
                        mark=lambda dub, cover: _marked(job, state.watermarker, dub, cover,
                                                        state.payload))
    with job.timed("mux"):
        media.mux_dub(state.input, mixed, output, dub_language=state.target,
                      source_language=state.source, keep_original=state.keep_original,
                      audio_stream=state.stream)


def _marked(job: JobContext, watermarker, dub: Audio, cover: Audio, payload) -> Audio:
    with job.timed("watermark"), StageProgress(job.progress, "watermark", None):
        return watermarker.embed(dub, payload, cover=cover)


def write_subtitles(job: JobContext, paths: JobPaths, segments: list[Segment]) -> None:
    """Target subtitles follow where the dub is heard; source ones, the original speech."""
    with job.timed("subtitles"):
        target_cues = [
            media.Cue(s.placement.start if s.placement else s.start,
                      max(s.placement.end if s.placement else s.end, s.end), s.target_text)
            for s in segments
        ]
        source_cues = [media.Cue(s.start, s.end, s.source_text) for s in segments]
        media.write_subtitles(target_cues, paths.subtitles)
        media.write_subtitles(target_cues, paths.subtitles_vtt)
        media.write_subtitles(source_cues, paths.source_subtitles)
