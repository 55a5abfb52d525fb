"""The quality report every dubbing job writes (qa.json): per segment and overall.

For each dubbed segment: how much the dub sounds like the source speaker (cosine of speaker
embeddings), how well it follows the source's intonation (F0 contour correlation), how its
length compares with its slot, how far it runs past the slot, the tempo it was fitted with, and
whether it says its text (what a transcriber hears in it, and the character error rate of that).
Segments beyond ``QaThresholds`` are listed with the reasons.

F0 alignment is a *linear time warp*: each contour is cut to its voiced stretch, its unvoiced
gaps are bridged by interpolation, its log-F0 is z-normalised (so the two speakers' pitch levels
and ranges do not count) and resampled to ``F0_POINTS`` points, then lightly smoothed. DTW was
not used on purpose: a dub is another language, with other syllables, and DTW bends either
contour to match the other, so unrelated contours come out well correlated. What the report should
tell is whether the phrase-level shape (rises, falls, the final contour) came through, and a
linear warp compares exactly that.

Inputs are plain records (``QaInput``), so the report does not depend on the pipeline's internals.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from dubkit import dsp
from dubkit.analysis.pitch import FRAME_PERIOD, f0_contour
from dubkit.errors import DubkitError, InputError
from dubkit.progress import ProgressHook, StageProgress, ignore_progress
from dubkit.textmetrics import char_error_rate
from dubkit.types import Audio, Seconds

F0_POINTS = 100  # common length of the time-warped contours
F0_SMOOTH = 5  # points of moving average after the warp (~5 % of the phrase)
MIN_VOICED_FRAMES = 20  # 0.2 s of voiced F0 frames needed for a correlation
REPORT_VERSION = 1


class Embedder(Protocol):
    """Any speaker embedder (``analysis.base.SpeakerEmbedder``): unit-length ``(dim,)``."""

    def embed(self, audio: Audio) -> np.ndarray: ...


@dataclass(frozen=True)
class QaInput:
    """One dubbed segment as the report needs it."""

    id: str
    speaker: str
    source: Audio  # the source speech of the segment
    dub: Audio  # the fitted dub clip, as placed
    slot: Seconds  # the time the segment had on the timeline
    tempo: float = 1.0  # the fit's speed-up (> 1 faster)
    overflow: Seconds = 0.0  # how far the placed dub runs past its slot
    reference: np.ndarray | None = None  # the speaker's embedding from all their speech;
    # compared with the dub instead of the (short, noisier) source segment's when given
    text: str = ""  # what the dub should say
    heard: str | None = None  # what a transcriber heard in the dub (None: not listened to)
    # whether the dub was meant to sound like its speaker: a stock voice's similarity is
    # reported but never flagged, since no stock voice is expected to be the speaker
    voice_kept: bool = True


@dataclass(frozen=True)
class QaThresholds:
    """Limits below (or outside) which a segment is listed for review."""

    similarity: float = 0.6  # cosine of speaker embeddings, at least
    f0_correlation: float = 0.3  # Pearson correlation of warped contours, at least
    duration_ratio: tuple[float, float] = (0.9, 1.1)  # dub length / slot, within
    overflow: Seconds = 0.1  # at most
    cer: float = 0.4  # character error rate of what was heard in the dub against its text

    def __post_init__(self) -> None:
        lo, hi = self.duration_ratio
        if not 0 < lo <= hi or self.overflow < 0 or self.cer < 0:
            raise InputError(
                f"QA thresholds need 0 < duration ratio low <= high, overflow >= 0 and "
                f"cer >= 0, got {self.duration_ratio}, {self.overflow} and {self.cer}"
            )


@dataclass(frozen=True)
class QaIssue:
    """One check a segment failed."""

    check: str  # "similarity", "f0_correlation", "duration_ratio", "overflow", "cer"
    value: float
    limit: float
    message: str


@dataclass(frozen=True)
class SegmentQa:
    """The figures of one segment; ``None`` where a figure could not be measured (``notes``)."""

    id: str
    speaker: str
    similarity: float | None
    f0_correlation: float | None
    duration_ratio: float | None
    dub_duration: Seconds  # speech length of the dub, leading/trailing silence trimmed
    slot: Seconds
    overflow: Seconds
    tempo: float
    heard: str | None = None  # what the transcriber heard in the dub
    cer: float | None = None  # its character error rate against the line's text
    issues: tuple[QaIssue, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["issues"] = [dataclasses.asdict(i) for i in self.issues]
        d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SegmentQa:
        return cls(**{**d, "issues": tuple(QaIssue(**i) for i in d["issues"]),
                      "notes": tuple(d["notes"])})


@dataclass(frozen=True)
class QaReport:
    """All segments' figures, the thresholds used, and ``summary()``."""

    segments: tuple[SegmentQa, ...]
    thresholds: QaThresholds = field(default_factory=QaThresholds)

    @property
    def flagged(self) -> list[SegmentQa]:
        return [s for s in self.segments if not s.passed]

    def summary(self) -> dict[str, Any]:
        """Counts, means and extremes overall, per speaker, and the flagged ids by check."""
        by_check: dict[str, list[str]] = {}
        for s in self.segments:
            for issue in s.issues:
                by_check.setdefault(issue.check, []).append(s.id)
        speakers = sorted({s.speaker for s in self.segments})
        return {
            "segments": len(self.segments),
            "flagged": len(self.flagged),
            **_stats(self.segments),
            "flagged_by_check": by_check,
            "speakers": {
                sp: _stats([s for s in self.segments if s.speaker == sp]) for sp in speakers
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """What ``qa.json`` holds."""
        return {
            "version": REPORT_VERSION,
            "thresholds": dataclasses.asdict(self.thresholds),
            "summary": self.summary(),
            "segments": [s.to_dict() for s in self.segments],
        }


def build_report(
    records: Sequence[QaInput],
    embedder: Embedder | None = None,
    thresholds: QaThresholds = QaThresholds(),
    f0_method: str = "dio",
    progress: ProgressHook = ignore_progress,
) -> QaReport:
    """Measure every record; without ``embedder`` similarity is left out (``None``)."""
    out = []
    with StageProgress(progress, "qa", len(records)) as bar:
        for r in records:
            out.append(measure_segment(r, embedder, thresholds, f0_method))
            bar.advance(r.id)
    return QaReport(tuple(out), thresholds)


def f0_correlation(source: Audio, dub: Audio, method: str = "dio") -> float | None:
    """Pearson correlation of the two linearly time-warped, z-normalised log-F0 contours, or
    ``None`` when either has under ``MIN_VOICED_FRAMES`` voiced frames."""
    a = _warped_contour(source, method)
    b = _warped_contour(dub, method)
    if a is None or b is None:
        return None
    if a.std() == 0 or b.std() == 0:  # a monotone: correlation undefined
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _warped_contour(audio: Audio, method: str) -> np.ndarray | None:
    """``(F0_POINTS,)`` z-normalised log-F0 over the voiced stretch, or ``None``."""
    _, f0 = f0_contour(audio, method)
    voiced = np.flatnonzero(f0 > 0)
    if voiced.shape[0] < MIN_VOICED_FRAMES:
        return None
    frames = np.arange(voiced[0], voiced[-1] + 1)
    logf = np.interp(frames, voiced, np.log2(f0[voiced]))  # bridge unvoiced gaps
    logf = (logf - logf.mean()) / max(float(logf.std()), 1e-9)
    warped = np.interp(np.linspace(0, frames.shape[0] - 1, F0_POINTS),
                       np.arange(frames.shape[0]), logf)
    kernel = np.ones(F0_SMOOTH) / F0_SMOOTH
    return np.convolve(np.pad(warped, F0_SMOOTH // 2, mode="edge"), kernel, mode="valid")


def measure_segment(r: QaInput, embedder: Embedder | None, th: QaThresholds,
                    method: str = "dio") -> SegmentQa:
    """One record's figures and the checks it fails."""
    notes: list[str] = []
    similarity = None
    if embedder is not None:
        try:
            a = r.reference if r.reference is not None else embedder.embed(r.source)
            b = embedder.embed(r.dub)
            similarity = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
        except DubkitError as exc:  # e.g. a clip too short to embed
            notes.append(f"similarity not measured: {exc}")
    corr = f0_correlation(r.source, r.dub, method)
    if corr is None:
        least = MIN_VOICED_FRAMES * FRAME_PERIOD / 1000  # seconds
        notes.append(f"F0 correlation not measured: under {least:g} s of voiced speech "
                     "in the source or the dub")
    dub_duration = dsp.trim_silence(r.dub).duration
    ratio = dub_duration / r.slot if r.slot > 0 else None
    if ratio is None:
        notes.append("duration ratio not measured: empty slot")
    issues = []
    if similarity is not None and r.voice_kept and similarity < th.similarity:
        issues.append(QaIssue("similarity", similarity, th.similarity,
                              f"speaker similarity {similarity:.2f} < {th.similarity:.2f}"))
    if corr is not None and corr < th.f0_correlation:
        issues.append(QaIssue("f0_correlation", corr, th.f0_correlation,
                              f"F0 correlation {corr:.2f} < {th.f0_correlation:.2f}"))
    lo, hi = th.duration_ratio
    if ratio is not None and not lo <= ratio <= hi:
        limit, word = (lo, "short") if ratio < lo else (hi, "long")
        issues.append(QaIssue("duration_ratio", ratio, limit,
                              f"dub too {word}: {ratio:.2f} of its slot (allowed {lo:g}-{hi:g})"))
    if r.overflow > th.overflow:
        issues.append(QaIssue("overflow", r.overflow, th.overflow,
                              f"runs {r.overflow:.2f} s past its slot (allowed {th.overflow:g} s)"))
    cer = None if r.heard is None else char_error_rate(r.text, r.heard)
    if cer is not None and cer > th.cer:
        issues.append(QaIssue("cer", cer, th.cer,
                              f"heard as {r.heard.strip()!r}: CER {cer:.2f} > {th.cer:g}"))
    return SegmentQa(r.id, r.speaker, similarity, corr, ratio, dub_duration, r.slot,
                     r.overflow, r.tempo, r.heard, None if cer is None else round(cer, 4),
                     tuple(issues), tuple(notes))


def _stats(segments: Sequence[SegmentQa]) -> dict[str, Any]:
    """Mean and minimum (maximum for overflow) of each figure over ``segments``."""
    def pick(name: str) -> list[float]:
        return [getattr(s, name) for s in segments if getattr(s, name) is not None]

    out: dict[str, Any] = {}
    for name in ("similarity", "f0_correlation", "duration_ratio", "tempo", "cer"):
        values = pick(name)
        out[name] = {"mean": float(np.mean(values)), "min": float(np.min(values)),
                     "max": float(np.max(values)), "measured": len(values)} if values else None
    overflow = pick("overflow")
    out["overflow"] = ({"total": float(np.sum(overflow)), "max": float(np.max(overflow))}
                       if overflow else None)
    return out
