"""The quality step: one dubbed line measured against its source line and its text."""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from dubkit.backends import StageBackends
from dubkit.jobs.cache import audio_id, content_key
from dubkit.qa import REPORT_VERSION, QaInput, QaThresholds, SegmentQa, measure_segment
from dubkit.steps.base import ItemStep, JsonValue


class _SegmentQa(JsonValue[SegmentQa]):
    def encode(self, result: SegmentQa) -> Any:
        return result.to_dict()

    def decode(self, stored: Any) -> SegmentQa:
        return SegmentQa.from_dict(stored)


@dataclass(frozen=True)
class LineCheck:
    """A dubbed line to measure; ``source_key`` names its source speech (the track it was cut
    from and where), as the transcription of a line is keyed: a render, which resamples the
    input rather than decoding it again, measures the same line the same way."""

    record: QaInput
    source_key: str


class MeasureLine(ItemStep[LineCheck, SegmentQa]):
    """Speaker similarity (by the diarizer's speaker model, when it has one), F0 correlation,
    timing and what was heard, against ``thresholds``. Keyed by the source line, the dub's
    samples and the text measured, so a finished job's report is made again without measuring
    anything."""

    name = "qa"
    codec = _SegmentQa()

    def __init__(self, backends: StageBackends, thresholds: QaThresholds,
                 f0_method: str = "dio") -> None:
        self.backends = backends
        self.thresholds = thresholds
        self.f0_method = f0_method

    def key(self, item: LineCheck) -> str:
        r = item.record
        reference = None if r.reference is None else hashlib.sha256(
            np.ascontiguousarray(r.reference, dtype=np.float32).tobytes()).hexdigest()
        embedder = self.backends.fingerprint("diarization") \
            if self.backends.has("diarization") else None
        return content_key("qa", REPORT_VERSION, r.id, r.speaker, item.source_key,
                           audio_id(r.dub), r.slot, r.tempo, r.overflow, reference, r.text,
                           r.heard, r.voice_kept, dataclasses.asdict(self.thresholds),
                           self.f0_method, embedder)

    def process(self, item: LineCheck) -> SegmentQa:
        embedder = self.backends.get("diarization").embedder \
            if self.backends.has("diarization") else None
        return measure_segment(item.record, embedder, self.thresholds, self.f0_method)
