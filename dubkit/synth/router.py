"""Speak each language with the best synthesizer that has it: the first in preset order."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dubkit.errors import UnsupportedLanguage
from dubkit.synth.base import VoiceRequest
from dubkit.types import Audio


class LanguageRouter:
    """A synthesizer made of several, tried in order. Voice names are prefixed with the chosen
    backend's name (``"kokoro/jf_alpha"``), so a voice recorded in project.json says which
    engine speaks it."""

    name = "by-language"

    def __init__(self, backends: Sequence[tuple[str, Any]]) -> None:
        if not backends:
            raise UnsupportedLanguage("the by-language synthesizer needs at least one backend")
        self.backends = dict(backends)  # label -> synthesizer, in preference order
        self.languages = frozenset().union(*(b.languages for b in self.backends.values()))

    def backend_for(self, language: str) -> str:
        """The ``name`` of the backend that speaks ``language``: the first that has it."""
        return self._route(language)[1].name

    def _route(self, language: str) -> tuple[str, Any]:
        for label, backend in self.backends.items():
            if language in backend.languages:
                return label, backend
        raise UnsupportedLanguage(
            f"no synthesizer speaks {language!r}; supported: {', '.join(sorted(self.languages))}"
        )

    def voice_for(self, request: VoiceRequest) -> str:
        label, backend = self._route(request.language)
        return f"{label}/{backend.voice_for(request)}"

    def stock_voices(self, language: str) -> dict[str, str | None]:
        """The voices of the backend that speaks ``language``, prefixed with its label."""
        label, backend = self._route(language)
        return {f"{label}/{v}": g for v, g in backend.stock_voices(language).items()}

    def synthesize(self, text: str, language: str, voice: str) -> Audio:
        label, _, inner = voice.partition("/")
        backend = self.backends.get(label)
        if backend is None or language not in backend.languages:
            label, backend = self._route(language)
            inner = backend.voice_for(VoiceRequest("", language))
        return backend.synthesize(text, language, inner)
