"""Moonshine: streaming English speech recognition for ``dubkit live``.

Wraps the runtime that ships in moonshine-voice (a C++ library over ONNX Runtime, driven through
its Python ``Transcriber`` and ``Stream``). The runtime cuts speech into lines with its own Silero
VAD; each update decodes the line still open again from its start, and that re-decoding is what
gives partial text. A stream therefore asks for an update once per ``update_interval`` seconds of
audio fed, never per chunk.

The model folder holds ``encoder_model.ort``, ``decoder_model_merged.ort`` and ``tokenizer.bin``,
as the catalog's ``moonshine-tiny-en`` (moonshine-voice 0.1.0) and ``moonshine-base-en``
(moonshine-cpp 0.1.4, run by moonshine-voice's runtime) provide. The runtime must be told the
architecture; it is read from the folder's name unless ``arch`` is given. Base is accurate but
its ``.ort`` decoder runs about 30 times slower per token than tiny's in this runtime (and in
Python onnxruntime 1.32): on 2 cores it cannot keep up with live speech, so tiny is the default.

The models hear English only and cannot tell one language from another, so ``detect_language``
raises ``InputError`` rather than report a probability nobody measured.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dubkit.errors import BackendUnavailable, DubkitError, InputError, ModelUnavailable
from dubkit.translate.base import asr_samples, check_transcription_request
from dubkit.types import ANALYSIS_RATE, Audio, Seconds, Transcript

ARCHES = ("tiny", "base")
CATALOG_NAMES = {"tiny": "moonshine-tiny-en", "base": "moonshine-base-en"}
_FILES = ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin")
_INSTALL = "pip install 'dubkit[live]'"



class MoonshineTranscriber:
    """A ``Transcriber`` over a Moonshine folder, with live streams (``stream()``).

    ``model_path`` defaults to the catalog entry for ``arch`` (tiny when neither is given).
    ``arch`` is "tiny" or "base"; by default it is read from the folder's name. ``update_interval``
    is the seconds of audio a stream takes in between two partial decodes. ``normalize`` raises
    or lowers a whole clip's peak to -1 dBFS before recognition (a stream cannot know its peak in
    advance and is fed as it comes). The weights load once, on first use.
    """

    languages = frozenset({"en"})
    can_translate = False
    language_thresholds = None  # it cannot tell languages apart
    word_times: frozenset[str] = frozenset()  # its lines carry no word times

    def __init__(
        self,
        model_path: str | Path | None = None,
        arch: str | None = None,
        update_interval: Seconds = 0.5,
        normalize: bool = True,
        name: str | None = None,
    ) -> None:
        self._runtime = _import_runtime()
        if arch is not None and arch not in ARCHES:
            raise InputError(f"unknown Moonshine arch {arch!r}; choose one of: {', '.join(ARCHES)}")
        if not update_interval > 0:
            raise InputError(f"update_interval must be above 0 seconds, not {update_interval}")
        if model_path is None:
            from dubkit.models import resolve_model

            arch = arch or "tiny"
            model_path = resolve_model(CATALOG_NAMES[arch]).path
        self.path = Path(model_path)
        missing = [f for f in _FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelUnavailable(
                f"{self.path} is not a Moonshine folder: {', '.join(missing)} missing"
            )
        self.arch = arch or _arch_from_name(self.path)
        self.name = name or f"moonshine:{self.arch}-en"
        self.update_interval = float(update_interval)
        self.normalize = normalize
        self._model = None
        self._load_lock = threading.Lock()
        self._lock = threading.Lock()  # one call into the runtime at a time, streams included

    @property
    def model(self) -> Any:
        """The runtime's ``moonshine_voice.Transcriber``, loaded on first use (touch it before
        a live session to keep the load out of the first phrase)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        arch = getattr(self._runtime.ModelArch, self.arch.upper())
        try:
            return self._runtime.Transcriber(str(self.path), arch)
        except self._runtime.MoonshineError as exc:
            raise ModelUnavailable(f"cannot load Moonshine {self.arch} from {self.path}: {exc}") \
                from exc

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """Not possible: Moonshine's English models cannot tell languages apart. Raises
        ``InputError`` asking for the source language instead of claiming English unheard."""
        raise self._cannot_detect()

    def language_probabilities(self, audio: Audio) -> dict[str, float]:
        """Not possible either: raises ``InputError`` as ``detect_language`` does."""
        raise self._cannot_detect()

    def _cannot_detect(self) -> InputError:
        return InputError(
            f"{self.name} cannot detect the spoken language (it hears English only); "
            "give the source language (en)"
        )

    def transcribe(self, audio: Audio, language: str, task: str = "transcribe") -> Transcript:
        """English text of a whole clip (16 kHz mono expected; other rates are resampled)."""
        self._check(language, task)
        samples = self._prepare(audio)
        if samples.size == 0:
            return Transcript("", "en")
        with self._lock:
            result = self._call(self.model.transcribe_without_streaming, samples.tolist(),
                                ANALYSIS_RATE)
        return Transcript(_join(line.text for line in result.lines), "en")

    def stream(self) -> TranscriptStream:
        """A live phrase to ``feed``; close it (or use it as a context manager) when done."""
        return TranscriptStream(self)

    def _check(self, language: str, task: str) -> None:
        check_transcription_request(self.name, self.languages, language, task)
        if task == "translate":
            raise InputError(f"{self.name} cannot translate speech; use task='transcribe'")

    def _prepare(self, audio: Audio) -> np.ndarray:
        return asr_samples(audio, self.normalize)

    def _call(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` with the runtime's errors as dubkit's. A model of the other arch loads
        fine and fails only here, on the first decode."""
        try:
            return fn(*args)
        except self._runtime.MoonshineError as exc:
            raise DubkitError(
                f"Moonshine {self.arch} failed on {self.path} ({type(exc).__name__}); "
                f"if the folder holds the other architecture, pass arch="
                f"{'base' if self.arch == 'tiny' else 'tiny'!r}"
            ) from exc


@dataclass(frozen=True)
class StreamSnapshot:
    """What a stream has heard so far."""

    lines: tuple[str, ...]  # one per stretch of speech the runtime's VAD found, in order
    open: bool  # the last line may still change (speech has not paused since it began)
    audio: Seconds  # audio fed since the phrase began
    final: bool  # ``finish`` was called

    @property
    def text(self) -> str:
        return _join(self.lines)


class TranscriptStream:
    """One live phrase: ``feed`` 16 kHz float32 mono chunks of any size, read ``partial``, then
    ``finish`` for the final text; ``reset`` starts the next phrase on the same stream."""

    def __init__(self, owner: MoonshineTranscriber) -> None:
        self._owner = owner
        self._interval = max(1, round(owner.update_interval * ANALYSIS_RATE))  # samples
        self._errors: list[Exception] = []
        with owner._lock:
            # An infinite interval stops the runtime's Stream from decoding on its own inside
            # add_audio (and throwing the result away): this class decides when to update.
            self._stream = owner._call(owner.model.create_stream, math.inf)
            self._stream.add_listener(self._on_event)
            owner._call(self._stream.start)
        self._clear()

    def _clear(self) -> None:
        self._lines: tuple[str, ...] = ()
        self._open = False
        self._fed = 0  # samples since the phrase began
        self._pending = 0  # samples since the last decode
        self._final = False

    @property
    def partial(self) -> str:
        """Everything heard so far in this phrase, the open line's guess included."""
        return _join(self._lines)

    def snapshot(self) -> StreamSnapshot:
        return StreamSnapshot(self._lines, self._open, self._fed / ANALYSIS_RATE, self._final)

    def feed(self, samples: np.ndarray) -> str:
        """Add a chunk of 16 kHz float32 mono samples; returns ``partial``, decoded again once
        per ``update_interval`` of audio."""
        if self._final:
            raise InputError("this phrase is finished; call reset() before feeding the next one")
        chunk = _check_chunk(samples)
        if chunk.size:
            with self._owner._lock:
                self._owner._call(self._stream.add_audio, chunk.tolist(), ANALYSIS_RATE)
            self._fed += chunk.size
            self._pending += chunk.size
        if self._pending >= self._interval:
            with self._owner._lock:
                self._take(self._owner._call(self._stream.update_transcription, 0))
        return self.partial

    def finish(self) -> str:
        """The final text of the phrase: the open line is closed and decoded once more."""
        if not self._final:
            with self._owner._lock:
                result = self._owner._call(self._stream.stop)
            self._final = True
            if result is None:  # the runtime's Stream reports a failed last decode as an event
                reason = self._errors[-1] if self._errors else "no transcript"
                raise DubkitError(f"{self._owner.name} failed to finish the phrase: {reason}")
            self._take(result)
        return self.partial

    def reset(self) -> None:
        """Forget the phrase and start a new one (after ``finish`` or in the middle)."""
        with self._owner._lock:
            if not self._final:
                self._owner._call(self._stream.stop)
            self._owner._call(self._stream.start)
        self._errors.clear()
        self._clear()

    def close(self) -> None:
        """Free the runtime's stream; the object cannot be fed afterwards."""
        with self._owner._lock:
            self._stream.close()
        self._final = True

    def __enter__(self) -> TranscriptStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take(self, result: Any) -> None:
        lines = [line for line in result.lines if line.text.strip()]
        self._lines = tuple(line.text.strip() for line in lines)
        self._open = bool(lines) and not lines[-1].is_complete
        self._pending = 0

    def _on_event(self, event: Any) -> None:
        error = getattr(event, "error", None)
        if isinstance(error, Exception):
            self._errors.append(error)


def _check_chunk(samples: np.ndarray) -> np.ndarray:
    chunk = np.asarray(samples)
    if chunk.ndim != 1 or not (chunk.dtype.kind == "f" or chunk.size == 0):
        raise InputError(
            f"feed takes 16 kHz mono float samples as a (samples,) array, not "
            f"{chunk.dtype} of shape {chunk.shape}"
        )
    chunk = chunk.astype(np.float32, copy=False)
    if not np.isfinite(chunk).all():
        raise InputError("feed got NaN or infinite samples")
    return chunk


def _arch_from_name(path: Path) -> str:
    found = [a for a in ARCHES if a in path.name.lower()]
    if len(found) != 1:
        raise InputError(
            f"cannot tell from the folder name {path.name!r} whether it holds Moonshine "
            "tiny or base; pass arch='tiny' or arch='base'"
        )
    return found[0]


def _join(texts: Any) -> str:
    return " ".join(t.strip() for t in texts if t.strip())


def _import_runtime() -> Any:
    try:
        import moonshine_voice
        from moonshine_voice.transcriber import Transcriber
    except ImportError:
        raise BackendUnavailable(f"Moonshine needs moonshine-voice: {_INSTALL}") from None
    return _Runtime(moonshine_voice.ModelArch, Transcriber, moonshine_voice.MoonshineError)


@dataclass(frozen=True)
class _Runtime:
    ModelArch: Any
    Transcriber: Any
    MoonshineError: type[Exception]
