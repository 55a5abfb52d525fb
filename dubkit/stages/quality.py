"""The job's quality report, ``qa.json``: how close each dubbed line is to its source line in
voice, intonation and timing, and which lines a person should review."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from dubkit.jobs.atomic import write_text
from dubkit.qa import QaInput, QaReport, QaThresholds, build_report
from dubkit.stages.context import JobContext
from dubkit.stages.speech import VoicePlan, segment_audio, spoken_slot
from dubkit.stages.voice import speaker_embedder
from dubkit.types import Audio, Segment

QA_FILE = "qa.json"


def report(job: JobContext, source_speech: Audio, segments: list[Segment],
           voice: VoicePlan) -> dict[str, Any]:
    """Measure every placed line against ``source_speech`` (16 kHz mono), write qa.json, and
    return its short summary (also what the CLI prints)."""
    qa = job.preset.qa
    thresholds = QaThresholds(
        similarity=qa.min_similarity, f0_correlation=qa.min_f0_correlation,
        duration_ratio=(1.0 - qa.max_duration_error, 1.0 + qa.max_duration_error),
        overflow=qa.max_overflow,
    )
    records = []
    for seg in segments:
        if seg.placement is None or not seg.audio_file:
            continue
        profile = voice.profiles.get(seg.speaker)
        start, duration = spoken_slot(source_speech, seg)
        records.append(QaInput(
            seg.id, seg.speaker, source_speech.slice(start, start + duration),
            segment_audio(job, seg), duration, seg.placement.tempo, seg.placement.overflow,
            reference=profile.embedding if profile is not None else None,
        ))
    with job.timed("qa"):
        result = build_report(records, speaker_embedder(job), thresholds,
                              progress=job.progress)
    summary = short_summary(result, segments)
    data = result.to_dict() | {"overview": summary}
    write_text(job.paths.job_dir / QA_FILE, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return summary


def short_summary(result: QaReport, segments: list[Segment]) -> dict[str, Any]:
    """Means over the lines, the share that ends within the duration threshold of its slot,
    and the lines to review with their reasons."""
    measured = result.segments

    def mean(name: str) -> float | None:
        values = [getattr(s, name) for s in measured if getattr(s, name) is not None]
        return round(float(np.mean(values)), 3) if values else None

    lo, hi = result.thresholds.duration_ratio
    ratios = [s.duration_ratio for s in measured if s.duration_ratio is not None]
    within = round(sum(lo <= r <= hi for r in ratios) / len(ratios), 3) if ratios else None
    unplaced = [s.id for s in segments if s.placement is None]
    return {
        "overall": {"speaker_similarity": mean("similarity"),
                    "f0_correlation": mean("f0_correlation"),
                    "within_slot": within, "lines": len(measured), "not_dubbed": unplaced},
        "review": [{"id": s.id, "speaker": s.speaker,
                    "reasons": [i.message for i in s.issues]} for s in result.flagged],
    }
