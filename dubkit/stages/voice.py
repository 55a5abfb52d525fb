"""Who the dub should sound like: each speaker's voice profile and each line's prosody, computed
from the source speech and kept with the job (``analysis/`` in the job folder)."""
from __future__ import annotations

import json

from dubkit.analysis.prosody import SegmentProsody, extract_prosody
from dubkit.analysis.speaker_profile import SpeakerProfile, build_speaker_profile
from dubkit.errors import InputError
from dubkit.jobs.atomic import write_text
from dubkit.jobs.cache import content_key
from dubkit.progress import StageProgress
from dubkit.stages.analysis import speaker_spans
from dubkit.stages.context import JobContext
from dubkit.types import Audio, Segment, Turn

PROFILE_SPEECH_SECONDS = 120.0  # enough speech for stable statistics; bounds the work


def speaker_embedder(job: JobContext):
    """The speaker embedder the preset diarizes with (None when its diarizer has none)."""
    return job.backends.get("diarization").embedder


def speaker_profiles(job: JobContext, speech: Audio, speech_id: str,
                     turns: list[Turn]) -> dict[str, SpeakerProfile]:
    """Each speaker's profile from (up to ``PROFILE_SPEECH_SECONDS`` of) all their speech in the
    16 kHz ``speech`` track (``speech_id`` names how it was made, for the cache); speakers with
    too little speech get none (their lines keep the stock voice). Written to
    ``analysis/speakers.json``."""
    embedder = speaker_embedder(job)
    fingerprint = job.backends.fingerprint("diarization")
    profiles: dict[str, SpeakerProfile] = {}
    with job.timed("profile"), StageProgress(job.progress, "profile", None):
        for speaker in dict.fromkeys(t.speaker for t in turns):
            spans = speaker_spans(turns, speaker)
            key = content_key("profile", job.audio_id, speech_id, spans, fingerprint)
            cached = job.cache.get_json("profile", key)
            if cached is None:
                clips, total = [], 0.0
                for start, end in spans:
                    if total >= PROFILE_SPEECH_SECONDS:
                        break
                    clips.append(speech.slice(start, end))
                    total += end - start
                try:
                    cached = build_speaker_profile(clips, speaker, embedder,
                                                   keep_speech=False).to_dict()
                except InputError:  # too little (voiced) speech for a profile
                    cached = {}
                job.cache.put_json("profile", key, cached)
            if cached:
                profiles[speaker] = SpeakerProfile.from_dict(cached)
    _write(job, "speakers.json", {s: p.to_dict() for s, p in profiles.items()})
    return profiles


def segment_prosody(job: JobContext, speech: Audio, speech_id: str,
                    segments: list[Segment]) -> dict[str, SegmentProsody]:
    """Each line's F0 contour, energy envelope, speaking rate and pauses, from the 16 kHz
    ``speech`` track (``speech_id`` as for ``speaker_profiles``). Written to
    ``analysis/prosody.json``."""
    out: dict[str, SegmentProsody] = {}
    with job.timed("prosody"), \
            StageProgress(job.progress, "prosody", len(segments)) as bar:
        for seg in segments:
            key = content_key("prosody", job.audio_id, speech_id, seg.start, seg.end)
            cached = job.cache.get_json("prosody", key)
            if cached is None:
                cached = extract_prosody(speech.slice(seg.start, seg.end)).to_dict()
                job.cache.put_json("prosody", key, cached)
            out[seg.id] = SegmentProsody.from_dict(cached)
            bar.advance(seg.id)
    _write(job, "prosody.json", {i: p.to_dict() for i, p in out.items()})
    return out


def _write(job: JobContext, name: str, data: dict) -> None:
    folder = job.paths.job_dir / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / name, json.dumps(data, ensure_ascii=False) + "\n")
