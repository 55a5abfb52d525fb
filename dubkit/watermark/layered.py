"""Two marks in one: the spread-spectrum layer carries the job id, the band-energy layer says
"dubkit, this key" through what destroys the first (Opus at 16-24 kbit/s, music or noise mixed
in afterwards). A file is marked when either layer is found; each layer gets half of the
false-alarm budget, so the two together keep it. The level is shared the same way: each layer sits
at least 3 dB under ``snr_db``, and where the two add up to more (they share bands) their sum is
scaled back to ``snr_db`` under the speech.
"""
from __future__ import annotations

import math

import numpy as np

from dubkit.errors import InputError
from dubkit.types import Audio
from dubkit.watermark.band_energy import BandEnergyWatermarker
from dubkit.watermark.base import Detection
from dubkit.watermark.payload import Payload
from dubkit.watermark.spread_spectrum import SpreadSpectrumWatermarker


class LayeredWatermarker:
    """The default ``Watermarker``: ``SpreadSpectrumWatermarker`` (payload) over
    ``BandEnergyWatermarker`` (presence). ``snr_db`` is the least level of both marks together
    under the speech; ``false_alarm`` bounds the chance per file that unmarked audio is flagged by
    either layer."""

    def __init__(self, key: str | None = None, snr_db: float = 30.0,
                 false_alarm: float = 1e-4, name: str = "layered") -> None:
        if not 0 < false_alarm < 1 or snr_db <= 0:
            raise InputError("false_alarm must be in (0, 1) and snr_db > 0")
        self.name = name
        self.snr_db = snr_db
        self.payload_layer = SpreadSpectrumWatermarker(key, false_alarm=false_alarm / 2,
                                                       min_swr_db=snr_db + 3.0)
        self.presence_layer = BandEnergyWatermarker(key, snr_db=snr_db + 3.0,
                                                    false_alarm=false_alarm / 2)
        self.key_id = self.payload_layer.key_id
        # one period for both, so live phrases marked apart keep the phase of each layer
        assert abs(self.payload_layer.period - self.presence_layer.period) < 1e-9
        self.period = self.payload_layer.period

    def embed(self, audio: Audio, payload: Payload, cover: Audio | None = None) -> Audio:
        """The band-energy pattern first, then the payload: the spread-spectrum layer is
        informed (it reads the audio it is given), so it is placed exactly over the first."""
        presence = self.presence_layer.embed(audio)
        marked = self.payload_layer.embed(presence, payload, cover=cover)
        # where the two marks add up (they share bands) the sum is brought back to snr_db
        host = audio.samples.astype(np.float64)
        mark = marked.samples - host
        limit = float(np.sum(host ** 2)) * 10 ** (-self.snr_db / 10)
        power = float(np.sum(mark ** 2))
        if power > limit > 0:
            mark *= math.sqrt(limit / power)
        return Audio(np.clip(host + mark, -1.0, 1.0).astype(np.float32), audio.rate)

    def detect(self, audio: Audio, expected: Payload | None = None) -> Detection:
        """Both layers' searches; ``payload`` comes from the spread-spectrum layer, ``layers``
        says what each found. With ``expected``, ``payload`` and ``score`` are the payload layer's
        answer to that claim; ``found`` is also true when only the presence layer found the
        key's mark (which confirms no job id)."""
        payload = self.payload_layer.detect(audio, expected=expected)
        presence = self.presence_layer.detect(audio)
        layers = {
            self.payload_layer.name: {"found": payload.found, "score": round(payload.score, 3)},
            self.presence_layer.name: {"found": presence.found,
                                       "score": round(presence.score, 3)},
        }
        # the score is the payload layer's unless only the presence layer found the mark blind
        # (a claim is about the job id: its score stays the payload layer's)
        decisive = payload if payload.found or not presence.found or expected is not None \
            else presence
        return Detection(payload.found or presence.found, payload.payload, decisive.score,
                         decisive.ranges, self.key_id, layers)
