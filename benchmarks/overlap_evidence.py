"""Is a second speaker visible in the diarizer's window embeddings where people talk at once?

    python benchmarks/overlap_evidence.py [--data ../shared/data]

For each diarization recording (``benchmarks/diarization.py``'s, AMI cut to its scored 30 s):
the reference's overlapped speech, in all and in the frames a DER with a 0.25 s collar scores;
then the ``cpu`` preset's VAD and ERes2Net clustering (its windows, their embeddings and the
speakers they are clustered into, as ``ClusteringDiarizer.diarize`` computes them), and for the
windows with 30 % or more overlapped reference speech against those with none (and speech over
half of them): the mean cosine to the nearest and to the second-nearest speaker centroid. An
overlap-aware diarizer reading embeddings would need the second to stand out. Prints markdown.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from diarization import ROOT, preset_backend, recordings  # noqa: E402

from dubkit.analysis.clustering import (  # noqa: E402
    _clean_regions,
    _cluster_frames,
    cluster_embeddings,
    embed_windows,
    merge_by_bic,
    partition_space,
)
from dubkit.analysis.mfcc_embedder import mfcc_frames  # noqa: E402

STEP = 0.01  # s: the reference grid
COLLAR = 0.25
OVERLAPPED, CLEAN_SPEECH = 0.3, 0.5  # shares of a window


def talkers(reference, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """People talking in each 10 ms frame, and which frames a collared DER scores."""
    n = int(np.ceil(duration / STEP)) + 1
    count, scored = np.zeros(n, int), np.ones(n, bool)
    for t in reference:
        count[int(round(t.start / STEP)):int(round(t.end / STEP))] += 1
        for b in (t.start, t.end):
            scored[max(0, int(round((b - COLLAR) / STEP))):int(round((b + COLLAR) / STEP))] = False
    return count, scored


def mean(ranked: np.ndarray, column: int, rows: np.ndarray) -> str:
    """The mean of ``ranked``'s column over ``rows``, or "-" where there is none."""
    if column >= ranked.shape[1] or not rows.any():
        return "-"
    return f"{ranked[rows, column].mean():.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    vad, diarizer = preset_backend("cpu", "vad"), preset_backend("cpu", "diarization")
    print("| recording | overlap s (all / scored) | speakers found / reference "
          "| windows overlapped / all | nearest, overlapped / clean | second, overlapped / clean |")
    print("|---|---|---|---|---|---|")
    for rec in recordings(args.data):
        count, scored = talkers(rec.reference, rec.audio.duration)
        overlap = f"{(count > 1).sum() * STEP:.1f} / {((count > 1) & scored).sum() * STEP:.1f}"
        spans = _clean_regions(vad.detect(rec.audio), rec.audio.duration)
        windows = [w for span in spans for w in diarizer._windows(*span)]
        if not windows:
            print(f"| {rec.name} | {overlap} | 0 / {len({t.speaker for t in rec.reference})} "
                  "| - | - | - |")
            continue
        vectors = embed_windows(diarizer.embedder, rec.audio, windows)
        points = partition_space(vectors) if diarizer.relative else vectors
        labels = cluster_embeddings(points, diarizer.threshold)
        if labels.max() > 0:  # the BIC merge, as diarize() runs it without a speaker count
            mfcc, loud = mfcc_frames(rec.audio.samples)
            labels = merge_by_bic(labels, _cluster_frames(mfcc, loud, windows, labels), points,
                                  diarizer.penalty)
        unit = points / np.linalg.norm(points, axis=1, keepdims=True)
        centroids = np.stack([unit[labels == k].mean(axis=0) for k in range(labels.max() + 1)])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        ranked = -np.sort(-(unit @ centroids.T), axis=1)  # (windows, speakers), nearest first
        share = np.array([(count[int(s / STEP):int(e / STEP)] > 1).mean() for s, e in windows])
        speech = np.array([(count[int(s / STEP):int(e / STEP)] > 0).mean() for s, e in windows])
        over, clean = share >= OVERLAPPED, (share == 0) & (speech > CLEAN_SPEECH)
        print(f"| {rec.name} | {overlap} | {labels.max() + 1} / "
              f"{len({t.speaker for t in rec.reference})} | {over.sum()} / {len(windows)} "
              f"| {mean(ranked, 0, over)} / {mean(ranked, 0, clean)} "
              f"| {mean(ranked, 1, over)} / {mean(ranked, 1, clean)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
