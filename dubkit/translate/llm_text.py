"""Plain-text handling around the LLM translator: sentence splitting and joining, cleaning
what chat models add to an answer, and sentence-casing shouted input."""
from __future__ import annotations

import re
from collections.abc import Sequence

from dubkit.languages import NO_SPACE, language_name

# A sentence ends at . ! ? … followed by a space (closing quotes kept with it), or at a CJK
# full stop, exclamation or question mark, space or not.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s|$)|[。！？]+[」』”’)）]*")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sr jr vs etc e.g i.e no sen gen rev mt ft approx dept u.s a.m p.m "
    "sra sr dña srta".split()
)


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (whitespace collapsed), each with its final punctuation; a
    period after an abbreviation or an initial ("Mr.", "J.") does not end one."""
    text = " ".join(text.split())
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.group().startswith("."):
            words = text[start : match.start()].split()
            last = words[-1].casefold() if words else ""
            if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                continue
        piece = text[start : match.end()].strip()
        if piece:
            pieces.append(piece)
            start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    merged: list[str] = []
    for piece in pieces:  # "..." or a lone quote is not a sentence of its own
        if merged and not any(ch.isalnum() for ch in piece):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def join_sentences(sentences: Sequence[str], language: str) -> str:
    """Sentences rejoined by the target's rule: nothing between them in Japanese, Chinese, Thai
    and the like, one space elsewhere."""
    parts = [s.strip() for s in sentences if s.strip()]
    return ("" if language in NO_SPACE else " ").join(parts)


_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "「": "」", "『": "』", "„": "“"}
_GENERIC_LABELS = (
    r"(?:the\s+)?translat(?:ion|ed text)(?:\s+(?:is|in\s+\w+))?|output|answer|result"
    r"|翻訳|訳文|訳|译文|翻译|traducción|traduction|übersetzung"
)
_PREAMBLE = re.compile(r"(?:here(?:'s| is)|sure|certainly|of course|okay)\b.*", re.IGNORECASE)
_PREAMBLE_COLON = re.compile(r"^here(?:'s| is)\b[^:：]*[:：]\s*", re.IGNORECASE)
_NOTE = re.compile(r"\s+\(?(?:note|notes|n\.b\.|explanation|literally)\s*:.*$", re.IGNORECASE)
_TRAILING_PARENS = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def clean_output(reply: str, source: str, languages: Sequence[str] = ()) -> str:
    """The translation inside a chat model's ``reply``: without code fences, markdown bold,
    a "Translation:" (or language-name) label, a preamble line ("Here is the translation:"),
    a second line of commentary, a trailing note or parenthesis the ``source`` has not, and
    quotes around the whole when the source has none. ``languages`` are ISO codes whose English
    names may appear as labels ("Japanese: ...")."""
    names = "|".join(re.escape(language_name(code)) for code in languages)
    label = re.compile(
        rf"^\s*(?:{_GENERIC_LABELS}{'|' + names if names else ''})"
        r"(?:\s+translation)?\s*(?:\([^)]*\))?\s*[:：]\s*",
        re.IGNORECASE,
    )
    text = reply.replace("```", "\n").replace("**", "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    while len(lines) > 1 and (lines[0].endswith((":", "：")) or _PREAMBLE.fullmatch(lines[0])):
        lines.pop(0)  # "Here is the translation:", "Sure!"
    if not lines:
        return ""
    line = _PREAMBLE_COLON.sub("", lines[0], count=1)
    line = label.sub("", line, count=1).strip()
    if not _NOTE.search(source):
        line = _NOTE.sub("", line)
    if not re.search(r"[(（]", source):
        line = _TRAILING_PARENS.sub("", line)
    src = source.strip()
    for _ in range(2):  # quotes, then quotes inside backticks or the reverse
        line = line.strip().strip("`").strip()
        close = _QUOTES.get(line[:1])
        if close and len(line) > 1 and line.endswith(close) and not src.startswith(line[0]):
            inner = line[1:-1]
            if line[0] not in inner and close not in inner:
                line = inner
    return line.strip()




def unshout(text: str) -> str:
    """Sentence case for a line written in capitals ("ASK NOT!" -> "Ask not!"): transcribers
    write shouted speech that way, and small models then copy it back untranslated."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 2 or not all(c.isupper() for c in letters if c.isascii()) \
            or not any(c.isascii() for c in letters):
        return text
    lowered = text.lower()
    out, capital = [], True
    for c in lowered:
        out.append(c.upper() if capital and c.isalpha() else c)
        if c.isalpha():
            capital = False
        elif c in ".!?":
            capital = True
    return re.sub(r"\bi\b", "I", "".join(out))
