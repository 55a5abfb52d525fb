"""Steps with words: transcription of a line's speech, translation of a sentence's text."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dubkit.backends import StageBackends
from dubkit.jobs.cache import content_key
from dubkit.steps.base import JSON, ItemStep, JsonValue
from dubkit.translate import spans
from dubkit.translate.base import TranslationRequest
from dubkit.types import Audio, Seconds

ROUTES = ("same", "asr", "text")  # nothing to translate / Whisper's own translation / text MT


@dataclass(frozen=True)
class Utterance:
    """Speech from ``start`` to ``end`` seconds of the track ``track_id`` (``audio`` holds just
    those samples), and the language it is in (``None``: not known)."""

    track_id: str
    start: Seconds
    end: Seconds
    audio: Audio
    language: str | None


class Transcribe(ItemStep[Utterance, str]):
    """What is said."""

    name = "transcribe"
    codec = JSON

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: Utterance) -> str:
        return content_key("transcribe", item.track_id, item.start, item.end, item.language,
                           self.backends.fingerprint("transcription"))

    def process(self, item: Utterance) -> str:
        return self.backends.get("transcription").transcribe(item.audio, item.language).text


@dataclass(frozen=True)
class Passage:
    """A run of close lines heard in one pass: ``speech`` spans them all (the pauses between
    them included), ``lines`` holds each line's (start, end) on the same track."""

    speech: Utterance
    lines: tuple[tuple[Seconds, Seconds], ...]


class TranscribePassage(ItemStep[Passage, list[str]]):
    """What is said in each line of a passage, for a transcriber that times its words
    (``word_times``). Heard alone, a fragment comes back punctuated as a sentence of its own
    ("ASK NOT!") and its words are guessed without the sentence around them; heard in one pass
    with its neighbours, it is part of the sentence, and each word goes back to the line it was
    spoken in (``spans.words_by_line``). A line no word fell in is heard alone."""

    name = "transcribe"
    codec = JSON

    def __init__(self, backends: StageBackends) -> None:
        self.backends = backends

    def key(self, item: Passage) -> str:
        u = item.speech
        return content_key("transcribe-passage", u.track_id, u.start, u.end, u.language,
                           [list(line) for line in item.lines],
                           self.backends.fingerprint("transcription"))

    def process(self, item: Passage) -> list[str]:
        transcriber = self.backends.get("transcription")
        u = item.speech
        words = transcriber.transcribe_words(u.audio, u.language)
        texts = spans.words_by_line(words, u.start, item.lines)
        for i, (start, end) in enumerate(item.lines):
            if not texts[i]:
                alone = u.audio.slice(start - u.start, end - u.start)
                texts[i] = transcriber.transcribe(alone, u.language).text
        return texts


class HearDub(Transcribe):
    """What a dubbed line says, as the transcriber hears it (``track_id``: its samples' id):
    the QA report's check that the dub is intelligible and says its text."""

    name = "hear"


@dataclass(frozen=True)
class Translated:
    """A machine translation and the reasons to review it (``translation-...`` flags)."""

    text: str
    flags: tuple[str, ...] = ()


class _Translated(JsonValue[Translated]):
    def encode(self, result: Translated) -> Any:
        return {"text": result.text, "flags": list(result.flags)}

    def decode(self, stored: Any) -> Translated:
        return Translated(stored["text"], tuple(stored["flags"]))


@dataclass(frozen=True)
class Sentence:
    """A sentence to translate by ``route``: its text (with context) and, for the ``asr`` route,
    its speech (``utterance``, whose language is the source)."""

    route: str
    request: TranslationRequest
    source: str
    target: str
    utterance: Utterance | None = None


class Translate(ItemStep[Sentence, Translated]):
    """A sentence in the target language. With ``request.max_chars`` it is a rendering under that
    budget (stored apart, as ``shorten``: it is asked for when a line does not fit its time)."""

    codec = _Translated()

    def __init__(self, backends: StageBackends, shorten: bool = False) -> None:
        self.backends = backends
        self.name = "shorten" if shorten else "translate"

    def key(self, item: Sentence) -> str:
        request = item.request
        fingerprint = self.backends.fingerprint(
            "transcription" if item.route == "asr" else "translation")
        if self.name == "shorten":
            return content_key("shorten", request.text, request.previous, request.next,
                               request.max_chars, item.source, item.target, fingerprint)
        u = item.utterance
        where = [u.track_id, u.start, u.end] if item.route == "asr" and u is not None else None
        return content_key("translate", item.route, request.text, request.previous,
                           request.next, item.source, item.target, fingerprint, where)

    def process(self, item: Sentence) -> Translated:
        request = item.request
        if item.route == "same" or not request.text.strip():
            return Translated(request.text)
        if item.route == "asr":
            assert item.utterance is not None, "the asr route translates speech"
            text = self.backends.get("transcription").transcribe(
                item.utterance.audio, item.source, "translate").text
            return Translated(text)
        text, flags = self.backends.get("translation").translate_with_flags(
            [request], item.source, item.target)[0]
        return Translated(text, tuple(flags))
