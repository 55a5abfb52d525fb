"""espeak-ng: formant speech in about 130 languages, and the IPA phonemes the neural voices read.

The library and its data come from the ``espeakng-loader`` wheel, so nothing is installed
system-wide; a system ``libespeak-ng``, then an ``espeak-ng`` program on PATH, are the fallbacks.
espeak-ng keeps state in globals that survive ``espeak_Terminate`` (its pitch-flutter index
among them), so the same text would come out a few samples different on every call. Each
synthesis therefore loads a private copy of the library afresh (about 5 ms): same text, same
samples. espeak-ng and phonemizer are GPL-3.0; they are loaded, not bundled.
"""
from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from dubkit.errors import BackendUnavailable, InputError, UnsupportedLanguage
from dubkit.languages import is_language, language_name
from dubkit.synth.base import VoiceRequest
from dubkit.synth.voices import VoiceSpreader
from dubkit.types import Audio, Seconds

FEMALE_VARIANTS = ("f1", "f2", "f3", "f4", "f5")
MALE_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7")

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: espeak_Synth returns when the audio is made
_DONT_EXIT = 0x8000  # espeakINITIALIZE_DONT_EXIT: report errors instead of exiting the process
_CHARS_UTF8, _POS_CHARACTER, _RATE = 1, 1, 1
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)
_lock = threading.Lock()  # espeak-ng is one global state per loaded copy


class _VoiceStruct(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


@dataclass(frozen=True)
class EspeakVoice:
    """One espeak-ng voice: ``name`` is what ``espeak-ng -v`` takes ("en-US", "es", "cmn")."""

    name: str
    title: str  # "English (America)"
    languages: tuple[tuple[str, int], ...]  # (tag, priority); a lower priority is preferred


class _Library:
    """libespeak-ng through ctypes, loaded from a private copy for each synthesis."""

    def __init__(self, lib_path: str, data_path: str | None) -> None:
        self._dir = tempfile.mkdtemp(prefix="dubkit-espeak-")
        atexit.register(shutil.rmtree, self._dir, True)
        self._path = os.path.join(self._dir, "libespeak-ng.so")
        shutil.copy(lib_path, self._path)
        self.data_path = data_path
        self.rate = 22_050

    def _open(self) -> ctypes.CDLL:
        try:
            lib = ctypes.CDLL(self._path)
        except OSError as exc:
            raise BackendUnavailable(f"cannot load libespeak-ng: {exc}") from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, self.data_path and self.data_path.encode(),
                                     _DONT_EXIT)
        if rate <= 0:
            raise BackendUnavailable(f"espeak-ng could not start (data: {self.data_path})")
        self.rate = rate
        return lib

    @staticmethod
    def _close(lib: ctypes.CDLL) -> None:
        import _ctypes

        lib.espeak_Terminate()
        _ctypes.dlclose(lib._handle)  # the next load starts from fresh globals

    def voices(self) -> list[EspeakVoice]:
        with _lock:
            lib = self._open()
            try:
                lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
                found, table = [], lib.espeak_ListVoices(None)
                for i in range(10_000):
                    if not table[i]:
                        break
                    found.append(_voice(table[i].contents))
                return found
            finally:
                self._close(lib)

    def synthesize(self, text: str, voice: str, wpm: int) -> np.ndarray:
        chunks: list[np.ndarray] = []

        def take(wav, count, _events):  # called from inside espeak_Synth
            if count > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            return 0

        callback = _CALLBACK(take)
        data = text.encode("utf-8")
        with _lock:
            lib = self._open()
            try:
                lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
                lib.espeak_SetSynthCallback(callback)
                if lib.espeak_SetVoiceByName(ctypes.c_char_p(voice.encode())) != 0:
                    raise InputError(f"espeak-ng has no voice {voice!r}")
                lib.espeak_SetParameter(_RATE, int(wpm), 0)
                lib.espeak_Synth(ctypes.c_char_p(data), ctypes.c_size_t(len(data) + 1), 0,
                                 _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            finally:
                self._close(lib)
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)  # int16 at self.rate


class _Program:
    """An ``espeak-ng`` program on PATH: one process per synthesis."""

    def __init__(self, exe: str) -> None:
        self.exe, self.data_path, self.rate = exe, None, 22_050

    def voices(self) -> list[EspeakVoice]:
        out = subprocess.run([self.exe, "--voices"], capture_output=True, text=True, check=True)
        found = []
        for line in out.stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 5 and parts[0].isdigit():
                extra = re.findall(r"\((\S+) (\d+)\)", line)
                langs = ((parts[1].lower(), int(parts[0])),) + tuple((t, int(p)) for t, p in extra)
                found.append(EspeakVoice(parts[4].rsplit("/", 1)[-1], parts[3].replace("_", " "),
                                         langs))
        return found

    def synthesize(self, text: str, voice: str, wpm: int) -> np.ndarray:
        import soundfile

        with tempfile.TemporaryDirectory(prefix="dubkit-espeak-") as tmp:
            wav = os.path.join(tmp, "out.wav")
            run = subprocess.run([self.exe, "-v", voice, "-s", str(int(wpm)), "-w", wav, "--stdin"],
                                 input=text.encode("utf-8"), capture_output=True)
            if run.returncode != 0 or not os.path.exists(wav):
                raise InputError(f"espeak-ng failed for voice {voice!r}: "
                                 f"{run.stderr.decode(errors='replace').strip()[:200]}")
            samples, self.rate = soundfile.read(wav, dtype="int16")
        return samples


def _voice(v: _VoiceStruct) -> EspeakVoice:
    """Decode one espeak_VOICE; ``languages`` is (priority byte, NUL-ended tag)* then a 0 byte."""
    langs, at = [], v.languages
    while at and (priority := ctypes.c_ubyte.from_address(at).value):
        tag = ctypes.string_at(at + 1)
        langs.append((tag.decode().lower(), priority))
        at += len(tag) + 2
    ident = (v.identifier or b"").decode()
    return EspeakVoice(ident.rsplit("/", 1)[-1], (v.name or b"").decode().strip(), tuple(langs))


@lru_cache(maxsize=1)
def engine() -> _Library | _Program:
    """The espeak-ng to use: espeakng-loader's library, a system library, or the program."""
    try:
        import espeakng_loader

        return _Library(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())
    except (ImportError, OSError, RuntimeError):
        pass
    system = ctypes.util.find_library("espeak-ng")
    if system:
        return _Library(system, None)
    exe = shutil.which("espeak-ng")
    if exe:
        return _Program(exe)
    raise BackendUnavailable("espeak-ng is missing: pip install espeakng-loader "
                             "(or install the espeak-ng package of your system)")


@lru_cache(maxsize=1)
def iso_voices() -> dict[str, EspeakVoice]:
    """The preferred voice for each ISO 639-1 code espeak-ng speaks: a voice listing the bare
    code before one listing a regional tag ("en-us"), then by espeak's priority, then by name."""
    best: dict[str, tuple[tuple[int, int, str], EspeakVoice]] = {}
    for voice in engine().voices():
        for tag, priority in voice.languages:
            code = tag.split("-")[0]
            if len(code) != 2 or not is_language(code):
                continue
            rank = (tag != code, priority, voice.name)
            if code not in best or rank < best[code][0]:
                best[code] = (rank, voice)
    return {code: voice for code, (_, voice) in sorted(best.items())}


def espeak_languages() -> frozenset[str]:
    """ISO 639-1 codes of the languages espeak-ng has a voice for."""
    return frozenset(iso_voices())


def phoneme_tag(code: str) -> str:
    """The language tag ``phonemize`` takes for ISO code ``code``: the first one espeak-ng's
    preferred voice lists ("fr-fr" for fr, "cmn" for zh, "en-gb" for en); the bare code is not
    always one of them."""
    voice = iso_voices().get(code)
    if voice is None or not voice.languages:
        raise UnsupportedLanguage(f"espeak-ng has no voice for {language_name(code)} ({code})")
    return voice.languages[0][0]


@cache
def _phonemizer(tag: str):
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    try:
        import espeakng_loader
    except ImportError:  # phonemizer then looks for a system espeak-ng
        pass
    else:
        EspeakWrapper.set_library(espeakng_loader.get_library_path())
        EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    return EspeakBackend(tag, preserve_punctuation=True, with_stress=True,
                         language_switch="remove-flags")


def phonemize(text: str, tag: str) -> str:
    """IPA of ``text`` as espeak-ng reads it in language ``tag`` ("en-us", "es"), with stress
    marks and the text's punctuation kept: the input Piper and Kokoro voices were trained on."""
    try:
        backend = _phonemizer(tag)
    except ImportError as exc:
        raise BackendUnavailable(f"espeak phonemes need {exc.name}: "
                                 "pip install phonemizer espeakng-loader") from None
    except RuntimeError as exc:  # phonemizer found no espeak-ng library
        raise BackendUnavailable(f"espeak phonemes: {exc}") from None
    with _lock:
        out = backend.phonemize([text], strip=True, njobs=1)
    return " ".join(out[0].split()) if out else ""


class EspeakSynthesizer:
    """A ``Synthesizer`` over espeak-ng. Robotic, but it speaks nearly every language.

    ``voices`` maps a language to another espeak-ng voice name ({"en": "en-US"}); speakers are
    spread over its female (+f1..f5) and male (+m1..m7) variants by estimated gender. Japanese
    in kanji is read as kana first (pyopenjtalk), since espeak-ng reads kana only.
    """

    def __init__(
        self,
        languages: Sequence[str] | None = None,
        words_per_minute: int = 175,
        voices: Mapping[str, str] | None = None,
        silence: Seconds = 0.2,
        name: str | None = None,
    ) -> None:
        if not 80 <= words_per_minute <= 450:
            raise InputError(f"words_per_minute must be in 80..450, not {words_per_minute}")
        self._engine = engine()
        known = iso_voices()
        self._voices = {code: voice.name for code, voice in known.items()}
        for code, voice in (voices or {}).items():
            self._voices[code.strip().lower()] = voice
        wanted = {c.strip().lower() for c in languages} if languages else set(self._voices)
        missing = sorted(wanted - set(self._voices))
        if missing:
            raise UnsupportedLanguage(f"espeak-ng has no voice for: {', '.join(missing)}")
        self.languages = frozenset(wanted)
        self.wpm = words_per_minute
        self.silence = silence
        self.name = name or "espeak"
        self._spread = VoiceSpreader(female=FEMALE_VARIANTS, male=MALE_VARIANTS)

    @property
    def rate(self) -> int:
        return self._engine.rate

    def voice_for(self, request: VoiceRequest) -> str:
        """``<espeak voice>+<variant>``, e.g. "es+f3"; unknown gender takes a male variant."""
        base = self._voices[self._check(request.language)]
        return f"{base}+{self._spread.pick(request.speaker, request.gender or 'male')}"

    def stock_voices(self, language: str) -> dict[str, str | None]:
        """The language's voice in every female and male variant ("es+f3": female)."""
        base = self._voices[self._check(language)]
        return {**{f"{base}+{v}": "female" for v in FEMALE_VARIANTS},
                **{f"{base}+{v}": "male" for v in MALE_VARIANTS}}

    def backend_for(self, language: str) -> str:
        """This synthesizer's name, once ``language`` is one it speaks."""
        self._check(language)
        return self.name

    def synthesize(self, text: str, language: str, voice: str) -> Audio:
        """Mono speech at espeak-ng's rate (22.05 kHz); the same input gives the same samples."""
        code = self._check(language)
        voice = voice or self._voices[code]
        _check_variant(voice, self._engine.data_path)
        if code == "ja":
            text = _kana(text)
        text = " ".join((text or "").split())
        if not any(c.isalnum() for c in text):
            return Audio.silence(self.silence, self.rate)
        pcm = self._engine.synthesize(text, voice, self.wpm)  # int16 at self.rate
        return Audio(pcm.astype(np.float32) / 32768.0, self.rate)

    def _check(self, language: str) -> str:
        code = (language or "").strip().lower()
        if code not in self.languages:
            raise UnsupportedLanguage(f"{self.name} cannot speak {language_name(code)} "
                                      f"({code or 'empty'}); it speaks {len(self.languages)} "
                                      f"languages: {', '.join(sorted(self.languages))}")
        return code


def _check_variant(voice: str, data_path: str | None) -> None:
    """espeak-ng ignores an unknown "+variant" silently; say so instead."""
    _, _, variant = voice.partition("+")
    if variant and data_path and not (Path(data_path) / "voices" / "!v" / variant).is_file():
        raise InputError(f"espeak-ng has no voice variant {variant!r} (in {voice!r}); "
                         f"try {', '.join(FEMALE_VARIANTS + MALE_VARIANTS)}")


def _kana(text: str) -> str:
    """Japanese text in katakana when pyopenjtalk can read it, else unchanged."""
    if not re.search(r"[\u4e00-\u9fff]", text or ""):
        return text
    try:
        import pyopenjtalk
    except ImportError:
        return text
    return pyopenjtalk.g2p(text, kana=True)
