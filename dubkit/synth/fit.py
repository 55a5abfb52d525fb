"""Fit synthesized speech into the time slot of the line it dubs: trim, change tempo within its
bounds, then lengthen or shorten pauses for what tempo could not do."""
from __future__ import annotations

from dubkit import dsp
from dubkit.errors import InputError
from dubkit.synth import pauses
from dubkit.synth.base import FitResult
from dubkit.types import Audio, Seconds

TRIM_DB = -40.0  # frames this far below the loudest frame are silence at the ends
TRIM_KEEP: Seconds = 0.02  # silence kept at each end so onsets and releases stay soft


class TempoFitter:
    """``TimeFitter`` that trims edge silence and, if the speech still overruns its slot, speeds
    it up (pitch kept) by at most ``max_tempo``; what then still overruns is reported as overflow.

    ``min_tempo`` below 1 lets short speech be slowed down to fill its slot; the default 1.0
    leaves it as it is. Where the tempo bounds are not enough, ``max_pause_fill`` (seconds, 0:
    never) is the most silence added to any one pause of speech that is still short, and
    ``min_pause`` (seconds, None: never) how short the pauses of speech that is still long
    may become.
    """

    def __init__(self, max_tempo: float = 1.25, min_tempo: float = 1.0,
                 max_pause_fill: Seconds = 0.0, min_pause: Seconds | None = None) -> None:
        if max_tempo < 1.0:
            raise InputError(f"max_tempo must be >= 1.0 (1.0 = never speed up), got {max_tempo}")
        if not 0.0 < min_tempo <= 1.0:
            raise InputError(
                f"min_tempo must be in (0, 1] (1.0 = never slow down), got {min_tempo}"
            )
        if max_pause_fill < 0 or (min_pause is not None and min_pause < 0):
            raise InputError("max_pause_fill and min_pause must be >= 0 seconds")
        self.max_tempo = max_tempo
        self.min_tempo = min_tempo
        self.max_pause_fill = max_pause_fill
        self.min_pause = min_pause

    def fit(self, audio: Audio, slot: Seconds) -> FitResult:
        """``audio`` made to fit ``slot`` seconds within the tempo bounds."""
        if slot <= 0:
            raise InputError(f"time slot must be longer than 0 s, got {slot}")
        speech = dsp.trim_silence(audio, TRIM_DB, TRIM_KEEP)
        tempo = min(max(speech.duration / slot, self.min_tempo), self.max_tempo)
        if speech.num_samples == 0 or abs(tempo - 1.0) < 1e-3:
            tempo = 1.0
        else:
            # media owns ffmpeg, which does the time-stretching; imported when first needed
            from dubkit.media.tempo import change_tempo

            speech = change_tempo(speech, tempo)
        before = speech.duration
        if before < slot:
            speech = pauses.lengthen_pauses(speech, slot - before, self.max_pause_fill)
        elif before > slot and self.min_pause is not None:
            speech = pauses.shorten_pauses(speech, before - slot, self.min_pause)
        return FitResult(speech, tempo, max(0.0, speech.duration - slot),
                         round(speech.duration - before, 3))
