"""Live speech in clauses: cut after sentence and clause marks, never inside a number, no
piece so short that it sounds chopped, every character kept."""
from __future__ import annotations

import pytest

from dubkit.live.clauses import clauses, min_clause_chars


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


def test_a_long_first_clause_is_cut_after_a_few_words_when_asked():
    text = ("Y así, mis compatriotas estadounidenses, no pregunten qué puede hacer su país "
            "por ustedes.")
    assert clauses(text, first_words=2)[:3] == ["Y así,", "mis compatriotas estadounidenses,",
                                                "no pregunten qué puede hacer su país por ustedes."]
    assert clauses(text, first_words=3)[0] == "Y así, mis compatriotas estadounidenses,"
    assert clauses("No pregunten qué puede hacer.", first_words=4) == \
        ["No pregunten qué puede hacer."]  # too few words to leave a fair second piece
    assert clauses("国があなたのために何ができるかではなく、", first_words=4) == \
        clauses("国があなたのために何ができるかではなく、")  # no spaces: nothing to count
    assert " ".join(clauses(text, first_words=2)) == " ".join(clauses(text))


def test_syllabic_scripts_are_cut_at_the_same_speaking_time():
    assert min_clause_chars("es") == 16 and min_clause_chars("en") == 16
    assert min_clause_chars("ja") == min_clause_chars("ko") == 6  # a character is a syllable
    text = "国のためではなく、あなたが国のために、何ができるかを問うてください。"
    assert clauses(text) == ["国のためではなく、あなたが国のために、",
                             "何ができるかを問うてください。"]
    assert clauses(text, min_clause_chars("ja")) == [
        "国のためではなく、", "あなたが国のために、", "何ができるかを問うてください。"]
