"""Live speech in clauses: cut after sentence and clause marks, never inside a number, no
piece so short that it sounds chopped, every character kept."""
from __future__ import annotations

import pytest

from dubkit.live.clauses import clauses


@pytest.mark.parametrize("text, expected", [
    ("Y así, mis compañeros estadounidenses, no pregunten qué puede hacer su país por ustedes; "
     "pregunten qué pueden hacer ustedes por su país.",
     ["Y así, mis compañeros estadounidenses,",
      "no pregunten qué puede hacer su país por ustedes;",
      "pregunten qué pueden hacer ustedes por su país."]),
    ("It costs 1,000 dollars, or 3.5 euros.", ["It costs 1,000 dollars,", "or 3.5 euros."]),
    ("Sí.", ["Sí."]),
    ("Sí, claro. Gracias.", ["Sí, claro. Gracias."]),  # short pieces join
    ("あなたの国がどのようにお手伝いできるか、尋ねましょう。そして、私の同僚たち。",
     ["あなたの国がどのようにお手伝いできるか、", "尋ねましょう。そして、私の同僚たち。"]),
])
def test_cuts(text, expected):
    assert clauses(text) == expected


def test_nothing_is_lost():
    text = "Uno, dos, tres. Cuatro; cinco: seis! Siete? Ocho… nueve, diez."
    assert "".join(clauses(text, min_chars=1)).replace(" ", "") == text.replace(" ", "")
    assert clauses("   ") == []
