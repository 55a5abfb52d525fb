"""The job's outputs: the dub mixed over the original, muxed into the media, and subtitles."""
from __future__ import annotations

from pathlib import Path

from dubkit import media
from dubkit.stages.context import JobContext
from dubkit.stages.speech import segment_audio
from dubkit.synth.mix import mix_dub
from dubkit.types import Segment


def mix_and_mux(job: JobContext, input_path: Path, segments: list[Segment], target: str,
                source: str, keep_original: bool) -> None:
    with job.timed("mix"):
        original = media.decode_audio(input_path)
        placed = [
            (s.placement.start, segment_audio(job, s))
            for s in segments if s.placement is not None and s.audio_file
        ]
        mix = job.preset.mix
        mixed = mix_dub(original, placed, duck_db=mix.duck_db, ramp=mix.ramp)
    with job.timed("mux"):
        media.mux_dub(input_path, mixed, job.paths.output, dub_language=target,
                      source_language=source, keep_original=keep_original)


def write_subtitles(job: JobContext, segments: list[Segment]) -> None:
    """Target subtitles follow where the dub is heard; source ones, the original speech."""
    with job.timed("subtitles"):
        target_cues = [
            media.Cue(s.placement.start if s.placement else s.start,
                      max(s.placement.end if s.placement else s.end, s.end), s.target_text)
            for s in segments
        ]
        source_cues = [media.Cue(s.start, s.end, s.source_text) for s in segments]
        paths = job.paths
        media.write_subtitles(target_cues, paths.subtitles)
        media.write_subtitles(target_cues, paths.subtitles_vtt)
        media.write_subtitles(source_cues, paths.source_subtitles)
