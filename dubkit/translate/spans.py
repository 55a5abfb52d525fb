"""Sentences that run across lines: which lines belong together, and how a translation of the
whole sentence is shared back out among them.

Segmentation follows the speaker's pauses, so one sentence is often cut into several lines
(JFK's "And so, my fellow Americans, / ask not what your country can do for you, / ask what you
can do for your country."). Translated alone, a fragment loses its grammar ("ask not" came back
as "no dudes", "don't doubt"). So the lines of one sentence are translated together, and the
translation is cut into one piece per line, each piece's share of the text following its line's
share of the time (so that every piece fits its slot about as well as the whole sentence fits
the whole span), at a word boundary, after punctuation where one is near.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from dubkit.languages import NO_SPACE
from dubkit.translate.llm_text import unshout
from dubkit.types import Seconds, Segment, Word

MAX_GAP: Seconds = 1.0  # a longer silence ends the sentence whatever the punctuation says
MAX_SPAN: Seconds = 20.0  # longer spans are cut even mid-sentence (translators lose the thread)
PASSAGE_GAP: Seconds = 2.0  # lines closer than this are heard in one pass
PASSAGE_SPAN: Seconds = 28.0  # and at most this long: one Whisper window (30 s)
# A sentence is finished when the text ends in one of these (closing quotes and brackets aside).
_FINAL = re.compile(r"[.!?…。！？][\"'”’»)\]」』）]*\s*$")
# Cost of a cut, in shares of the text: after a comma or similar mark it is free; elsewhere
# between words it costs this much; inside an unspaced run (ja, zh) more, less where the script
# changes (kana to kanji, a likely word start).
_WORD_CUT, _SCRIPT_CUT, _CHAR_CUT = 0.06, 0.08, 0.16
_SOFT_MARKS = ",;:、，；：—–-"


def sentence_spans(segments: Sequence[Segment]) -> list[list[int]]:
    """Indices into ``segments`` grouped by sentence, in time order: a line joins the one before
    it (in time order, so no other speaker's line comes between) when that line is the same
    speaker's, ends under ``MAX_GAP`` before it starts, the span stays under ``MAX_SPAN``, and
    the sentence goes on: the earlier line does not end one, or this one begins in lower case
    (a transcriber that hears a fragment alone punctuates it as a whole sentence: "ASK NOT!" /
    "what your country..."). Every index is in exactly one group."""
    order = sorted(range(len(segments)), key=lambda i: (segments[i].start, segments[i].id))
    spans: list[list[int]] = []
    for i in order:
        seg = segments[i]
        if spans:
            prev = segments[spans[-1][-1]]
            first = segments[spans[-1][0]]
            joins = (
                prev.speaker == seg.speaker
                and prev.source_text.strip() and seg.source_text.strip()
                and (not _FINAL.search(prev.source_text) or _continues(seg.source_text))
                and 0.0 <= seg.start - prev.end < MAX_GAP
                and seg.end - first.start <= MAX_SPAN
            )
            if joins:
                spans[-1].append(i)
                continue
        spans.append([i])
    return spans


def passages(segments: Sequence[Segment], any_speaker: bool = False) -> list[list[int]]:
    """Indices into ``segments`` grouped into passages to transcribe in one pass, in time
    order: a line joins the one before it when it starts under ``PASSAGE_GAP`` after that one
    ends (never inside it: overlapping speech is heard apart), both are the same speaker's
    unless ``any_speaker``, and the passage stays within ``PASSAGE_SPAN``. Unlike sentences,
    passages do not look at text (there is none yet)."""
    order = sorted(range(len(segments)), key=lambda i: (segments[i].start, segments[i].id))
    groups: list[list[int]] = []
    for i in order:
        seg = segments[i]
        if groups:
            prev, first = segments[groups[-1][-1]], segments[groups[-1][0]]
            if ((any_speaker or prev.speaker == seg.speaker)
                    and 0.0 <= seg.start - prev.end < PASSAGE_GAP
                    and seg.end - first.start <= PASSAGE_SPAN):
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


def words_by_line(words: Sequence[Word], offset: Seconds,
                  lines: Sequence[tuple[Seconds, Seconds]]) -> list[str]:
    """The text of each line (``(start, end)`` on the track) from words timed from ``offset``
    on the same track: a word goes to the line its middle falls in, or else to the nearest
    line (a word the aligner put in the pause between two lines)."""
    if not lines:
        return []
    texts: list[list[str]] = [[] for _ in lines]
    for word in words:
        middle = offset + (word.start + word.end) / 2.0
        nearest = min(range(len(lines)),
                      key=lambda i: max(lines[i][0] - middle, middle - lines[i][1], 0.0))
        texts[nearest].append(word.text)
    # a word keeps the space before it where the language writes one; unspaced scripts have none
    return [" ".join("".join(parts).split()) for parts in texts]


def joined_source(segments: Sequence[Segment], span: Sequence[int]) -> str:
    """The source text of a span's lines as one sentence: a line in capitals is put in sentence
    case, and a full stop or exclamation mark the transcriber put before a continuation is
    dropped (with the capital it gave the next word)."""
    texts = [" ".join(segments[i].source_text.split()) for i in span]
    out: list[str] = []
    for text in texts:
        plain = unshout(text)
        if out and plain != text and plain[:1].isupper():
            plain = plain[0].lower() + plain[1:]  # the capital unshout gave a continuation
        if out and _continues(plain):
            out[-1] = re.sub(r"[.!]+$", "", out[-1])
        out.append(plain)
    return " ".join(t for t in out if t)


def _continues(text: str) -> bool:
    """Whether ``text`` begins in lower case: the rest of a sentence, not a new one."""
    first = next((ch for ch in text if ch.isalpha()), "")
    return first.islower()


def share_out(text: str, weights: Sequence[float], language: str) -> list[str]:
    """``text`` cut into ``len(weights)`` consecutive pieces whose lengths follow ``weights``
    (seconds of each line), at the cheapest boundaries: a piece may come out empty only when the
    text has fewer words than there are pieces."""
    text = " ".join(text.split())
    k = len(weights)
    if k <= 1 or not text:
        return [text] + [""] * (k - 1) if k else []
    cuts, costs = _boundaries(text, language)
    if len(cuts) < k - 1:  # fewer words than pieces: one word each, the rest empty
        edges = [0] + cuts + [len(text)]
        return [text[a:b].strip() for a, b in zip(edges, edges[1:])] + [""] * (k - 1 - len(cuts))
    w = [max(float(x), 0.0) for x in weights]
    w = w if sum(w) > 0 else [1.0] * k
    targets = [sum(w[:b + 1]) / sum(w) for b in range(k - 1)]  # where each cut should fall
    shares = [c / len(text) for c in cuts]
    # dynamic programme: best[c] is the least cost of placing cuts 0..b with cut b at cuts[c]
    best = [abs(s - targets[0]) + cost for s, cost in zip(shares, costs)]
    back: list[list[int]] = []
    for target in targets[1:]:
        step, links, run, arg = [], [], float("inf"), -1
        for c, (s, cost) in enumerate(zip(shares, costs)):
            step.append(run + abs(s - target) + cost)  # run: the best earlier cut, strictly
            links.append(arg)
            if best[c] < run:
                run, arg = best[c], c
        best, back = step, back + [links]
    c = min(range(len(cuts)), key=best.__getitem__)
    chosen = [c]
    for links in reversed(back):
        chosen.append(links[chosen[-1]])
    chosen = [cuts[i] for i in reversed(chosen)]
    edges = [0] + chosen + [len(text)]
    return [text[a:b].strip() for a, b in zip(edges, edges[1:])]


def _boundaries(text: str, language: str) -> tuple[list[int], list[float]]:
    """Where ``text`` may be cut (character offsets, neither end) and what each cut costs."""
    cuts, costs = [], []
    spaced = language not in NO_SPACE
    for pos in range(1, len(text)):
        before, after = text[pos - 1], text[pos]
        if spaced:
            if after != " ":
                continue
            cost = 0.0 if before in _SOFT_MARKS or before in ".!?…" else _WORD_CUT
        else:
            if after in _SOFT_MARKS or after in "。！？」』）" or before == " ":
                continue  # never put a mark (or a space) at the start of a piece
            if before in _SOFT_MARKS or before in "。！？":
                cost = 0.0
            elif _script(before) != _script(after):
                cost = _SCRIPT_CUT
            else:
                cost = _CHAR_CUT
        cuts.append(pos)
        costs.append(cost)
    return cuts, costs


def _script(ch: str) -> str:
    """A coarse script class: kanji, hiragana, katakana, latin/digit, or other."""
    name = unicodedata.name(ch, "")
    for word in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI"):
        if word in name:
            return word
    return "LATIN" if ch.isalnum() else "OTHER"
