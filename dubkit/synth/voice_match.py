"""Stock voices chosen by who speaks: each speaker gets the synthesizer's voice whose speaker
embedding is nearest to theirs (distinct voices while there are enough), and a gender estimate
from the embedding (the side of the stock voices it is nearer to), not from pitch alone."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

MIN_GENDER_MARGIN = 0.02  # mean cosine nearer to one gender's voices by less: undecided


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return x / max(float(np.linalg.norm(x)), 1e-12)


def similarities(speakers: Mapping[str, np.ndarray],
                 voices: Mapping[str, np.ndarray]) -> np.ndarray:
    """``(speakers, voices)`` cosine similarities, in the mappings' order."""
    a = np.stack([_unit(v) for v in speakers.values()])
    b = np.stack([_unit(v) for v in voices.values()])
    return a @ b.T


def assign_voices(speakers: Mapping[str, np.ndarray],
                  voices: Mapping[str, np.ndarray]) -> dict[str, str]:
    """Speaker -> voice: the assignment of distinct voices with the highest total similarity
    (Hungarian method); speakers beyond the number of voices take the nearest voice left to
    them, so two speakers share a voice only when there are more speakers than voices."""
    if not speakers or not voices:
        return {}
    sim = similarities(speakers, voices)
    names, labels = list(voices), list(speakers)
    rows, cols = linear_sum_assignment(-sim)
    chosen = {labels[r]: names[c] for r, c in zip(rows, cols)}
    for i, label in enumerate(labels):
        if label not in chosen:
            chosen[label] = names[int(np.argmax(sim[i]))]
    return chosen


def gender_from_embedding(embedding: np.ndarray, voices: Mapping[str, np.ndarray],
                          genders: Mapping[str, str]) -> str | None:
    """"female" or "male": the gender of the stock voices the speaker is nearer to on average,
    or None when the voices do not cover both or the margin is under ``MIN_GENDER_MARGIN``."""
    means = {}
    for gender in ("female", "male"):
        group = {n: v for n, v in voices.items() if genders.get(n) == gender}
        if not group:
            return None
        means[gender] = float(similarities({"x": embedding}, group).mean())
    if abs(means["female"] - means["male"]) < MIN_GENDER_MARGIN:
        return None
    return max(means, key=means.get)
