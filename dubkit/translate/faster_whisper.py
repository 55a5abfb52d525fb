"""Whisper through faster-whisper (CTranslate2): the CPU-friendly transcriber.

Takes a CTranslate2 Whisper folder (``model.bin``, ``config.json``, ``tokenizer.json``,
``vocabulary.txt``), as the catalog's ``whisper-base`` and ``whisper-tiny-en`` provide. The
languages come from the folder's tokenizer and vocabulary, so they are known before the weights
load; the weights load once, on first use. Quiet recordings are raised to a -1 dBFS peak before
recognition: Whisper's log-mel features keep an absolute offset, and speech peaking near -45 dBFS
otherwise comes back empty or invented.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dubkit.analysis.language_id import WHISPER_THRESHOLDS
from dubkit.cpu import default_threads
from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable, first_line
from dubkit.languages import NO_SPACE, is_language
from dubkit.translate.base import asr_samples, check_transcription_request, top_language
from dubkit.types import Audio, Transcript, Word

_TOKEN_TO_ISO = {"jw": "jv"}  # Whisper's language tokens that are not ISO 639-1 codes
_ISO_TO_TOKEN = {v: k for k, v in _TOKEN_TO_ISO.items()}
_LANGUAGE_TOKEN = re.compile(r"^<\|([a-z]{2,3})\|>$")
_MULTILINGUAL_VOCAB = 51865  # CTranslate2 treats a Whisper vocabulary this large as multilingual
_REQUIRED = ("model.bin", "config.json", "tokenizer.json")



class FasterWhisperTranscriber:
    """A ``Transcriber`` over a CTranslate2 Whisper folder.

    ``device`` is auto, cpu, cuda or cuda:<index>; ``compute_type`` auto means int8 on the CPU
    and float16 on CUDA. ``cpu_threads`` 0 uses the cores this process may use
    (``$DUBKIT_NUM_THREADS`` overrides). ``vad_filter`` drops non-speech with faster-whisper's
    Silero VAD before decoding; ``normalize`` raises or lowers the peak to -1 dBFS first.
    """

    def __init__(
        self,
        model_path: str | Path,
        device: str = "auto",
        compute_type: str = "auto",
        beam_size: int = 5,
        cpu_threads: int = 0,
        vad_filter: bool = False,
        normalize: bool = True,
        name: str | None = None,
    ) -> None:
        try:
            import ctranslate2
        except ImportError:
            raise BackendUnavailable(
                "faster-whisper needs ctranslate2: pip install 'dubkit[cpu]'"
            ) from None
        from importlib.util import find_spec

        if find_spec("faster_whisper") is None:
            raise BackendUnavailable(
                "faster-whisper is not installed: pip install 'dubkit[cpu]'"
            )
        if beam_size < 1:
            raise InputError(f"beam_size must be at least 1, not {beam_size}")
        if cpu_threads < 0:
            raise InputError(f"cpu_threads must be 0 (automatic) or more, not {cpu_threads}")
        self.path = Path(model_path)
        missing = [f for f in _REQUIRED if not (self.path / f).is_file()]
        if missing:
            raise ModelUnavailable(
                f"{self.path} is not a CTranslate2 Whisper folder: {', '.join(missing)} missing"
            )
        self.name = name or f"faster-whisper:{self.path.name}"
        self.device, self._device_index = _pick_device(ctranslate2, device)
        self.compute_type = _pick_compute_type(ctranslate2, self.device, compute_type)
        self.cpu_threads = cpu_threads or default_threads()
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.normalize = normalize
        self.multilingual, self.languages = _read_languages(self.path)
        self.can_translate = self.multilingual  # task="translate" gives English
        self.word_times = self.languages  # cross-attention alignment, any language it hears
        # measured with Whisper base; larger Whispers are surer, so they are refused less
        self.language_thresholds = WHISPER_THRESHOLDS if self.multilingual else None
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The ``faster_whisper.WhisperModel``, loaded on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        _quiet_logging()
        from faster_whisper import WhisperModel

        try:
            return WhisperModel(
                str(self.path),
                device=self.device,
                device_index=self._device_index,
                compute_type=self.compute_type,
                cpu_threads=self.cpu_threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            reason = first_line(exc)
            raise ModelUnavailable(f"cannot load Whisper from {self.path}: {reason}") from exc

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """Whisper's guess over the first 30 s: the most probable language this model knows
        (ISO 639-1) and its probability. English-only models answer ("en", 1.0)."""
        return top_language(self.language_probabilities(audio))

    def language_probabilities(self, audio: Audio) -> dict[str, float]:
        """Whisper's probability of each language this model knows (ISO 639-1) over the first
        30 s, most probable first; English-only models answer {"en": 1.0}."""
        if not self.multilingual:
            return {"en": 1.0}
        samples = self._prepare(audio)
        if samples.size == 0:
            raise InputError("cannot detect the language of empty audio")
        _, _, ranked = self.model.detect_language(
            samples, vad_filter=self.vad_filter, language_detection_segments=1
        )
        codes = ((_TOKEN_TO_ISO.get(token, token), float(p)) for token, p in ranked)
        return {code: p for code, p in codes if code in self.languages}

    def transcribe(self, audio: Audio, language: str, task: str = "transcribe") -> Transcript:
        """Text of the speech in ``audio`` (16 kHz mono expected; other rates are resampled)
        in ``language``; with ``task="translate"`` English text and ``language`` "en"."""
        code = self._check(language, task)
        return self._transcribe(self._prepare(audio), code, task)

    def transcribe_batch(
        self, audios: Sequence[Audio], language: str, task: str = "transcribe"
    ) -> list[Transcript]:
        """``transcribe`` for each clip, in order. One clip at a time: on 2 CPU cores
        faster-whisper's batched pipeline was no faster and skips the temperature fallback."""
        code = self._check(language, task)
        return [self._transcribe(self._prepare(a), code, task) for a in audios]

    def transcribe_words(self, audio: Audio, language: str) -> list[Word]:
        """The words of the speech in ``audio`` in ``language``, timed by faster-whisper's
        cross-attention alignment (seconds from the start of ``audio``)."""
        code = self._check(language, "transcribe")
        samples = self._prepare(audio)
        if samples.size == 0:
            return []
        return [Word(w.word, float(w.start), float(w.end))
                for s in self._decode(samples, code, "transcribe", word_timestamps=True)
                for w in (s.words or ())]

    def _transcribe(self, samples: np.ndarray, code: str, task: str) -> Transcript:
        out_language = "en" if task == "translate" or not self.multilingual else code
        if samples.size == 0:
            return Transcript("", out_language)
        # Segment texts carry their own leading space where the language uses spaces.
        text = "".join(s.text for s in self._decode(samples, code, task))
        text = "".join(text.split()) if out_language in NO_SPACE else " ".join(text.split())
        return Transcript(text, out_language)

    def _decode(self, samples: np.ndarray, code: str, task: str, word_timestamps: bool = False):
        segments, _info = self.model.transcribe(
            samples,
            language=_ISO_TO_TOKEN.get(code, code) if self.multilingual else "en",
            task=task if self.multilingual else "transcribe",
            beam_size=self.beam_size,
            vad_filter=self.vad_filter,
            word_timestamps=word_timestamps,
            log_progress=False,
        )
        return segments

    def _check(self, language: str, task: str) -> str:
        return check_transcription_request(self.name, self.languages, language, task)

    def _prepare(self, audio: Audio) -> np.ndarray:
        return asr_samples(audio, self.normalize)


def _read_languages(path: Path) -> tuple[bool, frozenset[str]]:
    """(multilingual, ISO 639-1 codes) from the folder's vocabulary and tokenizer, as
    CTranslate2 decides it: a multilingual vocabulary has 51,865 tokens or more (English-only
    ones carry the language tokens too, but cannot use them)."""
    try:
        tokenizer = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
        size = _vocabulary_size(path, tokenizer)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"cannot read the tokenizer of {path}: {exc}") from exc
    if size < _MULTILINGUAL_VOCAB:
        return False, frozenset({"en"})
    codes = set()
    for added in tokenizer.get("added_tokens", ()):
        match = _LANGUAGE_TOKEN.match(added.get("content", ""))
        if match:
            code = _TOKEN_TO_ISO.get(match.group(1), match.group(1))
            if len(code) == 2 and is_language(code):
                codes.add(code)
    return True, frozenset(codes)


def _vocabulary_size(path: Path, tokenizer: dict) -> int:
    if (path / "vocabulary.txt").is_file():
        with open(path / "vocabulary.txt", encoding="utf-8") as f:
            return sum(1 for _ in f)
    if (path / "vocabulary.json").is_file():
        return len(json.loads((path / "vocabulary.json").read_text(encoding="utf-8")))
    ids = [t["id"] for t in tokenizer.get("added_tokens", ())]  # timestamps end the vocabulary
    return max([*tokenizer["model"]["vocab"].values(), *ids]) + 1


def _pick_device(ctranslate2, requested: str) -> tuple[str, int]:
    """("cpu" | "cuda", device index), checked against what CTranslate2 can see."""
    name = (requested or "auto").strip().lower()
    gpus = ctranslate2.get_cuda_device_count()
    if name == "auto":
        return ("cuda", 0) if gpus else ("cpu", 0)
    kind, _, index = name.partition(":")
    if kind not in ("cpu", "cuda") or (index and not index.isdigit()):
        raise InputError(f"unknown device {requested!r}; use auto, cpu, cuda or cuda:<index>")
    if kind == "cuda" and int(index or 0) >= gpus:
        raise InputError(f"device {requested!r} was asked for but CTranslate2 sees {gpus} GPU(s)")
    return kind, int(index or 0)


def _pick_compute_type(ctranslate2, device: str, requested: str) -> str:
    name = (requested or "auto").strip().lower()
    if name == "auto":
        return "float16" if device == "cuda" else "int8"
    supported = sorted(ctranslate2.get_supported_compute_types(device))
    if name not in supported:
        raise InputError(
            f"compute_type {requested!r} is not supported on {device}; use auto, "
            + ", ".join(supported)
        )
    return name


def _quiet_logging() -> None:
    """faster-whisper logs each file's duration and VAD cut at INFO, and CTranslate2 warns about
    compute type conversions on stderr: dubkit reports through its own hooks instead."""
    import ctranslate2

    logging.getLogger("faster_whisper").setLevel(logging.ERROR)
    ctranslate2.set_log_level(logging.ERROR)
