"""A translation cut into the pieces it is spoken in, live: the first piece can play while the
rest is still being synthesized, so the listener hears the start of a long phrase sooner."""
from __future__ import annotations

import re

from dubkit.languages import SYLLABIC_SCRIPT

MIN_CLAUSE_CHARS = 16  # about 0.9 s of espeak-ng Spanish: a shorter clause sounds chopped
MIN_CLAUSE_CHARS_SYLLABIC = 6  # the same 0.9 s of Open JTalk Japanese

_MARKS = ".!?…,;:"  # sentence and clause marks followed by a space
_CJK_MARKS = "。！？、，；："  # the same in scripts that put no space after them
# after a sentence or clause mark, but not inside a number ("3.5", "1,000")
_BREAK = re.compile(rf"(?<=[{_MARKS}{_CJK_MARKS}])(?!\d)\s*")
# a mark that text has followed: a space after a Latin one ("3." may be "3.5" still coming)
_SETTLED_MARK = re.compile(rf"[{_MARKS}](?=\s)|[{_CJK_MARKS}]")


def min_clause_chars(language: str) -> int:
    """The shortest clause spoken alone in ``language``: the same time spoken in every one."""
    return MIN_CLAUSE_CHARS_SYLLABIC if language in SYLLABIC_SCRIPT else MIN_CLAUSE_CHARS


def clauses(text: str, min_chars: int = MIN_CLAUSE_CHARS,
            first_words: int | None = None) -> list[str]:
    """``text`` cut after its sentence and clause marks into pieces of at least ``min_chars``
    characters (a shorter piece joins the next; the last may be short): pieces too short sound
    chopped, and the first one decides how soon anything is heard. ``first_words``: the first
    piece of a language with spaces is cut after that many words even without a mark (when
    at least as many follow), since its synthesis time is what the listener waits for."""
    pieces = _pieces(text, min_chars)
    if first_words and pieces and _spaced(pieces[0]):
        words = pieces[0].split()
        if len(words) >= 2 * first_words:
            pieces[:1] = [" ".join(words[:first_words]), " ".join(words[first_words:])]
    return pieces


def settled_clause_end(text: str, start: int) -> int | None:
    """Where the last clause of a growing ``text`` after ``start`` that can no longer grow
    ends: after a sentence or clause mark that more text follows, or None."""
    ends = [m.end() for m in _SETTLED_MARK.finditer(text, start) if m.end() < len(text)]
    return ends[-1] if ends else None


def _pieces(text: str, min_chars: int) -> list[str]:
    pieces: list[str] = []
    for atom in _BREAK.split(text.strip()):
        if not atom:
            continue
        if pieces and len(pieces[-1]) < min_chars:
            pieces[-1] = f"{pieces[-1]} {atom}" if _spaced(pieces[-1]) else pieces[-1] + atom
        else:
            pieces.append(atom)
    if len(pieces) > 1 and len(pieces[-1]) < min_chars // 2:  # a stub joins the one before
        tail = pieces.pop()
        pieces[-1] = f"{pieces[-1]} {tail}" if _spaced(pieces[-1]) else pieces[-1] + tail
    return pieces


def _spaced(piece: str) -> bool:
    """Whether the language puts spaces between words (not after 、 or 。)."""
    return not piece.endswith(tuple(_CJK_MARKS))
