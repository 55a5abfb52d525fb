"""The pure output checks shared by the text translators."""
from __future__ import annotations

import pytest

from dubkit.translate.script_check import (
    FLAG_ECHO,
    FLAG_EMPTY,
    FLAG_REPETITIVE,
    FLAG_WRONG_SCRIPT,
    char_script,
    collapse_repeats,
    in_language_script,
    is_echo,
    is_repetitive,
    normalize_for_echo,
    script_counts,
    script_share,
    translation_flags,
)


@pytest.mark.parametrize(
    "ch, script",
    [("a", "latin"), ("É", "latin"), ("Ａ", "latin"), ("の", "hiragana"), ("カ", "katakana"),
     ("ｶ", "katakana"), ("ー", "katakana"), ("国", "han"), ("々", "han"), ("한", "hangul"),
     ("ж", "cyrillic"), ("λ", "greek"), ("ب", "arabic"), ("न", "devanagari"), ("א", "hebrew"),
     ("ก", "thai"), ("1", None), (" ", None), ("。", None), ("!", None)],
)  # fmt: skip
def test_char_script(ch, script):
    assert char_script(ch) == script


def test_script_counts_and_share_ignore_digits_and_punctuation():
    counts = script_counts("NASAの宇宙飛行士、2024年。")
    assert counts == {"latin": 4, "hiragana": 1, "han": 6}
    assert script_share("NASAの宇宙", {"han", "hiragana"}) == pytest.approx(3 / 7)
    assert script_share("123 !?", {"latin"}) == 0.0


@pytest.mark.parametrize(
    "text, language, ok",
    [
        ("国のために何ができるかを問いなさい。", "ja", True),
        ("NASAの宇宙飛行士です。", "ja", True),  # a Latin acronym inside Japanese is fine
        ("Ask not what your country can do for you.", "ja", False),
        ("我们的国家", "zh", True),
        ("国のために", "zh", False),  # kana: Japanese, not Chinese
        ("안녕하세요", "ko", True),
        ("大韓民国", "ko", False),
        ("Привет, мир", "ru", True),
        ("Hello world", "ru", False),
        ("Γειά σου κόσμε", "el", True),
        ("مرحبا بالعالم", "ar", True),
        ("नमस्ते दुनिया", "hi", True),
        ("¿Qué puede hacer tu país por ti?", "es", True),
        ("これはスペイン語ではありません", "es", False),
        ("Привет friend", "en", False),  # mostly Latin needed
        ("2024", "ja", True),  # no letters: nothing to judge
        ("ᏣᎳᎩ", "chr", True),  # a language without a known script passes
    ],
)
def test_in_language_script(text, language, ok):
    assert in_language_script(text, language) is ok


def test_normalize_for_echo_folds_case_width_and_punctuation():
    assert normalize_for_echo("Ｈｅｌｌｏ, World!") == "helloworld"


def test_is_echo_same_text_and_near_copies():
    src = "Ask not what your country can do for you."
    assert is_echo(src, src, "en", "es")
    assert is_echo(src, "ask not what your country can do for you!", "en", "ja")
    assert is_echo(src, "Ask not what your country can do for you, friend.", "en", "es")
    assert not is_echo(src, "No preguntes qué puede hacer tu país por ti.", "en", "es")
    assert not is_echo(src, "国があなたのために何ができるかを問うな。", "en", "ja")


def test_is_echo_leaves_names_numbers_and_same_language_alone():
    assert not is_echo("Taxi", "Taxi", "en", "es")  # one word: loanwords and names stay
    assert not is_echo("2024.", "2024.", "en", "ja")
    assert not is_echo("Hello there.", "Hello there.", "en", "en")
    assert not is_echo("Hello there.", "", "en", "es")


def test_translation_flags():
    src = "Good morning, everyone."
    assert translation_flags(src, "Buenos días a todos.", "en", "es") == ()
    assert translation_flags(src, "  ", "en", "es") == (FLAG_EMPTY,)
    assert translation_flags(src, src, "en", "ja") == (FLAG_ECHO, FLAG_WRONG_SCRIPT)
    assert translation_flags(src, "Good morning all of you.", "en", "ja") == (FLAG_WRONG_SCRIPT,)
    assert translation_flags("", "", "en", "ja") == ()


def test_decoding_loops_are_found_and_collapsed():
    loop = "その後、ソファに座って" + "手元に" * 6 + "手元"
    assert is_repetitive(loop) and collapse_repeats(loop) == "その後、ソファに座って手元に手元"
    assert is_repetitive("very very very very good")
    assert collapse_repeats("very very very very good") == "very good"
    for fine in ("Wait....", "Hola!!!!", "ha ha ha", "No, no, no.", "1111 Main St"):
        assert not is_repetitive(fine) and collapse_repeats(fine) == fine
    assert FLAG_REPETITIVE.startswith("translation-")


def test_a_loop_of_words_is_found_whatever_its_case_and_punctuation():
    # what the 1.5B model wrote for "Ladies and gentlemen, please fasten your seat belts."
    loop = "¡Por favor, por favor, por favor! " + "Por favor, por favor! " * 9 + "Por favor, por"
    assert is_repetitive(loop) and collapse_repeats(loop) == "¡Por favor"
    said = "Dijo: sí, sí. Sí, sí. Y se fue."  # four times "sí": a loop of one word
    assert is_repetitive(said) and collapse_repeats(said) == "Dijo: sí. Y se fue."
    for fine in ("Por favor, por favor, abróchense los cinturones.", "No, no, no, I said no.",
                 "very very very good", "Gracias, muchas gracias, gracias de verdad."):
        assert not is_repetitive(fine) and collapse_repeats(fine) == fine
