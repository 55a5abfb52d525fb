"""Fit synthesized speech into the time slot of the line it dubs, by trimming and speeding up."""
from __future__ import annotations

from dubkit import dsp
from dubkit.errors import InputError
from dubkit.synth.base import FitResult
from dubkit.types import Audio, Seconds

TRIM_DB = -40.0  # frames this far below the loudest frame are silence at the ends
TRIM_KEEP: Seconds = 0.02  # silence kept at each end so onsets and releases stay soft


class TempoFitter:
    """``TimeFitter`` that trims edge silence and, if the speech still overruns its slot, speeds
    it up (pitch kept) by at most ``max_tempo``; what then still overruns is reported as overflow.

    ``min_tempo`` below 1 lets short speech be slowed down to fill its slot; the default 1.0
    leaves it as it is.
    """

    def __init__(self, max_tempo: float = 1.25, min_tempo: float = 1.0) -> None:
        if max_tempo < 1.0:
            raise InputError(f"max_tempo must be >= 1.0 (1.0 = never speed up), got {max_tempo}")
        if not 0.0 < min_tempo <= 1.0:
            raise InputError(
                f"min_tempo must be in (0, 1] (1.0 = never slow down), got {min_tempo}"
            )
        self.max_tempo = max_tempo
        self.min_tempo = min_tempo

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
        return FitResult(speech, tempo, max(0.0, speech.duration - slot))
