"""Cheap checks that a machine translation is plausible: not empty, not the source echoed back,
written in the target language's script.

Pure functions over strings, shared by every text translator that wants to flag (or retry) a bad
output. Scripts are read from Unicode character names ("CJK UNIFIED IDEOGRAPH-56FD" -> Han), so
no table of code point ranges is kept here.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from difflib import SequenceMatcher

FLAG_EMPTY = "translation-empty"
FLAG_ECHO = "translation-echoed-source"
FLAG_WRONG_SCRIPT = "translation-wrong-script"
FLAG_REPETITIVE = "translation-repetitive"  # a decoding loop: "手元に手元に手元に手元に..."

# Which scripts a language is written in; a language not listed here is not script-checked.
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    "ja": frozenset({"hiragana", "katakana", "han"}),
    "zh": frozenset({"han"}),
    "ko": frozenset({"hangul", "han"}),
    **{code: frozenset({"cyrillic"}) for code in ("ru", "uk", "be", "bg", "mk", "sr", "kk", "mn")},
    "el": frozenset({"greek"}),
    **{code: frozenset({"arabic"}) for code in ("ar", "fa", "ur", "ps")},
    **{code: frozenset({"devanagari"}) for code in ("hi", "mr", "ne")},
    "he": frozenset({"hebrew"}),
    "yi": frozenset({"hebrew"}),
    "th": frozenset({"thai"}),
    "bn": frozenset({"bengali"}),
    "ta": frozenset({"tamil"}),
    "ka": frozenset({"georgian"}),
    "hy": frozenset({"armenian"}),
    **{code: frozenset({"latin"}) for code in (
        "en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "vi", "id", "ms", "cs", "sk", "sl",
        "hr", "bs", "ro", "hu", "fi", "sv", "da", "no", "nb", "nn", "is", "et", "lv", "lt", "ca",
        "gl", "eu", "ga", "cy", "sq", "az", "uz", "sw", "tl", "af", "la", "eo", "mt",
    )},
}  # fmt: skip

# Character-name prefixes, longest first where one prefix contains another.
_NAME_PREFIXES = (
    ("CJK UNIFIED IDEOGRAPH", "han"),
    ("CJK COMPATIBILITY IDEOGRAPH", "han"),
    ("HALFWIDTH KATAKANA", "katakana"),
    ("KATAKANA-HIRAGANA", "katakana"),  # the long-vowel mark ー
    ("IDEOGRAPHIC ITERATION", "han"),  # 々
    ("FULLWIDTH LATIN", "latin"),
    ("HALFWIDTH HANGUL", "hangul"),
)
_FIRST_WORDS = frozenset({
    "LATIN", "CYRILLIC", "GREEK", "ARABIC", "DEVANAGARI", "HEBREW", "THAI", "HANGUL", "HIRAGANA",
    "KATAKANA", "BENGALI", "TAMIL", "GEORGIAN", "ARMENIAN",
})  # fmt: skip

MIN_SHARE = 0.5  # of letters in the target's script, for a non-Latin target
MIN_LATIN_SHARE = 0.8  # for a Latin-script target ("mostly Latin")
ECHO_SIMILARITY = 0.9  # character overlap above which a same-script output counts as echoed
_LOOP = re.compile(r"(.{1,16}?)\1{3,}", re.DOTALL)  # a piece said four or more times in a row
_WORD = re.compile(r"\w+")
MAX_LOOP_WORDS = 6  # the longest run of words whose repetition counts as a decoding loop


def char_script(ch: str) -> str | None:
    """Lower-case script name of a letter ("a" -> "latin", "の" -> "hiragana", "国" -> "han"),
    "other" for a letter of an unlisted script, None for anything that is not a letter."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    for prefix, script in _NAME_PREFIXES:
        if name.startswith(prefix):
            return script
    first = name.split(" ", 1)[0]
    return first.lower() if first in _FIRST_WORDS else "other"


def script_counts(text: str) -> Counter[str]:
    """How many letters of each script ``text`` holds (digits, spaces, punctuation not counted)."""
    return Counter(s for s in map(char_script, text) if s is not None)


def script_share(text: str, scripts: frozenset[str] | set[str]) -> float:
    """Fraction of the letters of ``text`` written in one of ``scripts``; 0.0 without letters."""
    counts = script_counts(text)
    total = sum(counts.values())
    return sum(counts[s] for s in scripts) / total if total else 0.0


def in_language_script(text: str, language: str) -> bool:
    """Whether ``text`` looks written in ``language``'s script.

    Non-Latin targets need at least half their letters in the script (names and acronyms in
    Latin letters are allowed); Japanese needs some kana or kanji, Chinese Han without kana;
    Latin targets need 80% Latin letters. Text without letters (numbers) and languages not in
    ``LANGUAGE_SCRIPTS`` pass."""
    scripts = LANGUAGE_SCRIPTS.get(language)
    counts = script_counts(text)
    total = sum(counts.values())
    if scripts is None or total == 0:
        return True
    share = sum(counts[s] for s in scripts) / total
    if language == "zh" and counts["hiragana"] + counts["katakana"] > 0.1 * total:
        return False  # Japanese, not Chinese
    if language == "ko" and counts["hangul"] == 0:
        return False  # Han alone is Chinese, not Korean
    return share >= (MIN_LATIN_SHARE if scripts == {"latin"} else MIN_SHARE)


def normalize_for_echo(text: str) -> str:
    """Case-folded letters and digits only, NFKC (full-width forms to ASCII)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def is_echo(
    source: str,
    output: str,
    source_language: str,
    target_language: str,
    threshold: float = ECHO_SIMILARITY,
) -> bool:
    """Whether ``output`` repeats ``source`` instead of translating it.

    The same letters count as an echo unless the source is a single word (names and loanwords
    stay as they are) or holds no letters at all. Between languages written in the same script
    (en -> es), a character overlap (difflib ratio) of ``threshold`` or more counts too."""
    src, out = normalize_for_echo(source), normalize_for_echo(output)
    if not src or not out or source_language == target_language:
        return False
    if not any(ch.isalpha() for ch in src) or (len(source.split()) < 2 and len(src) < 8):
        return False
    if src == out:
        return True
    same_script = LANGUAGE_SCRIPTS.get(source_language) == LANGUAGE_SCRIPTS.get(target_language)
    return same_script and SequenceMatcher(None, src, out, autojunk=False).ratio() >= threshold


def is_repetitive(text: str) -> bool:
    """Whether ``text`` holds a piece with a letter (1 to 16 characters) four or more times in a
    row, the mark of a greedy decoding loop ("...." and "!!!!" do not count), or a run of up to
    ``MAX_LOOP_WORDS`` words said four or more times in a row whatever their case and the
    punctuation between them ("¡Por favor, por favor! Por favor, ...")."""
    return (any(any(ch.isalpha() for ch in m.group(1)) for m in _LOOP.finditer(text))
            or _word_loop(text) is not None)


def collapse_repeats(text: str) -> str:
    """``text`` with each run of a repeated piece holding a letter cut to one copy."""
    text = _LOOP.sub(
        lambda m: m.group(1) if any(ch.isalpha() for ch in m.group(1)) else m.group(0), text
    )
    while (loop := _word_loop(text)) is not None:
        text = text[:loop[0]] + text[loop[1]:]
    return text


def _word_loop(text: str) -> tuple[int, int] | None:
    """Where the second to last copies of the first run of words repeated four or more times
    in a row lie in ``text``, with a cut-off copy after them (``(start, end)``, so that cutting
    it leaves one copy), else None."""
    words = list(_WORD.finditer(text))
    folded = [w.group().casefold() for w in words]
    for i in range(len(words)):
        for n in range(1, MAX_LOOP_WORDS + 1):
            piece, copies = folded[i:i + n], 1
            while folded[i + copies * n:i + (copies + 1) * n] == piece:
                copies += 1
            if copies >= 4:
                end = i + copies * n  # past the last whole copy; then the start of another
                while end < len(words) and end - i - copies * n < n - 1 \
                        and folded[end] == piece[end - i - copies * n]:
                    end += 1
                return words[i + n - 1].end(), words[end - 1].end()
    return None


def translation_flags(
    source: str, output: str, source_language: str, target_language: str
) -> tuple[str, ...]:
    """The problems found in ``output`` as a translation of ``source``: any of ``FLAG_EMPTY``,
    ``FLAG_ECHO``, ``FLAG_WRONG_SCRIPT``; empty when it passes every check."""
    if not output.strip():
        return (FLAG_EMPTY,) if source.strip() else ()
    flags = []
    if is_echo(source, output, source_language, target_language):
        flags.append(FLAG_ECHO)
    if not in_language_script(output, target_language):
        flags.append(FLAG_WRONG_SCRIPT)
    return tuple(flags)
