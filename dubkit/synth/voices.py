"""Voice choice by estimated gender, shared by the synthesis backends that have few voices."""
from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Sequence

_TRAILING_NUMBER = re.compile(r"(\d+)$")


def speaker_index(speaker: str) -> int:
    """A stable number for a speaker label: its trailing number ("SPEAKER_03" -> 3), so that
    diarized speakers 0, 1, 2 ... start on different voices; else a CRC32 of the label."""
    match = _TRAILING_NUMBER.search(speaker or "")
    return int(match[1]) if match else zlib.crc32((speaker or "").encode("utf-8"))


class VoiceSpreader:
    """Hands out voices by gender so that speakers of one gender get distinct voices while
    there are enough of them.

    A speaker's first choice comes from its label (``speaker_index``), so the answer does not
    depend on who asked first unless two speakers want the same voice; then the later one takes
    the next voice nobody has, and once every voice is taken, the least used one. A speaker keeps
    the voice it got. One spreader serves one job's speakers. A gender with no voices of its own
    borrows the other's; ``None`` (unknown) picks from ``neutral``, by default every voice.
    """

    def __init__(
        self,
        female: Sequence[str],
        male: Sequence[str],
        neutral: Sequence[str] | None = None,
    ) -> None:
        female, male = list(female), list(male)
        everyone = list(dict.fromkeys([*female, *male, *(neutral or ())]))
        if not everyone:
            raise ValueError("a VoiceSpreader needs at least one voice")
        # voices of unknown gender (a multi-speaker model whose card names none) serve every
        # request when no voice of either gender is known
        self._pools = {
            "female": female or male or everyone,
            "male": male or female or everyone,
            None: list(neutral) if neutral else everyone,
        }
        self._given: dict[tuple[str, str | None], str] = {}
        self._lock = threading.Lock()

    @property
    def voices(self) -> list[str]:
        """Every voice this spreader may hand out."""
        return list(dict.fromkeys(v for pool in self._pools.values() for v in pool))

    def pick(self, speaker: str, gender: str | None) -> str:
        """The voice for ``speaker`` of ``gender`` ("female", "male" or None)."""
        key = (speaker, gender if gender in ("female", "male") else None)
        with self._lock:
            if key in self._given:
                return self._given[key]
            pool = self._pools[key[1]]
            start = speaker_index(speaker) % len(pool)
            order = pool[start:] + pool[:start]
            uses = {v: 0 for v in order}
            for (other, _), voice in self._given.items():
                if other != speaker and voice in uses:
                    uses[voice] += 1
            voice = min(order, key=lambda v: uses[v])  # first of the least used, in order
            self._given[key] = voice
            return voice
