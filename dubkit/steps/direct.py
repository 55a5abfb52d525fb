"""The direct speech translator's step: a line's speech in, its target text (and speech) out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from dubkit.backends import StageBackends
from dubkit.jobs.cache import content_key
from dubkit.steps.base import ItemStep
from dubkit.steps.text import Utterance
from dubkit.types import Audio


@dataclass(frozen=True)
class SpeechToTranslate:
    utterance: Utterance  # its language is the source's
    target: str
    speech: bool  # False: text only, for a separate synthesizer


@dataclass(frozen=True)
class DirectResult:
    text: str
    speech: Audio | None  # None: text only, or the model gave no speech


class _Direct:
    form: ClassVar[str] = "record"

    def has_audio(self, value: Any) -> bool:
        return bool(value.get("speech"))

    def encode(self, result: DirectResult) -> tuple[Any, Any]:
        return {"text": result.text, "speech": result.speech is not None}, result.speech

    def decode(self, stored: tuple[Any, Any]) -> DirectResult:
        value, audio = stored
        return DirectResult(value["text"], audio)


class TranslateSpeech(ItemStep[SpeechToTranslate, DirectResult]):
    """SeamlessM4T v2 and the like, in the model's own padded batches."""

    name = "direct"
    codec = _Direct()

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: SpeechToTranslate) -> str:
        u = item.utterance
        return content_key("direct", u.track_id, u.start, u.end, u.language, item.target,
                           item.speech, self.backends.fingerprint("speech_translation"))

    def process(self, item: SpeechToTranslate) -> DirectResult:
        return self.process_many([item])[0]

    def process_many(self, items: Sequence[SpeechToTranslate]) -> list[DirectResult]:
        out: list[DirectResult | None] = [None] * len(items)
        translator = self.backends.get("speech_translation")
        # one call per (language, target, speech) group: the model batches within a call
        groups: dict[tuple, list[int]] = {}
        for i, item in enumerate(items):
            groups.setdefault((item.utterance.language, item.target, item.speech), []).append(i)
        for (source, target, speech), indices in groups.items():
            run = translator.translate if speech else translator.translate_text_only
            results = run([items[i].utterance.audio for i in indices], source, target)
            for i, result in zip(indices, results, strict=True):
                spoken = result.speech if speech else None
                out[i] = DirectResult(result.target_text, spoken)
        return out  # type: ignore[return-value]
