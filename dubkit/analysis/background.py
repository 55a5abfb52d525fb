"""Is there a background worth separating from the speech?

Separation (Conv-TasNet, about 30 s a minute of speech on 2 cores) is only worth its time when
the input holds something besides speech that the dub should keep: music, effects, ambience
loud enough to be heard under a voice. A recording of speech alone (a call, an interview in a
quiet room, a read text) has between and under its words only a steady noise floor far below
the voice; separating it gives back no background, only some of its own speech that the
separator left behind (11-29 dB below the speech on the clean recordings of ../shared/data).

Two levels of the 16 kHz analysis track, relative to the speech's own (the median level of its
20 ms frames inside the speech regions):

- the *floor*: in each 10 s window, the level that 2 % of its frames stay below (the quietest
  moments, between words too, so a bed of music under the speech raises it); the highest window
  counts, so a minute of music in an hour of talk is not averaged away;
- the *outside* level: the level that 90 % of the frames away from any speech region stay
  below (an intro, a jingle, applause, a door).

Either one above its limit means there is something to keep. Speech the detector missed also
counts as something (it is louder than a floor), which errs the safe way: such a recording is
separated as before.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dubkit.types import Audio, Seconds, SpeechRegion

FRAME: Seconds = 0.02
WINDOW: Seconds = 10.0  # the floor is taken per window of this length
MARGIN: Seconds = 0.3  # frames this close to a speech region are not "outside" (breaths, edges)
FLOOR_PERCENTILE = 2.0
MIN_OUTSIDE: Seconds = 1.0  # less time outside speech than this says nothing about it
# Limits, relative to the speech level, set from all 52 speech-only recordings of ../shared/data
# and synthetic music laid under five of them (`benchmarks/background_check.py`; no music was
# held out): music 20 dB below the speech (RMS) measured a floor of -29 dB or more, an intro of
# music an outside level of +2 dB or more. A bed much quieter than that is not found. 30 of the
# 52 recordings stay under both limits; the others' noise (a crowd, far microphones, hiss)
# counts as ambience and is separated.
MAX_FLOOR_DB = -30.0
MAX_OUTSIDE_DB = -20.0
_SILENT_DB = -120.0


@dataclass(frozen=True)
class BackgroundLevel:
    """Levels of what is not speech, in dB relative to the speech (``-inf``: none measured)."""

    floor_db: float
    outside_db: float

    @property
    def something_to_keep(self) -> bool:
        return self.floor_db > MAX_FLOOR_DB or self.outside_db > MAX_OUTSIDE_DB

    def describe(self) -> str:
        floor = "is silence" if self.floor_db == float("-inf") \
            else f"is {-self.floor_db:.0f} dB below the speech"
        outside = "there is no time between the lines" if self.outside_db == float("-inf") \
            else f"what lies between the lines stays {-self.outside_db:.0f} dB below it"
        return f"the quietest sound {floor}, {outside}"


def measure_background(audio: Audio, regions: Sequence[SpeechRegion]) -> BackgroundLevel:
    """How loud what is not speech is in ``audio`` (mono) around and under ``regions``."""
    hop = max(1, int(round(FRAME * audio.rate)))
    n = audio.num_samples // hop
    if n == 0 or not regions:
        return BackgroundLevel(float("-inf"), float("-inf"))
    x = audio.mono().samples[:n * hop].astype(np.float64).reshape(n, hop)
    level = 10 * np.log10(np.maximum(np.mean(x * x, axis=1), 10 ** (_SILENT_DB / 10)))  # (n,)
    centre = (np.arange(n) + 0.5) * FRAME
    inside, near = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for r in regions:
        inside |= (centre >= r.start) & (centre < r.end)
        near |= (centre >= r.start - MARGIN) & (centre < r.end + MARGIN)
    if not inside.any():
        return BackgroundLevel(float("-inf"), float("-inf"))
    speech = float(np.median(level[inside]))
    per_window = max(1, int(round(WINDOW / FRAME)))
    starts = [a for a in range(0, n, per_window) if a == 0 or n - a >= per_window // 2]
    ends = [*starts[1:], n]  # a short last piece joins the window before it
    floors = [np.percentile(level[a:b], FLOOR_PERCENTILE)
              for a, b in zip(starts, ends, strict=True)]
    outside = level[~near]
    outside_db = float(np.percentile(outside, 90)) - speech \
        if outside.size * FRAME >= MIN_OUTSIDE else float("-inf")
    return BackgroundLevel(float(max(floors)) - speech, outside_db)
