"""Write subtitle files (.srt, .vtt) from timed cues."""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import pysubs2

from dubkit.errors import InputError
from dubkit.media.encode import temporary_sibling
from dubkit.types import Seconds

SUBTITLE_FORMATS = {".srt": "srt", ".vtt": "vtt"}


@dataclass(frozen=True)
class Cue:
    """One subtitle: ``text`` shown from ``start`` to ``end``."""

    start: Seconds
    end: Seconds
    text: str

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(
                f"cue times must satisfy 0 <= start <= end, got {self.start}..{self.end}"
            )


def write_subtitles(cues: Iterable[Cue], path: str | os.PathLike[str]) -> None:
    """Write ``cues`` to ``path`` as SubRip (.srt) or WebVTT (.vtt), in time order, replacing it
    atomically. Cues without text are left out."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in SUBTITLE_FORMATS:
        raise InputError(
            f"cannot write subtitles as {ext or 'a file without extension'}; use .srt or .vtt"
        )
    content = subtitles_text(cues, SUBTITLE_FORMATS[ext])
    with temporary_sibling(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)


def subtitles_text(cues: Iterable[Cue], fmt: str) -> str:
    """``cues`` as the text of a SubRip ("srt") or WebVTT ("vtt") file, in time order; cues
    without text are left out."""
    kept = [(c, _clean(c.text, fmt)) for c in sorted(cues, key=lambda c: (c.start, c.end))]
    kept = [(c, text) for c, text in kept if text]

    # pysubs2 reads event text as ASS markup (drops "{...}", breaks lines at "\N"), so each cue
    # gets a placeholder and its text goes in after pysubs2 has laid out the file.
    subs = pysubs2.SSAFile()
    for i, (cue, _) in enumerate(kept):
        subs.append(pysubs2.SSAEvent(start=_ms(cue.start), end=_ms(cue.end), text=_token(i)))
    content = subs.to_string(fmt)
    # last first: a text put in can then only follow the tokens still to replace
    for i, (_, text) in reversed(list(enumerate(kept))):
        content = content.replace(_token(i), text, 1)
    return content


def _clean(text: str, fmt: str) -> str:
    """Trim lines and drop blank ones (a blank line would end the cue early)."""
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    if fmt == "vtt":  # WebVTT reads "<" and "&" as markup
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _token(i: int) -> str:
    return f"DUBKITCUE{i:08d}X"


def _ms(seconds: Seconds) -> int:
    return int(round(seconds * 1000))
