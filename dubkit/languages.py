"""Language codes: ISO 639-1 on the command line, ISO 639-2 in media metadata."""
from __future__ import annotations

from functools import cache

from dubkit.errors import UnsupportedLanguage

# Written without spaces between words.
NO_SPACE = frozenset({"ja", "zh", "th", "lo", "my", "km", "bo"})
# Written about a syllable to a character (kana, kanji or hanzi, Hangul): a character holds
# about three letters' worth of speech (Open JTalk speaks 6.4 characters of Japanese a second,
# espeak-ng 17.8 of Spanish), so lengths counted in characters scale down for these.
SYLLABIC_SCRIPT = frozenset({"ja", "zh", "yue", "ko"})


@cache
def _by_alpha_2() -> dict[str, object]:
    import pycountry

    return {lang.alpha_2: lang for lang in pycountry.languages if hasattr(lang, "alpha_2")}


def is_language(code: str) -> bool:
    return code in _by_alpha_2()


def language_name(code: str) -> str:
    """English name of an ISO 639-1 code ("ja" -> "Japanese"); the code itself when unknown."""
    lang = _by_alpha_2().get(code)
    return getattr(lang, "name", code)


def to_iso639_2(code: str) -> str:
    """Three-letter tag for media metadata ("ja" -> "jpn", "fr" -> "fre"); bibliographic form
    where one exists, as Matroska expects, which MP4 and ffmpeg also accept."""
    lang = _by_alpha_2().get(code)
    if lang is None:
        return "und"
    return getattr(lang, "bibliographic", None) or lang.alpha_3


def check_language(code: str, supported: frozenset[str] | set[str], role: str, preset: str) -> str:
    """Return ``code`` normalised, or raise ``UnsupportedLanguage`` naming the supported ones."""
    norm = code.strip().lower()
    choices = ", ".join(sorted(supported))
    if not is_language(norm):
        raise UnsupportedLanguage(
            f"{code!r} is not an ISO 639-1 language code; {role} languages of preset "
            f"{preset!r}: {choices}"
        )
    if norm not in supported:
        raise UnsupportedLanguage(
            f"preset {preset!r} cannot use {language_name(norm)} ({norm}) as {role} language; "
            f"supported: {choices}"
        )
    return norm
