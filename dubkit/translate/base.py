"""Stage protocols for translation: transcription, text translation, direct speech translation.

All work one segment (or a batch of segments) at a time, so the same objects serve a whole file
and a live stream.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dubkit.analysis.language_id import Thresholds
from dubkit.errors import InputError, UnsupportedLanguage
from dubkit.languages import language_name
from dubkit.types import ANALYSIS_RATE, Audio, Transcript, Word

TASKS = ("transcribe", "translate")
TARGET_PEAK_DBFS = -1.0  # what ASR input is brought to (quiet speech is missed by decoders' VADs)
MAX_GAIN_DB = 60.0  # past this the "speech" is digital near-silence; raising it only adds noise


def asr_samples(audio: Audio, normalize: bool = True) -> np.ndarray:
    """``(samples,)`` float32 at 16 kHz mono, the peak at ``TARGET_PEAK_DBFS`` (at most
    ``MAX_GAIN_DB`` louder) when ``normalize``: what the Whisper and Moonshine backends decode."""
    from dubkit.dsp import resample

    mono = audio.mono()
    if mono.rate != ANALYSIS_RATE:
        mono = resample(mono, ANALYSIS_RATE)
    samples = np.ascontiguousarray(mono.samples, dtype=np.float32)
    if normalize and samples.size:
        peak = float(np.max(np.abs(samples)))
        if peak > 0.0:
            gain = min(10.0 ** (TARGET_PEAK_DBFS / 20.0) / peak, 10.0 ** (MAX_GAIN_DB / 20.0))
            samples = samples * np.float32(gain)
    return samples


def check_transcription_request(name: str, languages: frozenset[str], language: str | None,
                                task: str) -> str:
    """The normalised language code of a transcription request, or a one-line error naming the
    tasks or languages the transcriber ``name`` accepts."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    code = (language or "").strip().lower()
    if code not in languages:
        raise UnsupportedLanguage(
            f"{name} cannot transcribe {language_name(code)} ({code or 'empty'}); "
            f"it knows: {', '.join(sorted(languages))}"
        )
    return code


def top_language(probabilities: dict[str, float]) -> tuple[str, float]:
    """The most probable language of a ``language_probabilities`` answer and its probability."""
    code = max(probabilities, key=probabilities.__getitem__)
    return code, float(probabilities[code])


class Transcriber(Protocol):
    name: str
    languages: frozenset[str]  # ISO 639-1 codes it can hear
    can_translate: bool  # True when ``task="translate"`` gives English (multilingual Whisper)
    # how sure ``language_probabilities`` must be for its answer to stand without asking the user
    # (``analysis.language_id.decide``); None where nobody measured the model
    language_thresholds: Thresholds | None
    # the languages ``transcribe_words`` times each word in (empty: it cannot)
    word_times: frozenset[str]

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """Most likely spoken language of 16 kHz mono speech and its probability."""

    def language_probabilities(self, audio: Audio) -> dict[str, float]:
        """The probability of each language the model can tell (ISO 639-1) for 16 kHz mono
        speech, most probable first; ``InputError`` when the model cannot tell languages apart.
        ``detect_language`` is its first pair."""

    def transcribe(self, audio: Audio, language: str, task: str = "transcribe") -> Transcript:
        """Text of 16 kHz mono speech in ``language``. ``task="translate"`` gives English text
        where the model can translate (Whisper); other backends raise ``InputError``."""

    def transcribe_words(self, audio: Audio, language: str) -> list[Word]:
        """The words of 16 kHz mono speech in ``language`` (one of ``word_times``), each with
        its time: what lets a speaker's run of lines be heard in one pass, with the context
        that tells a fragment from a sentence, and shared back out among the lines."""


@dataclass(frozen=True)
class TranslationRequest:
    """One line to translate, with its neighbours as context (never translated themselves)."""

    text: str
    previous: str = ""
    next: str = ""
    max_chars: int | None = None  # a length budget, when the line must fit a slot


class TextTranslator(Protocol):
    name: str
    languages: frozenset[str]
    # True when ``translate_stream`` hands out the translation while it is being generated
    streams: bool

    def translate(
        self, requests: Sequence[TranslationRequest], source: str, target: str
    ) -> list[str]:
        """One translation per request, in order."""

    def translate_with_flags(
        self, requests: Sequence[TranslationRequest], source: str, target: str
    ) -> list[tuple[str, tuple[str, ...]]]:
        """``translate``, each with the reasons to review it that the translator found (e.g.
        ``translation-dropped-negation``); a translator that checks nothing gives ``()``."""

    def translate_stream(
        self, request: TranslationRequest, source: str, target: str,
        on_text: Callable[[str], None],
    ) -> tuple[str, tuple[str, ...]]:
        """``translate_with_flags`` for one request, calling ``on_text`` with the translation
        so far each time it grows (live speech starts on its first clause). Every text given
        is a prefix of the one returned, so what was spoken of it stands; a translator that
        cannot stream calls ``on_text`` once, with the whole."""


@dataclass(frozen=True)
class SpeechTranslation:
    source_text: str
    target_text: str
    speech: Audio | None  # None when the backend gives text only


class SpeechTranslator(Protocol):
    """Direct speech-to-speech translation (SeamlessM4T v2 and the like)."""

    name: str
    source_languages: frozenset[str]
    target_languages: frozenset[str]  # it can speak
    text_languages: frozenset[str]  # it can write (a separate synthesizer speaks them)

    def translate(
        self, audio: Sequence[Audio], source: str | None, target: str
    ) -> list[SpeechTranslation]:
        """Translate a batch of 16 kHz mono segments into ``target``."""

    def translate_text_only(
        self, audio: Sequence[Audio], source: str | None, target: str
    ) -> list[SpeechTranslation]:
        """``translate`` into any of ``text_languages``, text only (``speech`` None)."""
