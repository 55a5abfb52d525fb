"""The live interpreter: audio in as it arrives, each phrase translated and spoken as soon as it
is final. The steps are the batch job's own (``dubkit.steps``); the stream runner drives them
in two threads (transcribe; translate and speak), so one phrase is heard while the one before
it is still being translated or spoken.

    >>> live = Interpreter(preset="live", to="es", source="en")      # doctest: +SKIP
    >>> live.feed(chunk)             # 16 kHz mono float32, any length   # doctest: +SKIP
    >>> for event in live.events():  # Caption, Speech and Notice     # doctest: +SKIP
    ...     ...
    >>> live.finish()                # the last phrase, then stop        # doctest: +SKIP

Times are seconds of input fed (the stream's own clock): at real-time pace they are wall time.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from dubkit import dsp
from dubkit.analysis.prosody import SegmentProsody
from dubkit.analysis.speaker_profile import SpeakerProfile, build_speaker_profile
from dubkit.backends import StageBackends
from dubkit.config import Preset, load_preset
from dubkit.errors import InputError
from dubkit.jobs.consent import Consent
from dubkit.languages import check_language
from dubkit.live.clauses import clauses, min_clause_chars, settled_clause_end
from dubkit.live.phrases import Phrase, PhraseCutter
from dubkit.registry import model_names, voice_models
from dubkit.runners.stream import Stage, StreamRunner
from dubkit.steps.analysis import LineSpeech, MeasureProsody
from dubkit.steps.speech import ConvertVoice, Speakable, Synthesize, Voicing
from dubkit.steps.text import Sentence, Transcribe, Translate, Utterance
from dubkit.synth.base import VoiceRequest
from dubkit.synth.intelligibility import check_intelligible
from dubkit.translate.base import TranslationRequest
from dubkit.translate.llm_text import join_sentences, split_sentences
from dubkit.types import ANALYSIS_RATE, Audio, Seconds
from dubkit.watermark import Payload

DEFAULT_PRESET = "live"
SPEAKER = "live"  # the one speaker a live session voices
PROFILE_SECONDS: Seconds = 6.0  # speech heard before the voice profile is made
MAX_REVISED_PHRASES = 3  # a caption revision joins at most this many phrases
_SENTENCE_END = tuple(".?!。？！…")
_GREETING = {"en": "Hello.", "es": "Hola.", "ja": "こんにちは。", "fr": "Bonjour.",
             "de": "Hallo.", "zh": "你好。"}


@dataclass(frozen=True)
class Caption:
    """A phrase's text, source and target, at its place in the input. A revision
    (``revises`` not empty) replaces the captions of the phrases it names with one: a sentence
    that ran over two or more phrases translated whole, once the phrase that ends it came. The
    speech already played is never revised."""

    index: int
    start: Seconds
    end: Seconds
    source_text: str
    target_text: str
    revises: tuple[int, ...] = ()


@dataclass(frozen=True)
class Speech:
    """A phrase's translation as speech, ready at ``ready_at`` on the input clock and to be
    played from ``start`` (then, or once the phrase before it has finished: one voice at a
    time). It is watermarked in phase with that timeline, so a recording of the whole session
    carries one continuous mark. ``latency`` is from the end of the phrase's speech to
    ``ready_at``; ``stages`` says where that time went (endpoint: waiting for the pause to
    count as one; queue: waiting for a thread). A phrase's latency is its first part's; its
    ``Caption`` follows its last part."""

    index: int
    audio: Audio
    ready_at: Seconds
    start: Seconds
    latency: Seconds
    stages: dict[str, Seconds]
    part: int = 0  # a long translation is spoken in clauses, each played as soon as it is made


@dataclass(frozen=True)
class Notice:
    """Something the listener should know (a phrase dropped, the language detected)."""

    text: str
    at: Seconds


Event = Caption | Speech | Notice


@dataclass
class _Work:
    """A phrase on its way through the threads, with what each stage added."""

    phrase: Phrase
    released_wall: float  # when the cutter let it go
    released_at: Seconds  # the input clock then
    marks: dict[str, float] = field(default_factory=dict)  # stage -> wall seconds it took
    source_text: str = ""
    target_text: str = ""
    prosody: SegmentProsody | None = None  # the phrase's, when the voice is kept
    wall: float = 0.0  # when the last stage handed it on


class Interpreter:
    """Translates speech fed in chunks; ``events()`` gives captions, speech and notices.

    ``source`` None: the language is detected on the first phrase (a transcriber that can
    detect it is needed) and kept. ``max_phrase`` cuts a phrase that runs on without a pause.
    ``queue`` bounds the phrases waiting to be heard: when translation falls behind, the oldest
    waiting phrase is dropped with a ``Notice``, and so is a phrase that has waited
    ``max_delay`` seconds by the time its translation could start (late speech is worse than
    none for a listener). ``voice`` "keep" (the default where the preset
    has a ``[voice]`` stage and ``consent`` is given) moves the speech to the speaker's voice
    once ``PROFILE_SECONDS`` of their speech have been heard (stock voice until then); it
    profiles whoever speaks, so it is meant for one speaker at the microphone. A target whose
    voice was measured unintelligible is refused unless ``allow_unintelligible_voice``.
    """

    def __init__(self, preset: str | Preset = DEFAULT_PRESET, *, to: str,
                 source: str | None = None, max_phrase: Seconds = 8.0, queue: int = 3,
                 max_delay: Seconds = 10.0, first_words: int | None = None,
                 voice: str | None = None, consent: Consent | None = None,
                 watermark_key: str | None = None, allow_unintelligible_voice: bool = False,
                 backends: StageBackends | None = None) -> None:
        self.preset = preset if isinstance(preset, Preset) else load_preset(preset)
        # sessions one after another may share loaded models (``backends`` of the same preset)
        self.backends = backends if backends is not None else StageBackends(self.preset)
        synth = self.backends.get("synthesis")
        self.target = check_language(to, synth.languages, "target", self.preset.name)
        check_intelligible(synth, self.target, allow_robotic=allow_unintelligible_voice)
        transcriber = self.backends.get("transcription")
        self.source = (check_language(source, transcriber.languages, "source", self.preset.name)
                       if source else None)
        if self.source and self.source != self.target and not self.backends.has("translation"):
            raise InputError(f"preset {self.preset.name!r} has no [translation] stage")
        self.voice = synth.voice_for(VoiceRequest(SPEAKER, self.target))
        self.keep_voice = self._keep_voice(voice, consent)
        self.consent = consent if self.keep_voice else None
        self._heard_speech: list[Audio] = []  # the speaker's phrases until a profile is made
        self._profile: SpeakerProfile | None = None
        self.watermark = self.backends.watermarker(watermark_key)
        self.payload = Payload(secrets.randbits(32))
        self.cutter = PhraseCutter(self.backends.get("vad"), max_phrase)
        self._transcribe = Transcribe(self.backends)
        self._translate = Translate(self.backends)
        self._synthesize = Synthesize(self.backends)
        self._convert = ConvertVoice(self.backends)
        self.max_delay = max_delay
        # a long first clause is cut after so many words (a translation that is not streamed)
        self.first_words = first_words
        self._clause_chars = min_clause_chars(self.target)
        self._previous_source = ""  # context for the next phrase's translation
        self._open: Caption | None = None  # the caption of a sentence not yet ended
        self._open_context = ""  # what was said before the open sentence began
        self._said: dict[str, str] = {}  # the open captions' sentences and their translations
        self._cursor: Seconds = 0.0  # when the speech scheduled so far ends
        self._mark_time = 0.05  # seconds the last watermark embedding took
        self._released = 0  # phrases handed to the threads
        self._settled = 0  # of those, spoken, dropped or found to say nothing
        self.counts = {"heard": 0, "spoken": 0, "silent": 0, "skipped": 0}
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._runner = StreamRunner(
            # translating and speaking share one thread: on two cores, a phrase translated
            # while the one before it is spoken would only slow both down
            [Stage("transcribe", self._hear),
             Stage("translate+speak", self._translate_and_speak)],
            # a phrase heard waits in one place: where it can be dropped
            capacity=queue, on_drop=self._dropped, inner_capacity=1)
        self._closed = False

    def watermark_record(self) -> dict:
        """The session's watermark as a provenance manifest records it (never the key)."""
        from dubkit.watermark import FORMAT_VERSION

        return {"backend": self.watermark.name, "payload": f"{self.payload.job_id:08x}",
                "format": FORMAT_VERSION, "key_id": self.watermark.key_id}

    def warm_up(self) -> None:
        """Load every model now, with one small job each, so that the first phrase is not the
        one that waits for them (seconds, on a CPU)."""
        hush = Audio(np.zeros(ANALYSIS_RATE, np.float32), ANALYSIS_RATE)
        self.backends.get("vad").detect(hush)
        if self.source is not None:
            self._transcribe.process(Utterance("warm-up", 0.0, 1.0, hush, self.source))
            if self.source != self.target:
                self._translate.process(Sentence("text", TranslationRequest("Hello."),
                                                 self.source, self.target))
        speech = self._synthesize.process(Speakable(_GREETING.get(self.target, "1"),
                                                    self.target, self.voice))
        self.watermark.embed(speech.mono(), self.payload)
        if self.keep_voice:
            self.backends.get("voice")  # its models found now, not when the profile is made

    # -- input ---------------------------------------------------------------------------

    @property
    def clock(self) -> Seconds:
        """Seconds of input fed so far."""
        return self.cutter.position

    def feed(self, samples: np.ndarray, rate: int = ANALYSIS_RATE) -> None:
        """The next chunk of input (mono, or channels last; any rate, resampled to 16 kHz)."""
        if self._closed:
            raise InputError("this interpreter was finished; make a new one")
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=1)
        if x.ndim != 1:
            raise InputError(f"feed takes mono samples or (samples, channels), not {x.shape}")
        if not np.all(np.isfinite(x)):
            raise InputError("the input chunk contains NaN or Inf samples")
        if rate != ANALYSIS_RATE:
            x = dsp.resample(Audio(x, rate), ANALYSIS_RATE).samples
        for phrase in self.cutter.feed(x):
            self._release(phrase)

    def finish(self, timeout: float | None = None) -> list[Event]:
        """End of input: the last phrase is translated, then the threads stop. Returns the
        events not yet taken."""
        if not self._closed:
            self._closed = True
            for phrase in self.cutter.flush():
                self._release(phrase)
            self._runner.close(timeout)
        return self.events()

    def stop(self) -> list[Event]:
        """Stop now (Ctrl-C): the phrase in flight may finish, queued ones are dropped."""
        self._closed = True
        self._runner.stop()
        return self.events()

    def events(self) -> list[Event]:
        """Events since the last call, in order."""
        self._runner.poll()  # raises a stage's error here, in the caller's thread
        with self._lock:
            out, self._events = self._events, []
        return out

    # -- the stages ------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Phrases heard but not yet spoken (or dropped)."""
        return self._released - self._settled

    def wait(self, timeout: float = 60.0) -> None:
        """Until every phrase released so far is spoken or dropped: a caller that feeds faster
        than real time (tests, batch use of the live path) keeps the input clock in step."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            self._runner.poll_error()
            time.sleep(0.01)

    def _release(self, phrase: Phrase) -> None:
        self._released += 1
        self.counts["heard"] += 1
        self._runner.put(_Work(phrase, time.perf_counter(), self.clock))

    def _settle(self, outcome: str) -> None:
        """A phrase is done with: ``spoken``, ``silent`` (no words in it) or ``skipped``."""
        with self._lock:
            self._settled += 1
            self.counts[outcome] += 1

    def _dropped(self, work: _Work) -> None:
        self._settle("skipped")
        self._emit(Notice(f"phrase {work.phrase.index + 1} ({work.phrase.start:.1f}-"
                          f"{work.phrase.end:.1f} s) skipped: translation fell behind",
                          self.clock))

    def _hear(self, work: _Work) -> _Work | None:
        started = time.perf_counter()
        phrase = work.phrase
        if self.source is None:
            language, probability = self.backends.get("transcription").detect_language(
                phrase.audio)
            self.source = language
            self._emit(Notice(f"source language: {language} (p={probability:.2f})",
                              self.clock))
        utterance = Utterance(f"live-{self.payload.job_id:08x}", phrase.start, phrase.end,
                              phrase.audio, self.source)
        work.source_text = self._transcribe.process(utterance).strip()
        if not work.source_text:
            self._settle("silent")
            return None
        if self.keep_voice:
            self._learn_voice(phrase)
            work.prosody = MeasureProsody().process(
                LineSpeech(utterance.track_id, "live", phrase.audio, 0.0, phrase.audio.duration))
        return self._handed_on(work, "transcribe", started)

    def _learn_voice(self, phrase: Phrase) -> None:
        """Keep the speaker's phrases until there is enough speech for a voice profile."""
        if self._profile is not None:
            return
        self._heard_speech.append(phrase.audio)
        if sum(a.duration for a in self._heard_speech) < PROFILE_SECONDS:
            return
        try:
            matches_speech = getattr(self.backends.get("voice"), "needs_speaker_speech", False)
            self._profile = build_speaker_profile(self._heard_speech, SPEAKER, None,
                                                  keep_speech=matches_speech)
        except InputError:  # too little voiced speech yet: keep listening
            return
        self._heard_speech = []
        self._emit(Notice("voice profile made: the translation speaks in your voice from now on",
                          self.clock))

    def _translate_and_speak(self, work: _Work) -> None:
        """The phrase translated sentence by sentence (each with the one before as context),
        and each sentence spoken clause by clause as soon as it is translated: the listener
        hears the first clause while the rest is still being translated and synthesized."""
        if time.perf_counter() - work.released_wall > self.max_delay:
            self._dropped(work)
            return
        route = "same" if self.source == self.target else "text"
        context = self._previous_source
        sentences = split_sentences(work.source_text) or [work.source_text]
        translated, part, started = [], 0, time.perf_counter()
        streams = route == "text" and self.backends.get("translation").streams
        for sentence in sentences:
            request = TranslationRequest(sentence, previous=self._previous_source)
            if streams:
                text, part = self._speak_as_translated(work, request, part, started)
            else:
                text = self._translate.process(
                    Sentence(route, request, self.source, self.target)).text.strip()
                if not translated:
                    self._handed_on(work, "translate", started)
                for piece in clauses(text, self._clause_chars,
                                     first_words=None if part else self.first_words):
                    self._speak(work, piece, part)
                    part += 1
            self._previous_source = sentence
            if route != "same":  # kept for the caption revisions, which only translations get
                self._said[sentence] = text
            translated.append(text)
        work.target_text = join_sentences(translated, self.target)
        phrase = work.phrase
        caption = Caption(phrase.index, phrase.start, phrase.end, work.source_text,
                          work.target_text)
        self._emit(caption)
        self._settle("spoken" if part else "silent")
        if route != "same":
            self._revise(caption, context)

    def _speak_as_translated(self, work: _Work, request: TranslationRequest, part: int,
                             started: float) -> tuple[str, int]:
        """One sentence from a translator that streams, each clause spoken as soon as the
        translation holds it whole (the listener hears the first clause while the model still
        writes the rest). Returns the sentence's translation and the next part number."""
        said = 0  # characters of the growing translation already spoken

        def speak(pieces: list[str]) -> None:
            nonlocal part
            for piece in pieces:
                if part == 0:
                    self._handed_on(work, "translate", started)
                self._speak(work, piece, part)
                part += 1

        def grown(text: str) -> None:
            nonlocal said
            cut = settled_clause_end(text, said)
            if cut is None or len(text[said:cut].strip()) < self._clause_chars:
                return
            speak(clauses(text[said:cut], self._clause_chars))
            said = cut

        text, _ = self.backends.get("translation").translate_stream(
            request, self.source, self.target, grown)
        rest = text[said:].strip()
        speak(clauses(rest, self._clause_chars) if rest else [])
        return text.strip(), part

    def _revise(self, caption: Caption, context: str) -> None:
        """When the phrase before this one ended in the middle of a sentence (a pause, or the
        ``max_phrase`` cut), send the captions a revision of the two as one text (``context``:
        the text said before this phrase). A revision must not delay speech: it is made only
        while no phrase waits, and only the sentence the pause cut is translated again (the
        others keep the translation that was spoken)."""
        before, self._open = self._open, None
        joined = caption
        if before is not None and before.index + 1 == caption.index and self.pending == 0:
            joined = self._joined(before, caption)
            self._emit(joined)
        else:
            self._open_context = context
        if not caption.source_text.rstrip().endswith(_SENTENCE_END) and \
                len(joined.revises or (joined.index,)) < MAX_REVISED_PHRASES:
            self._open = joined
        if self._open is None:
            self._said.clear()

    def _joined(self, before: Caption, caption: Caption) -> Caption:
        """``before`` and ``caption`` as one caption. The next phrase's context becomes the
        whole last sentence rather than its end in ``caption``."""
        source = f"{before.source_text} {caption.source_text}"
        texts, previous = [], self._open_context
        for sentence in split_sentences(source) or [source]:
            text = self._said.get(sentence)
            if text is None:
                request = TranslationRequest(sentence, previous=previous)
                text = self._translate.process(
                    Sentence("text", request, self.source, self.target)).text.strip()
                self._said[sentence] = text
            texts.append(text)
            previous = sentence
        self._previous_source = previous
        return Caption(caption.index, before.start, caption.end, source,
                       join_sentences(texts, self.target),
                       (*(before.revises or (before.index,)), caption.index))

    def _speak(self, work: _Work, text: str, part: int) -> None:
        """One clause spoken, marked in phase with the session's timeline and scheduled after
        what plays before it; the phrase's first clause sets its latency."""
        started = time.perf_counter()
        speech = self._synthesize.process(Speakable(text, self.target, self.voice))
        if self._profile is not None:
            speech = self._convert.process(Voicing("live", speech, self._profile, work.prosody))
        speech = speech.mono()
        # it plays from ``start``, marked in phase with it; marking takes a moment, so the start
        # allows for it, and is moved on (and the speech marked again) if it ran over
        marked, start, ready_at = speech, 0, float("inf")
        while ready_at > start / speech.rate:
            now = work.released_at + (time.perf_counter() - work.released_wall)
            start = max(round((now + self._mark_time * 1.5) * speech.rate),
                        round(self._cursor * speech.rate))
            began = time.perf_counter()
            marked = self._marked(speech, start)
            self._mark_time = time.perf_counter() - began
            ready_at = work.released_at + (time.perf_counter() - work.released_wall)
        speech = marked
        self._cursor = (start + speech.num_samples) / speech.rate
        if part == 0:
            self._handed_on(work, "speak", started)
        speech_end = work.phrase.end - self._padding()
        stages = {"endpoint": max(0.0, work.released_at - speech_end), **work.marks}
        stages["queue"] = max(0.0, (ready_at - work.released_at) - sum(work.marks.values()))
        self._emit(Speech(work.phrase.index, speech, ready_at, start / speech.rate,
                          max(0.0, ready_at - speech_end), stages, part))

    def _marked(self, speech: Audio, start: int) -> Audio:
        """``speech`` watermarked as the piece from sample ``start`` of one long marked track."""
        period = self.watermark.period
        lead = start % round(period * speech.rate) if period else 0
        padded = Audio(np.concatenate([np.zeros(lead, np.float32), speech.samples]),
                       speech.rate)
        marked = self.watermark.embed(padded, self.payload)
        return Audio(marked.samples[lead:], speech.rate)

    def _handed_on(self, work: _Work, stage: str, started: float) -> _Work:
        now = time.perf_counter()
        work.marks[stage] = now - started
        work.wall = now
        return work

    def _emit(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    def models_speaking(self) -> list[str]:
        """Catalog names of the models the session's speech comes from: the synthesizer of the
        target language (not every language the preset offers) and the voice converter when
        the speaker's voice is kept."""
        names = voice_models(self.preset.stages["synthesis"], self.voice)
        if self.keep_voice:
            names += model_names(self.preset.stages["voice"])
        return names

    # -- set-up ------------------------------------------------------------------------------

    def _keep_voice(self, voice: str | None, consent: Consent | None) -> bool:
        if voice not in (None, "keep", "stock"):
            raise InputError(f"unknown voice mode {voice!r}; choose keep or stock")
        can = self.backends.has("voice")
        if voice == "keep" and not can:
            raise InputError(f"preset {self.preset.name!r} cannot keep voices (it has no "
                             "[voice] stage); use --voice stock or another preset")
        if voice == "keep" and consent is None:
            raise InputError("keeping your voice needs consent: --consent FILE, --consent-self "
                             "or --i-have-consent")
        return voice != "stock" and can and consent is not None

    def _padding(self) -> Seconds:
        """How far the VAD pads a phrase past its speech (the end the listener hears)."""
        return float(self.backends.get("vad").padding)
