"""Spoken language from the whole input: speech windows spread over it, their language
distributions combined, and a refusal when the answer is weak.

One guess over the first 30 s of speech goes wrong when the file opens with music the VAD took
for speech (an English video was called Greek), and short clips are mistaken for a neighbouring
language (fr as es, ko as ja). Windows taken across the whole file, each heard separately, outvote
an intro; where the answer is still in doubt, asking the user for ``--from`` beats dubbing from the
wrong language.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from dubkit.errors import UncertainLanguage
from dubkit.languages import language_name
from dubkit.types import Seconds, SpeechRegion

Span = tuple[Seconds, Seconds]

MAX_WINDOWS = 5  # model calls per file: each costs one encoder pass of 30 s
WINDOW_SECONDS = 10.0  # speech per window


@dataclass(frozen=True)
class WindowGuess:
    """A window's language distribution (ISO 639-1 code -> probability) and its speech length."""

    seconds: Seconds
    probabilities: Mapping[str, float]


@dataclass(frozen=True)
class Thresholds:
    """How sure a model's combined answer must be to stand (``decide``): its probability, its
    lead over the runner-up and the share of window weight voting for it; with less than
    ``short_seconds`` of speech heard, a probability of ``short_probability``."""

    probability: float
    margin: float
    agreement: float
    short_seconds: Seconds
    short_probability: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, float]) -> Thresholds:
        return cls(**{f.name: float(data[f.name]) for f in fields(cls)})


# Measured for Whisper base (faster-whisper, int8) with benchmarks/language_id.py on the tuning
# half of ../shared/data (whole clips, clips after 25 s of music the VAD took for speech, 1.5 s and
# 3 s crops): both wrong answers there came from 1.5 s of speech (de as tr at 0.61, pt as en at
# 0.86), hence the short rule. Probability, margin and agreement sit below what every right answer
# of at least 2 s scored there (lowest: 0.41, 0.23, 0.71), to catch the flat answers of noise.
WHISPER_THRESHOLDS = Thresholds(probability=0.4, margin=0.2, agreement=0.5,
                                short_seconds=2.0, short_probability=0.9)


@dataclass(frozen=True)
class LanguageEvidence:
    """What the model heard: one guess per window, and how sure that model must be
    (``None``: not measured for it; the most probable language is taken as it is)."""

    guesses: tuple[WindowGuess, ...]
    thresholds: Thresholds | None

    def to_dict(self) -> dict[str, Any]:
        return {"guesses": [[g.seconds, dict(g.probabilities)] for g in self.guesses],
                "thresholds": None if self.thresholds is None else self.thresholds.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LanguageEvidence:
        thresholds = data["thresholds"]
        return cls(tuple(WindowGuess(float(s), {c: float(p) for c, p in probs.items()})
                         for s, probs in data["guesses"]),
                   None if thresholds is None else Thresholds.from_dict(thresholds))


@dataclass(frozen=True)
class LanguageEstimate:
    """The combined answer: candidates most probable first (they sum to at most 1), the share
    of the windows' weight whose own top language is the first candidate, and the seconds of
    speech heard."""

    candidates: tuple[tuple[str, float], ...]
    agreement: float
    seconds: Seconds

    @property
    def language(self) -> str:
        return self.candidates[0][0]

    @property
    def probability(self) -> float:
        return self.candidates[0][1]

    @property
    def margin(self) -> float:
        """Probability of the first candidate minus that of the second."""
        second = self.candidates[1][1] if len(self.candidates) > 1 else 0.0
        return self.probability - second


def choose_windows(regions: Sequence[SpeechRegion], count: int = MAX_WINDOWS,
                   seconds: Seconds = WINDOW_SECONDS) -> list[tuple[Span, ...]]:
    """Up to ``count`` windows of about ``seconds`` of speech each, spread over the whole input.

    The speech regions are laid end to end (pauses and non-speech left out). When they hold at
    most ``count`` windows' worth, they are cut into equal consecutive windows and all of the
    speech is heard; otherwise each of ``count`` equal stretches of that speech gives one window,
    placed at the start of the longest region beginning in it (a long region is steady speech,
    and a window that starts with a region starts with a word). Each window is its spans of the
    input, in order.
    """
    spans = [(r.start, r.end) for r in sorted(regions, key=lambda r: r.start) if r.end > r.start]
    total = sum(e - s for s, e in spans)
    if not spans:
        return []
    starts = [0.0]  # where each span begins on the speech axis
    for s, e in spans[:-1]:
        starts.append(starts[-1] + e - s)
    if total <= count * seconds:
        n = max(1, math.ceil(total / seconds - 1e-9))
        return [_cut(spans, starts, total * i / n, total * (i + 1) / n) for i in range(n)]
    windows = []
    stretch = total / count
    for i in range(count):
        lo, hi = stretch * i, stretch * (i + 1)
        inside = [k for k, a in enumerate(starts) if lo <= a < hi and a + seconds <= total]
        if inside:
            k = max(inside, key=lambda k: spans[k][1] - spans[k][0])
            at = starts[k]
        else:  # one region covers the whole stretch: its middle
            at = min(max(0.0, (lo + hi - seconds) / 2), total - seconds)
        windows.append(_cut(spans, starts, at, at + seconds))
    return windows


def _cut(spans: list[Span], starts: list[float], lo: float, hi: float) -> tuple[Span, ...]:
    """The parts of ``spans`` between ``lo`` and ``hi`` on the speech axis."""
    out = []
    for (s, e), a in zip(spans, starts):
        b = a + e - s
        if b <= lo or a >= hi:
            continue
        out.append((round(s + max(0.0, lo - a), 6), round(s + min(e - s, hi - a), 6)))
    return tuple(out)


def combine(guesses: Sequence[WindowGuess], top: int = 5) -> LanguageEstimate:
    """One distribution from the windows': their mean, each weighted by its seconds of speech
    times the square of its own top probability. A window of music or noise spreads its
    probability thin (Whisper base: 0.16-0.38 at the top on music) and so counts little; a mean
    of log-probabilities instead let such windows outvote the speech after a music intro (22 of
    29 tuning clips right against 29 of 29)."""
    if not guesses:
        raise ValueError("combine needs at least one window")
    weights = [max(g.seconds, 1e-3) * max(g.probabilities.values(), default=0.0) ** 2
               for g in guesses]
    total = sum(weights) or 1.0
    mixed: dict[str, float] = {}
    for g, w in zip(guesses, weights):
        for code, p in g.probabilities.items():
            mixed[code] = mixed.get(code, 0.0) + w * p / total
    ranked = sorted(mixed.items(), key=lambda pair: -pair[1])[:top]
    best = ranked[0][0]
    agree = sum(w for g, w in zip(guesses, weights) if _top(g.probabilities) == best) / total
    return LanguageEstimate(tuple(ranked), agree, sum(g.seconds for g in guesses))


def _top(probabilities: Mapping[str, float]) -> str:
    return max(probabilities, key=probabilities.__getitem__)


def decide(estimate: LanguageEstimate, thresholds: Thresholds | None) -> tuple[str, float]:
    """The language and its probability, or ``UncertainLanguage`` when the estimate falls short
    of ``thresholds`` (never when they are None)."""
    if thresholds is not None and not is_sure(estimate, thresholds):
        shown = ", ".join(f"{language_name(c)} ({c}) {p:.0%}" for c, p in estimate.candidates[:3])
        raise UncertainLanguage(
            f"cannot tell the spoken language for sure from {estimate.seconds:.1f} s of speech "
            f"({shown}); give it with --from LANG, e.g. --from {estimate.language}"
        )
    return estimate.language, estimate.probability


def is_sure(estimate: LanguageEstimate, thresholds: Thresholds) -> bool:
    """Whether ``estimate`` meets every one of ``thresholds``."""
    short = estimate.seconds < thresholds.short_seconds
    return (estimate.probability >= thresholds.probability
            and estimate.margin >= thresholds.margin
            and estimate.agreement >= thresholds.agreement
            and (not short or estimate.probability >= thresholds.short_probability))
