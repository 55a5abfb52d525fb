"""How far one text is from another, as heard: character error rate after normalisation (case,
punctuation and spacing do not count, so every script is measured the same way)."""
from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Levenshtein


def normalise(text: str) -> str:
    """NFKC, lower case, punctuation as spaces, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def char_error_rate(reference: str, hypothesis: str) -> float:
    """Edits (insertions, deletions, substitutions) per reference character, spaces left out
    (Chinese and Japanese write none); 1.0 for anything heard against an empty reference."""
    ref = normalise(reference).replace(" ", "")
    hyp = normalise(hypothesis).replace(" ", "")
    if not ref:
        return float(bool(hyp))
    return Levenshtein.distance(ref, hyp) / len(ref)
