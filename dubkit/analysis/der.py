"""Diarization error rate (DER), frame-based, as pyannote.metrics computes it.

Scored on a 10 ms grid: ``collar`` seconds either side of every reference boundary are not
scored, overlapping speech is scored (a frame with two reference speakers counts twice), and
hypothesis speakers are mapped one-to-one to reference speakers to maximise agreement (Hungarian
assignment). On the shared recordings this matches pyannote.metrics'
``DiarizationErrorRate(collar=2 * collar)`` to 4 decimals (pyannote's collar is the total width).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from dubkit.errors import InputError
from dubkit.types import Seconds, Turn


@dataclass(frozen=True)
class DerScore:
    """The parts of a DER, in seconds of scored reference speech."""

    missed: Seconds  # reference speech with no hypothesis speaker
    false_alarm: Seconds  # hypothesis speech where the reference has none (or fewer)
    confusion: Seconds  # speech given to the wrong speaker
    total: Seconds  # scored reference speech

    @property
    def der(self) -> float:
        """(missed + false alarm + confusion) / total; 0 when there is nothing to score."""
        if self.total <= 0:
            return 0.0
        return (self.missed + self.false_alarm + self.confusion) / self.total


def score_diarization(
    reference: Sequence[Turn],
    hypothesis: Sequence[Turn],
    collar: Seconds = 0.25,
    step: Seconds = 0.01,
) -> DerScore:
    """Missed speech, false alarm and confusion of ``hypothesis`` against ``reference``.

    ``collar`` seconds either side of each reference boundary are not scored; speaker names need
    not match (they are mapped one-to-one)."""
    if collar < 0 or step <= 0:
        raise InputError(f"need collar >= 0 and step > 0, got {collar} and {step}")
    turns = [*reference, *hypothesis]
    if not reference:
        false = sum(t.duration for t in hypothesis)
        return DerScore(0.0, false, 0.0, 0.0)
    n = int(np.ceil(max(t.end for t in turns) / step)) + 1

    def grid(part: Sequence[Turn]) -> np.ndarray:
        names = sorted({t.speaker for t in part})
        g = np.zeros((n, max(1, len(names))), dtype=bool)  # (frames, speakers)
        for t in part:
            g[int(round(t.start / step)):int(round(t.end / step)), names.index(t.speaker)] = True
        return g

    ref, hyp = grid(reference), grid(hypothesis)
    scored = np.ones(n, dtype=bool)
    for t in reference:
        for b in (t.start, t.end):
            scored[max(0, int(round((b - collar) / step))):int(round((b + collar) / step))] = False
    ref, hyp = ref[scored], hyp[scored]
    n_ref, n_hyp = ref.sum(axis=1), hyp.sum(axis=1)  # (frames,) speakers talking
    overlap = ref.T.astype(float) @ hyp.astype(float)  # (ref speakers, hyp speakers) frames
    rows, cols = linear_sum_assignment(-overlap)
    correct = overlap[rows, cols].sum()
    missed = np.maximum(0, n_ref - n_hyp).sum()
    false_alarm = np.maximum(0, n_hyp - n_ref).sum()
    confusion = np.minimum(n_ref, n_hyp).sum() - correct
    return DerScore(
        float(missed * step), float(false_alarm * step), float(confusion * step),
        float(n_ref.sum() * step),
    )


def diarization_error_rate(
    reference: Sequence[Turn],
    hypothesis: Sequence[Turn],
    collar: Seconds = 0.25,
    step: Seconds = 0.01,
) -> float:
    """DER of ``hypothesis`` against ``reference`` (see ``score_diarization``)."""
    return score_diarization(reference, hypothesis, collar, step).der
