"""The named models dubkit knows, each with its license and ordered sources."""
from __future__ import annotations

from dataclasses import dataclass

from dubkit.errors import ModelUnavailable
from dubkit.models.sources import Builder, HubRepo, LocalFolder, ModelSource


@dataclass(frozen=True)
class ModelEntry:
    name: str
    kind: str  # "asr", "mt", "tts", "s2st", "vad", "speaker-embedding", ...
    description: str
    license: str
    sources: tuple[ModelSource, ...]


_LOCAL = LocalFolder()

MODELS: dict[str, ModelEntry] = {
    m.name: m
    for m in (
        ModelEntry(
            "tiny-whisper",
            "asr",
            "random Whisper (transformers) at a few thousand parameters, for tests",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_whisper")),
        ),
        ModelEntry(
            "tiny-t5",
            "mt",
            "random byte-level T5 text translator (transformers), for tests",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_t5")),
        ),
        ModelEntry(
            "tiny-vits",
            "tts",
            "random VITS (transformers), for tests; its speech is noise",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_vits")),
        ),
        ModelEntry(
            "whisper-large-v3-turbo",
            "asr",
            "Whisper large-v3-turbo (transformers)",
            "MIT",
            (_LOCAL, HubRepo("openai/whisper-large-v3-turbo")),
        ),
    )
}


def get_model(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelUnavailable(
            f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}"
        ) from None
