"""The job's quality report, ``qa.json``: how close each dubbed line is to its source line in
voice, intonation and timing, and which lines a person should review."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from dubkit import dsp
from dubkit.jobs.atomic import write_text
from dubkit.jobs.cache import audio_id
from dubkit.progress import StageProgress
from dubkit.qa import QaInput, QaReport, QaThresholds
from dubkit.stages.context import JobContext
from dubkit.stages.speech import VoicePlan, segment_audio, spoken_slot
from dubkit.steps.quality import LineCheck, MeasureLine
from dubkit.steps.text import HearDub, Utterance
from dubkit.types import ANALYSIS_RATE, Audio, Segment

QA_FILE = "qa.json"


def report(job: JobContext, source_speech: Audio, source_id: str, segments: list[Segment],
           voice: VoicePlan, target: str) -> dict[str, Any]:
    """Measure every placed line against ``source_speech`` (16 kHz mono; ``source_id`` names
    how it was made) and against its text (what the transcriber hears in it), write qa.json,
    and return its short summary (also what the CLI prints)."""
    qa = job.preset.qa
    embedder = job.backends.get("diarization").embedder if job.backends.has("diarization") \
        else None
    similarity = qa.min_similarity if qa.min_similarity is not None \
        else getattr(embedder, "same_speaker_threshold", QaThresholds.similarity)
    thresholds = QaThresholds(
        similarity=similarity, f0_correlation=qa.min_f0_correlation,
        duration_ratio=(1.0 - qa.max_duration_error, 1.0 + qa.max_duration_error),
        overflow=qa.max_overflow, cer=qa.max_cer,
    )
    listen = qa.listen and target in job.backends.get("transcription").languages
    records = []
    with job.timed("qa-listen"), StageProgress(job.progress, "qa-listen", len(segments)) as bar:
        for seg in segments:
            bar.advance(seg.id)
            if seg.placement is None or not seg.audio_file:
                continue
            profile = voice.profiles.get(seg.speaker)
            start, duration = spoken_slot(source_speech, seg)
            dub = segment_audio(job, seg)
            records.append(LineCheck(QaInput(
                seg.id, seg.speaker, source_speech.slice(start, start + duration),
                dub, duration, seg.placement.tempo, seg.placement.overflow,
                reference=profile.embedding if profile is not None else None,
                text=seg.target_text, heard=_heard(job, dub, target) if listen else None,
                voice_kept=voice.keep and profile is not None,  # else a stock voice spoke
            ), f"{job.audio_id}:{source_id}:{start:.4f}:{duration:.4f}"))
    step = MeasureLine(job.backends, thresholds)
    with job.timed("qa"), StageProgress(job.progress, "qa", len(records)) as bar:
        measured = []
        for record in records:
            measured.append(job.runner.run(step, record))
            bar.advance(record.record.id)
    result = QaReport(tuple(measured), thresholds)
    kept = {r.record.id for r in records if r.record.voice_kept}
    summary = short_summary(result, segments, getattr(embedder, "name", None), kept)
    data = result.to_dict() | {"overview": summary}
    write_text(job.paths.job_dir / QA_FILE, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return summary


def _heard(job: JobContext, dub: Audio, language: str) -> str:
    """What the transcriber hears in a line's dub (16 kHz), cached under its samples."""
    speech = dsp.resample(dub.mono(), ANALYSIS_RATE)
    item = Utterance(audio_id(speech), 0.0, speech.duration, speech, language)
    return job.runner.run(HearDub(job.backends), item)


def short_summary(result: QaReport, segments: list[Segment],
                  similarity_model: str | None = None,
                  kept: set[str] = frozenset()) -> dict[str, Any]:
    """Means over the lines, the share that ends within the duration threshold of its slot,
    and the lines to review with their reasons. When most of the lines in a kept voice
    (``kept``, by id) fall short of the speaker model's limit, that is said once
    (``voice_note``) instead of on every line."""
    measured = result.segments

    def mean(name: str) -> float | None:
        values = [getattr(s, name) for s in measured if getattr(s, name) is not None]
        return round(float(np.mean(values)), 3) if values else None

    lo, hi = result.thresholds.duration_ratio
    ratios = [s.duration_ratio for s in measured if s.duration_ratio is not None]
    within = round(sum(lo <= r <= hi for r in ratios) / len(ratios), 3) if ratios else None
    unplaced = [s.id for s in segments if s.placement is None]
    heard = [s.cer for s in measured if s.cer is not None]
    clear = (round(sum(c <= result.thresholds.cer for c in heard) / len(heard), 3)
             if heard else None)
    note = _voice_note(result, similarity_model, kept)
    return {
        "overall": {"speaker_similarity": mean("similarity"),
                    "similarity_model": similarity_model,
                    "f0_correlation": mean("f0_correlation"),
                    "within_slot": within, "cer": mean("cer"), "heard_as_written": clear,
                    "lines": len(measured), "not_dubbed": unplaced, "voice_note": note},
        "review": _review(result, segments, skip={"similarity"} if note else set()),
    }


def _voice_note(result: QaReport, model: str | None, kept: set[str]) -> str | None:
    """A word for the whole job when most kept-voice lines fail the similarity check: then the
    converter, not a line, is short of the speaker's identity, and listing every line for it
    would hide the lines that need a person."""
    checked = [s for s in result.segments if s.id in kept and s.similarity is not None]
    short = [s for s in checked if any(i.check == "similarity" for i in s.issues)]
    if len(short) < 2 or 2 * len(short) <= len(checked):
        return None
    mean = float(np.mean([s.similarity for s in checked]))
    judge = model or "speaker embedding"
    return (f"{len(short)} of {len(checked)} kept-voice lines score under "
            f"{result.thresholds.similarity:.2f} against their speaker ({judge}, mean "
            f"{mean:.2f}): their pitch and intonation are kept, their identity only in part "
            "(not listed per line)")


def _review(result: QaReport, segments: list[Segment],
            skip: set[str] = frozenset()) -> list[dict[str, Any]]:
    """The lines a person should look at, in order: those a QA check flagged (but for the
    checks in ``skip``), and those whose translation failed a check (``translation-*`` flags:
    a lost negation, a wrong script...)."""
    measured = {s.id: [i.message for i in s.issues if i.check not in skip]
                for s in result.flagged}
    out = []
    for seg in segments:
        reasons = measured.get(seg.id, []) + [
            f"translation check failed: {flag.removeprefix('translation-')}"
            for flag in seg.flags if flag.startswith("translation-")]
        if reasons:
            out.append({"id": seg.id, "speaker": seg.speaker, "reasons": reasons})
    return out
