"""Hear each language with the best transcriber that has it: the first in preset order (live:
Moonshine for English, Whisper for the rest)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dubkit.errors import InputError, UnsupportedLanguage
from dubkit.languages import language_name
from dubkit.types import Audio, Transcript, Word

T = TypeVar("T")


class TranscriberRouter:
    """A ``Transcriber`` made of several, tried in order for each language. The language is
    detected by the first that can detect it (Moonshine cannot; Whisper can)."""

    name = "by-language"

    def __init__(self, backends: Sequence[tuple[str, Any]]) -> None:
        if not backends:
            raise InputError("the by-language transcriber needs at least one backend")
        self.backends = dict(backends)  # label -> transcriber, in preference order
        self.languages = frozenset().union(*(b.languages for b in self.backends.values()))
        # translating speech into English is whatever the transcriber of a language can do
        self.can_translate = False
        # those of the first that has any: the one that detects (Moonshine has none, and cannot)
        self.language_thresholds = next((b.language_thresholds for b in self.backends.values()
                                         if b.language_thresholds is not None), None)
        self.word_times = frozenset(code for code in self.languages
                                    if code in self.backend_for(code).word_times)

    def backend_for(self, language: str) -> Any:
        code = (language or "").strip().lower()
        for backend in self.backends.values():
            if code in backend.languages:
                return backend
        raise UnsupportedLanguage(
            f"no transcriber hears {language_name(code)} ({code or 'empty'}); "
            f"supported: {', '.join(sorted(self.languages))}")

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        return self._first_that_detects(lambda backend: backend.detect_language(audio))

    def language_probabilities(self, audio: Audio) -> dict[str, float]:
        return self._first_that_detects(lambda backend: backend.language_probabilities(audio))

    def _first_that_detects(self, ask: Callable[[Any], T]) -> T:
        errors = []
        for backend in self.backends.values():
            try:
                return ask(backend)
            except InputError as exc:  # this one cannot detect: ask the next
                errors.append(str(exc))
        raise InputError(errors[-1] if errors else "no transcriber can detect the language")

    def transcribe(self, audio: Audio, language: str, task: str = "transcribe") -> Transcript:
        return self.backend_for(language).transcribe(audio, language, task)

    def transcribe_words(self, audio: Audio, language: str) -> list[Word]:
        return self.backend_for(language).transcribe_words(audio, language)
