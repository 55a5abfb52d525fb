"""Diarization by clustering speaker embeddings of sliding windows inside the speech regions.

1. Windows of ``window`` seconds every ``hop`` seconds cover each region (a short region is one
   window); each is embedded.
2. The embeddings, with what the whole recording shares removed (centred and scaled per
   dimension), are clustered agglomeratively (average linkage, cosine distance). Removing the
   shared part (channel, language, the voices' common ground) makes the differences between
   this recording's voices stand out: with MFCC embeddings it takes pyannote's two-voice
   telephone sample from about 50 % to 11 % DER.
3. How many speakers: the tree is cut at ``threshold``, which deliberately over-splits, and
   clusters are merged back, the most alike first, while the Bayesian information criterion
   on their MFCC frames (one full-covariance Gaussian against two, ``penalty`` weighting the
   extra parameters; Chen & Gopalakrishnan 1998) prefers one model, or, given
   ``num_speakers``, until that many are left (so a stray noise cluster does not take a
   speaker's place). A cosine threshold alone cannot count here:
   after centring one voice's windows look like two, and before it a shared channel makes two
   voices look like one.
4. Every 10 ms frame takes the speaker most of its overlapping windows vote for (weighted
   towards each window's centre), a majority filter and a minimum turn length smooth the
   labels, so a speaker change inside a region splits it; same-speaker turns across short
   gaps are merged.
5. With ``refine``, each such change is moved, within ``hop`` seconds, to where the two
   speakers' MFCC Gaussians place it best (pyannote's sample: 4.7 % to 2.9 % DER with
   Resemblyzer, 8.2 % to 6.4 % with MFCC embeddings).

The same steps serve neural embedders (``ResemblyzerEmbedder``) with the same defaults: they
give a cleaner candidate partition, and the count still comes from the BIC. Their raw cosine
cannot count speakers either: on pyannote's telephone sample the two voices' centroids sit at
0.86 cosine, while over-split clusters of one FLEURS voice sit as low as 0.49.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from dubkit import dsp
from dubkit.analysis.base import SpeakerEmbedder
from dubkit.analysis.mfcc_embedder import (
    FRAME_HOP,
    FRAME_SPAN,
    MfccEmbedder,
    mfcc_frames,
)
from dubkit.errors import InputError
from dubkit.types import ANALYSIS_RATE, Audio, Seconds, SpeechRegion, Turn

_STEP: Seconds = 0.01  # frame grid for assigning speakers
_MIN_REGION: Seconds = 0.1  # shorter regions carry too little voice to place; they are dropped
_MIN_RELATIVE = 4  # fewer windows than this: too few to estimate what the recording shares
_MAX_CANDIDATES = 16  # clusters handed to the BIC merge at most
_MIN_BIC_FRAMES = 100  # loud frames (1 s) a cluster needs before its covariance is trusted

Span = tuple[Seconds, Seconds]  # start, end
Labelled = tuple[Seconds, Seconds, int]  # start, end, cluster


class ClusteringDiarizer:
    """``Diarizer`` named ``"clustering"``: sliding-window embeddings, agglomerative clustering.

    ``threshold`` is the cosine distance (0-2), between recording-relative embeddings, below
    which windows are grouped before the BIC merge; lower gives the merge more to test.
    ``penalty`` is the BIC's weight on model size: higher means fewer speakers. Both defaults
    were tuned with ``MfccEmbedder`` on the shared recordings (see tests/analysis) and are also
    the best found for ``ResemblyzerEmbedder`` (benchmarks/diarization.py). ``refine`` moves
    speaker changes inside a region to where the voices' MFCC statistics put them. With
    ``relative=False`` the windows are clustered on their raw embeddings: for an embedder whose
    cosine already separates voices (ERes2Net: same speaker 0.81, others 0.08) the tree cut
    then counts the speakers, and the ``cpu`` preset uses it so (threshold 0.6, penalty 1.0).
    """

    name = "clustering"

    def __init__(
        self,
        embedder: SpeakerEmbedder | None = None,
        window: Seconds = 1.5,
        hop: Seconds = 0.75,
        threshold: float = 1.0,
        min_turn: Seconds = 0.5,
        max_gap: Seconds = 0.5,
        penalty: float = 1.75,
        refine: bool = True,
        relative: bool = True,
    ) -> None:
        embedder = embedder if embedder is not None else MfccEmbedder()
        if window <= 0 or not 0 < hop <= window:
            raise InputError(f"need window > 0 and 0 < hop <= window, got {window} and {hop}")
        if not 0 < threshold <= 2:
            raise InputError(f"threshold is a cosine distance in (0, 2], got {threshold}")
        if min_turn < 0 or max_gap < 0:
            raise InputError(f"min_turn and max_gap must be >= 0 s, got {min_turn} and {max_gap}")
        if penalty < 0:
            raise InputError(f"BIC penalty must be >= 0, got {penalty}")
        self.embedder = embedder
        self.window = window
        self.hop = hop
        self.threshold = threshold
        self.min_turn = min_turn
        self.max_gap = max_gap
        self.penalty = penalty
        self.refine = refine
        self.relative = relative

    def diarize(
        self,
        audio: Audio,
        regions: Sequence[SpeechRegion],
        num_speakers: int | None = None,
    ) -> list[Turn]:
        """Who spoke when within ``regions``: sorted, non-overlapping turns, speakers named
        ``SPEAKER_00``, ``SPEAKER_01``... in order of first appearance."""
        if num_speakers is not None and num_speakers < 1:
            raise InputError(f"num_speakers must be at least 1, got {num_speakers}")
        audio = dsp.resample(audio.mono(), ANALYSIS_RATE)  # 16 kHz mono
        spans = _clean_regions(regions, audio.duration)
        if not spans:
            return []
        windows = [w for span in spans for w in self._windows(*span)]  # [(start, end)] seconds
        embeddings = embed_windows(self.embedder, audio, windows)  # (windows, dim)
        points = partition_space(embeddings) if self.relative else embeddings  # (windows, dim)
        labels = cluster_embeddings(points, self.threshold, num_speakers)  # (windows,)
        if labels.max() == 0:
            return _name_speakers(_merge([(s, e, 0) for s, e in spans], self.max_gap))
        mfcc, loud = mfcc_frames(audio.samples)  # (20, frames), (frames,)
        if labels.max() + 1 > (num_speakers or 1):
            frames = _cluster_frames(mfcc, loud, windows, labels)
            labels = merge_by_bic(labels, frames, points, self.penalty, num_speakers)
        turns = []
        for start, end in spans:
            turns += self._region_turns(start, end, windows, labels)
        if self.refine and labels.max() > 0:
            frames = _cluster_frames(mfcc, loud, windows, labels)
            turns = refine_changes(turns, mfcc, loud, frames, self.hop, self.min_turn)
        return _name_speakers(_merge(turns, self.max_gap))

    def _windows(self, start: Seconds, end: Seconds) -> list[Span]:
        """Windows covering one region; the last one is aligned to the region's end."""
        if end - start <= self.window:
            return [(start, end)]
        count = int(np.ceil((end - start - self.window) / self.hop - 1e-9)) + 1
        starts = [start + k * self.hop for k in range(count - 1)] + [end - self.window]
        return [(s, s + self.window) for s in starts]

    def _region_turns(
        self, start: Seconds, end: Seconds, windows: list[Span], labels: np.ndarray
    ) -> list[Labelled]:
        n = max(1, int(round((end - start) / _STEP)))
        times = start + (np.arange(n) + 0.5) * (end - start) / n  # (frames,) frame centres
        votes = np.zeros((n, int(labels.max()) + 1))  # (frames, clusters)
        for (ws, we), label in zip(windows, labels):
            if we <= start or ws >= end:
                continue
            # Tent weights: a window speaks most surely for its middle.
            half = (we - ws) / 2
            weight = np.clip(1.0 - np.abs(times - (ws + half)) / half, 0.0, None) + 1e-3
            votes[:, label] += np.where((times >= ws) & (times < we), weight, 0.0)
        frame_labels = votes.argmax(axis=1)  # (frames,)
        min_frames = int(round(self.min_turn / ((end - start) / n)))
        frame_labels = _absorb_short_runs(_majority_filter(frame_labels, min_frames), min_frames)
        bounds = np.flatnonzero(np.diff(frame_labels)) + 1
        edges = [0, *bounds.tolist(), n]
        step = (end - start) / n
        return [
            (start + a * step, end if b == n else start + b * step, int(frame_labels[a]))
            for a, b in zip(edges[:-1], edges[1:])
        ]


def embed_windows(
    embedder: SpeakerEmbedder, audio: Audio, windows: Sequence[Span]
) -> np.ndarray:
    """``(windows, dim)`` embeddings of ``audio``'s windows, in one call (a neural embedder runs
    them through its network in batches)."""
    return np.asarray(embedder.embed_many([audio.slice(s, e) for s, e in windows]))


def partition_space(embeddings: np.ndarray) -> np.ndarray:
    """``(windows, dim)`` embeddings with what the recording shares removed: centred and scaled
    per dimension, unit length. Left as they are with too few windows to estimate the shared
    part, or where some window would be left with nothing (all windows alike)."""
    if embeddings.shape[0] < _MIN_RELATIVE:
        return embeddings
    centred = embeddings - embeddings.mean(axis=0)
    spread = embeddings.std(axis=0)
    scaled = centred / np.maximum(spread, 1e-3 * max(float(spread.max()), 1e-12))
    norms = np.linalg.norm(scaled, axis=1, keepdims=True)
    if float(norms.min()) < 1e-9:
        return embeddings
    return scaled / norms


def cluster_embeddings(
    points: np.ndarray, threshold: float, num_speakers: int | None = None
) -> np.ndarray:
    """Candidate cluster labels ``0..k-1`` of ``(windows, dim)`` points: average-linkage cosine
    clustering cut at ``threshold`` (at most ``_MAX_CANDIDATES`` clusters), or into
    ``num_speakers`` clusters where the cut gives fewer (never more than one per window)."""
    n = points.shape[0]
    if n == 1 or num_speakers == 1:
        return np.zeros(n, dtype=int)
    tree = linkage(points, method="average", metric="cosine")
    labels = fcluster(tree, threshold, criterion="distance") - 1
    if labels.max() + 1 > _MAX_CANDIDATES:
        labels = fcluster(tree, _MAX_CANDIDATES, criterion="maxclust") - 1
    if num_speakers is not None and labels.max() + 1 < min(num_speakers, n):
        labels = fcluster(tree, min(num_speakers, n), criterion="maxclust") - 1
    return labels


def merge_by_bic(
    labels: np.ndarray,
    frames: Sequence[np.ndarray],
    points: np.ndarray,
    penalty: float,
    target: int | None = None,
) -> np.ndarray:
    """Merge clusters, the pair one Gaussian explains best first (lowest BIC difference),
    until ``target`` clusters remain or, without a target, while one Gaussian explains the
    pair better than two.

    ``labels`` is ``(windows,)``; ``frames[c]`` holds cluster ``c``'s feature frames,
    ``(frames, dim)``; ``points`` ``(windows, dim)`` place the windows, to send a cluster too
    small to test to its nearest neighbour first. Returns labels renumbered ``0..k-1``.
    """
    k = int(labels.max()) + 1
    stats = {}
    for c in range(k):
        x = frames[c].astype(np.float64)
        stats[c] = _Gaussian(x.shape[0], x.sum(axis=0), x.T @ x)
    centroid = {c: points[labels == c].mean(axis=0) for c in range(k)}
    group = {c: c for c in range(k)}
    while len(stats) > (target or 1):
        best = None
        for a, b in _pairs(sorted(stats)):
            if min(stats[a].n, stats[b].n) < _MIN_BIC_FRAMES:
                # Too few frames for a covariance: merge it before any testable pair.
                key = (0, _cosine(centroid[a], centroid[b]))
            else:
                key = (1, stats[a].delta_bic(stats[b], penalty))
            if best is None or key < best[0]:
                best = (key, a, b)
        (tier, score), a, b = best
        if target is None and tier == 1 and score > 0:
            break
        na, nb = stats[a].n, stats[b].n
        centroid[a] = (centroid[a] * max(na, 1) + centroid[b] * max(nb, 1)) / max(na + nb, 1)
        stats[a] = stats[a] + stats.pop(b)
        for c, g in group.items():
            if g == b:
                group[c] = a
    survivors = sorted(set(group.values()))
    return np.array([survivors.index(group[int(label)]) for label in labels])


def refine_changes(
    turns: list[Labelled],
    mfcc: np.ndarray,
    loud: np.ndarray,
    frames: Sequence[np.ndarray],
    reach: Seconds,
    min_turn: Seconds,
) -> list[Labelled]:
    """Move each speaker change inside a region (one turn ending where the next, another
    speaker's, starts) to the 10 ms frame, within ``reach`` seconds of it, that best splits the
    stretch between the two speakers' full-covariance Gaussians of their MFCC frames: the
    left speaker's log-likelihood before it plus the right one's after it, over loud frames.

    ``mfcc`` is the recording's ``(20, frames)``, ``loud`` its ``(frames,)`` mask, ``frames[c]``
    cluster ``c``'s own frames. Changes next to a cluster with too few frames to trust its
    covariance stay where the window votes put them; no turn becomes shorter than ``min_turn``.
    """
    scores = {}  # cluster -> (frames,) log-likelihood of every frame
    for c, x in enumerate(frames):
        if x.shape[0] >= _MIN_BIC_FRAMES:
            mean = x.mean(axis=0)
            cov = np.cov(x.T) + 1e-3 * np.eye(x.shape[1])  # (20, 20), kept invertible
            d = mfcc.T - mean  # (frames, 20)
            mahalanobis = np.einsum("fi,ij,fj->f", d, np.linalg.inv(cov), d)
            scores[c] = -0.5 * (mahalanobis + np.linalg.slogdet(cov)[1])
    out = list(turns)
    for i in range(len(out) - 1):
        (s0, e0, a), (s1, e1, b) = out[i], out[i + 1]
        if a == b or abs(e0 - s1) > 1e-9 or a not in scores or b not in scores:
            continue
        lo = int(np.ceil(max(s0 + min_turn, e0 - reach) / FRAME_HOP))
        hi = int(np.floor(min(e1 - min_turn, e0 + reach) / FRAME_HOP))
        hi = min(hi, mfcc.shape[1])
        if hi <= lo:
            continue
        # > 0 where the left speaker explains the frame better; quiet frames do not vote.
        margin = (scores[a][lo:hi] - scores[b][lo:hi]) * loud[lo:hi]
        before = np.concatenate([[0.0], np.cumsum(margin)])  # (hi - lo + 1,) change before j
        best = int(np.argmax(before - (before[-1] - before)))
        change = round((lo + best) * FRAME_HOP + FRAME_SPAN / 2, 6)
        out[i], out[i + 1] = (s0, change, a), (change, e1, b)
    return out


class _Gaussian:
    """Sufficient statistics of a set of frames: count, sum, sum of outer products."""

    def __init__(self, n: int, total: np.ndarray, outer: np.ndarray) -> None:
        self.n, self.total, self.outer = n, total, outer

    def __add__(self, other: _Gaussian) -> _Gaussian:
        return _Gaussian(self.n + other.n, self.total + other.total, self.outer + other.outer)

    def logdet(self) -> float:
        mean = self.total / self.n
        cov = self.outer / self.n - np.outer(mean, mean)
        cov += 1e-6 * np.eye(cov.shape[0])  # keep a degenerate covariance finite
        return float(np.linalg.slogdet(cov)[1])

    def delta_bic(self, other: _Gaussian, penalty: float) -> float:
        """> 0 when two Gaussians model the union better than one, after the complexity cost."""
        joint = self + other
        dim = self.total.shape[0]
        gain = 0.5 * (joint.n * joint.logdet() - self.n * self.logdet() - other.n * other.logdet())
        cost = 0.5 * (dim + dim * (dim + 1) / 2) * np.log(joint.n)
        return gain - penalty * cost


def _pairs(items: list[int]) -> list[tuple[int, int]]:
    return [(a, b) for i, a in enumerate(items) for b in items[i + 1:]]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 1.0 - float(a @ b) / norm if norm > 0 else 1.0


def _cluster_frames(
    mfcc: np.ndarray, loud: np.ndarray, windows: list[Span], labels: np.ndarray
) -> list[np.ndarray]:
    """Each cluster's loud MFCC frames, ``(frames, 20)``, from the recording's ``(20, frames)``
    MFCCs; frames that windows of different clusters share belong to neither. The BIC reads
    MFCCs whatever the embedder is: frame statistics need no model and do not depend on the
    embedder's space."""
    owner = np.full(mfcc.shape[1], -1)  # (frames,) -1 unclaimed, -2 disputed
    for (s, e), label in zip(windows, labels):
        lo = int(np.ceil(s / FRAME_HOP - 1e-6))  # first frame starting inside the window
        hi = min(mfcc.shape[1], int(np.floor((e - FRAME_SPAN) / FRAME_HOP + 1e-6)) + 1)
        if hi <= lo:
            continue
        part = owner[lo:hi]
        part[part == -1] = label
        part[(part >= 0) & (part != label)] = -2
    return [mfcc[:, (owner == c) & loud].T for c in range(int(labels.max()) + 1)]


def _clean_regions(regions: Sequence[SpeechRegion], duration: Seconds) -> list[Span]:
    """Regions clipped to the audio, sorted, overlaps joined, the too-short dropped."""
    spans = sorted((max(0.0, r.start), min(duration, r.end)) for r in regions)
    joined: list[Span] = []
    for s, e in spans:
        if joined and s <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], e))
        elif e > s:
            joined.append((s, e))
    return [(s, e) for s, e in joined if e - s >= _MIN_REGION]


def _majority_filter(labels: np.ndarray, width: int) -> np.ndarray:
    """Each frame takes the most common label of the ``width`` frames around it."""
    half = width // 2
    k = int(labels.max()) + 1
    if half < 1 or k == 1:
        return labels
    counts = np.cumsum(np.vstack([np.zeros(k), np.eye(k)[labels]]), axis=0)  # (frames + 1, k)
    idx = np.arange(labels.shape[0])
    lo = np.clip(idx - half, 0, labels.shape[0])
    hi = np.clip(idx + half + 1, 0, labels.shape[0])
    window = counts[hi] - counts[lo]  # (frames, k)
    # Keep the frame's own label on ties, so the filter never invents a change.
    window[idx, labels] += 0.5
    return window.argmax(axis=1)


def _absorb_short_runs(labels: np.ndarray, min_frames: int) -> np.ndarray:
    """Runs shorter than ``min_frames`` take the label of their longer neighbour."""
    labels = labels.copy()
    while True:
        bounds = np.flatnonzero(np.diff(labels)) + 1
        edges = np.array([0, *bounds.tolist(), labels.shape[0]])
        lengths = np.diff(edges)
        if lengths.shape[0] == 1:
            return labels
        shortest = int(lengths.argmin())
        if lengths[shortest] >= min_frames:
            return labels
        left = lengths[shortest - 1] if shortest > 0 else -1
        right = lengths[shortest + 1] if shortest + 1 < lengths.shape[0] else -1
        neighbour = shortest - 1 if left >= right else shortest + 1
        labels[edges[shortest]:edges[shortest + 1]] = labels[edges[neighbour]]


def _merge(turns: list[Labelled], max_gap: Seconds) -> list[Labelled]:
    """Consecutive turns of one speaker with at most ``max_gap`` between them become one."""
    out: list[Labelled] = []
    for s, e, label in sorted(turns):
        if out and out[-1][2] == label and s - out[-1][1] <= max_gap:
            out[-1] = (out[-1][0], max(out[-1][1], e), label)
        else:
            out.append((s, e, label))
    return out


def _name_speakers(turns: list[Labelled]) -> list[Turn]:
    names: dict[int, str] = {}
    for _, _, label in turns:
        names.setdefault(label, f"SPEAKER_{len(names):02d}")
    return [Turn(round(s, 3), round(e, 3), names[label]) for s, e, label in turns]
