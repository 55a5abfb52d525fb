"""Stock voices chosen by who speaks: each speaker gets the synthesizer's voice whose speaker
embedding is nearest to theirs (distinct voices while there are enough), and a gender estimate
from the embedding (the side of the stock voices it is nearer to), not from pitch alone.

Measured, not used by jobs yet (``benchmarks/voice_choice.py``, BENCHMARKS.md "Voice choice"):
with the stock voices the presets have (Kokoro's Japanese-trained voices, four female and one
male, speaking the target language), every real speaker's ERes2Net cosine to every stock voice
lies within about +-0.15, the level of unrelated speakers, so the nearest voice is chance, and
the embedding called 7 (es) and 9 (ja) of 9 men female; pitch called 11 of 13 speakers right. Jobs
keep choosing by pitch (``analysis.pitch.estimate_gender``) until voices that sit in the speaker
model's space (same-language voices, or conversion to the speaker) make the similarities mean
something."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

MIN_GENDER_MARGIN = 0.02  # mean cosine nearer to one gender's voices by less: undecided
# Subtracted from the similarity of a speaker and a voice of the other gender: such a voice is
# given only when none of the speaker's own gender is left.
GENDER_MISMATCH = 2.0

# What each stock voice says to be embedded (about 4 s of speech); other languages say English.
PROBE_TEXT = {
    "en": "The quick brown fox jumps over the lazy dog, and then it runs back home.",
    "es": "El veloz zorro marrón salta sobre el perro perezoso y luego vuelve a casa.",
    "fr": "Le renard brun rapide saute par-dessus le chien paresseux, puis rentre chez lui.",
    "de": "Der schnelle braune Fuchs springt über den faulen Hund und läuft dann nach Hause.",
    "it": "La rapida volpe marrone salta sopra il cane pigro e poi torna a casa.",
    "pt": "A rápida raposa marrom salta sobre o cão preguiçoso e depois volta para casa.",
    "ja": "素早い茶色の狐は怠け者の犬を飛び越えて、それから家に帰ります。",
    "zh": "敏捷的棕色狐狸跳过了懒惰的狗，然后跑回家去。",
    "id": "Rubah cokelat yang cepat melompati anjing malas, lalu pulang ke rumah.",
}


def probe_text(language: str) -> str:
    return PROBE_TEXT.get(language, PROBE_TEXT["en"])


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return x / max(float(np.linalg.norm(x)), 1e-12)


def similarities(speakers: Mapping[str, np.ndarray],
                 voices: Mapping[str, np.ndarray]) -> np.ndarray:
    """``(speakers, voices)`` cosine similarities, in the mappings' order."""
    a = np.stack([_unit(v) for v in speakers.values()])
    b = np.stack([_unit(v) for v in voices.values()])
    return a @ b.T


def assign_voices(speakers: Mapping[str, np.ndarray], voices: Mapping[str, np.ndarray],
                  speaker_genders: Mapping[str, str | None] | None = None,
                  voice_genders: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Speaker -> voice: the assignment of distinct voices with the highest total similarity
    (Hungarian method); speakers beyond the number of voices take the nearest voice left to
    them, so two speakers share a voice only when there are more speakers than voices. Where
    both genders are known, a voice of the other gender counts ``GENDER_MISMATCH`` less."""
    if not speakers or not voices:
        return {}
    sim = similarities(speakers, voices)
    names, labels = list(voices), list(speakers)
    for i, label in enumerate(labels):
        gender = (speaker_genders or {}).get(label)
        for j, name in enumerate(names):
            other = (voice_genders or {}).get(name)
            if gender and other and gender != other:
                sim[i, j] -= GENDER_MISMATCH
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
