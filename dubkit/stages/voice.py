"""Who the dub should sound like: each speaker's voice profile and each line's prosody, computed
from the source speech and kept with the job (``analysis/`` in the job folder)."""
from __future__ import annotations

import dataclasses
import json

from dubkit.analysis.prosody import SegmentProsody
from dubkit.analysis.speaker_profile import SpeakerProfile
from dubkit.jobs.atomic import write_text
from dubkit.progress import StageProgress
from dubkit.stages.analysis import speaker_spans
from dubkit.stages.context import JobContext, concat_spans
from dubkit.steps.analysis import LineSpeech, MeasureProsody, ProfileSpeaker, SpeakerSpeech
from dubkit.types import Audio, Segment, Turn

PROFILE_SPEECH_SECONDS = 120.0  # enough speech for stable statistics; bounds the work


def speaker_profiles(job: JobContext, speech: Audio, speech_id: str,
                     turns: list[Turn]) -> dict[str, SpeakerProfile]:
    """Each speaker's profile from (up to ``PROFILE_SPEECH_SECONDS`` of) all their speech in the
    16 kHz ``speech`` track (``speech_id`` names how it was made, for the cache); speakers with
    too little speech get none (their lines keep the stock voice). A converter that matches
    against the speaker's own speech (``needs_speaker_speech``) gets it in ``profile.speech``
    (in memory, up to its ``max_reference`` seconds). Written to ``analysis/speakers.json``."""
    step = ProfileSpeaker(job.backends)
    converter = job.backends.get("voice")
    reference = (getattr(converter, "max_reference", PROFILE_SPEECH_SECONDS)
                 if getattr(converter, "needs_speaker_speech", False) else None)
    profiles: dict[str, SpeakerProfile] = {}
    with job.timed("profile"), StageProgress(job.progress, "profile", None):
        for speaker in dict.fromkeys(t.speaker for t in turns):
            spans = speaker_spans(turns, speaker)
            item = SpeakerSpeech(job.audio_id, speech_id, speech, speaker, tuple(spans),
                                 PROFILE_SPEECH_SECONDS)
            profile = job.runner.run(step, item)
            if profile:
                profiles[speaker] = SpeakerProfile.from_dict(profile)
                if reference is not None:
                    profiles[speaker] = dataclasses.replace(
                        profiles[speaker], speech=concat_spans(speech, spans, reference))
    _write(job, "speakers.json", {s: p.to_dict() for s, p in profiles.items()})
    return profiles


def segment_prosody(job: JobContext, speech: Audio, speech_id: str,
                    segments: list[Segment]) -> dict[str, SegmentProsody]:
    """Each line's F0 contour, energy envelope, speaking rate and pauses, from the 16 kHz
    ``speech`` track (``speech_id`` as for ``speaker_profiles``). Written to
    ``analysis/prosody.json``."""
    step = MeasureProsody()
    out: dict[str, SegmentProsody] = {}
    with job.timed("prosody"), \
            StageProgress(job.progress, "prosody", len(segments)) as bar:
        for seg in segments:
            item = LineSpeech(job.audio_id, speech_id, speech, seg.start, seg.end)
            out[seg.id] = job.runner.run(step, item)
            bar.advance(seg.id)
    _write(job, "prosody.json", {i: p.to_dict() for i, p in out.items()})
    return out


def _write(job: JobContext, name: str, data: dict) -> None:
    folder = job.paths.job_dir / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / name, json.dumps(data, ensure_ascii=False) + "\n")
