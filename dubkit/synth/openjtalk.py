"""Open JTalk speech synthesis: an HTS voice driven by pyopenjtalk, Japanese only, fast.

pyopenjtalk's front end turns text into full-context labels and an ``HTSEngine`` of this
synthesizer's own (not pyopenjtalk's global one, so speed and pitch settings of other callers
never leak in) turns them into a waveform: about 0.05 s of CPU per second of speech at 48 kHz
for the packaged ``mei_normal`` voice. HTS draws no random numbers, so the same text gives the
same samples.

Long text runs as several pieces, cut after sentence ends, then clause marks: each is trimmed of
the voice's long edge silence and the pieces are joined with a short pause, so memory and the
time to the first piece stay bounded and every sentence gets the same pause.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from dubkit.dsp import trim_silence
from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable
from dubkit.synth.base import VoiceRequest, check_synthesis_language
from dubkit.types import Audio, Seconds

LOW_SUFFIX = "-low"
_FULL_SCALE = 32768.0  # HTS writes int16-scaled samples as float64
_MAX_CHARS = 100  # about 15 s of speech; longer text runs as several pieces
# Cut after these, once the text is NFKC ("．" is "." by then); not inside "3.5" or "1,000".
_SENTENCE_END = re.compile(r"(?<=[。!?…])|(?<=\.)(?!\d)")
_CLAUSE_END = re.compile(r"(?<=[、;:])|(?<=,)(?!\d)")
_QUIET = ("sil", "pau")  # label phonemes that are not speech
_EDGE_KEEP: Seconds = 0.05  # of the voice's ~0.33 s edge silence, kept on each side of a piece


class OpenJTalkSynthesizer:
    """A ``Synthesizer`` over one Open JTalk HTS voice (``.htsvoice``), Japanese only.

    ``voice_path`` defaults to the ``mei_normal`` voice inside pyopenjtalk-plus. ``speed`` is
    HTS's speaking rate (1.0 as trained) and ``half_tone`` shifts the pitch in semitones.

    It has two voices: the voice itself (its file's stem, "mei_normal"), and ``<stem>-low``, the
    same voice shifted by ``male_half_tone`` semitones, handed to speakers estimated male. The
    variant changes pitch only, not the vocal tract, so it is a lower version of the same
    speaker, not a different one: mei_normal speaks at a median F0 near 355 Hz, its -10
    semitone variant near 200 Hz, both as intelligible to Whisper. ``male_half_tone=0`` gives
    every speaker the voice itself.
    """

    languages = frozenset({"ja"})

    def __init__(
        self,
        voice_path: str | Path | None = None,
        speed: float = 1.0,
        half_tone: float = 0.0,
        male_half_tone: float = -10.0,
        pause: Seconds = 0.25,
        silence: Seconds = 0.2,
        name: str | None = None,
    ) -> None:
        if not 0.5 <= speed <= 2.0:
            raise InputError(f"Open JTalk speed must be in 0.5..2.0, not {speed}")
        if not (-24.0 <= half_tone <= 24.0 and -24.0 <= male_half_tone <= 0.0):
            raise InputError("Open JTalk half_tone must be in -24..24 and male_half_tone in "
                             f"-24..0 semitones, not {half_tone} and {male_half_tone}")
        if pause < 0 or silence <= 0:
            raise InputError("Open JTalk needs pause >= 0 and silence > 0 seconds")
        self._pyopenjtalk = _import_pyopenjtalk()
        path = Path(voice_path) if voice_path is not None else Path(
            self._pyopenjtalk.DEFAULT_HTS_VOICE.decode())
        if not path.is_file():
            raise ModelUnavailable(f"no Open JTalk HTS voice file at {path}")
        from pyopenjtalk.htsengine import HTSEngine

        try:
            self._engine = HTSEngine(str(path).encode())
        except RuntimeError as exc:
            raise ModelUnavailable(f"cannot load the HTS voice {path}: {exc}") from exc
        self.rate = int(self._engine.get_sampling_frequency())  # 48 kHz for mei_normal
        self.voice_path = path
        self.speed, self.half_tone = float(speed), float(half_tone)
        self.pause, self.silence = pause, silence
        self.name = name or f"openjtalk:{path.stem}"
        # voice name -> semitones added to the voice's own pitch
        self._shifts = {path.stem: self.half_tone}
        if male_half_tone:
            self._shifts[path.stem + LOW_SUFFIX] = self.half_tone + float(male_half_tone)
        self._lock = threading.Lock()

    @property
    def voices(self) -> list[str]:
        return list(self._shifts)

    def voice_for(self, request: VoiceRequest) -> str:
        """The lower variant for a speaker estimated male (when there is one), else the voice."""
        self._check(request.language)
        return self.voices[-1] if request.gender == "male" else self.voices[0]

    def stock_voices(self, language: str) -> dict[str, str | None]:
        """The HTS voice and its lowered variant; which gender a voice file is, it does not
        say (the lowered one is what ``voice_for`` gives a speaker estimated male)."""
        self._check(language)
        voices: dict[str, str | None] = {self.voices[0]: None}
        voices.update({v: "male" for v in self.voices[1:]})
        return voices

    def backend_for(self, language: str) -> str:
        """This synthesizer's name, once ``language`` is one it speaks."""
        self._check(language)
        return self.name

    def synthesize(self, text: str, language: str, voice: str) -> Audio:
        """Mono speech at the voice's rate (48 kHz for mei_normal); the same input gives the
        same samples."""
        self._check(language)
        if voice not in self._shifts:
            raise InputError(f"{self.name} has no voice {voice!r}; voices: "
                             f"{', '.join(self.voices)}")
        text = " ".join(unicodedata.normalize("NFKC", text or "").split())
        parts: list[np.ndarray] = []
        with self._lock:  # one engine, configured then run as one step
            for piece in pieces(text):
                samples = self._run(piece, self._shifts[voice])
                if samples is None:
                    continue
                if parts:
                    parts.append(np.zeros(int(round(self.pause * self.rate)), np.float32))
                parts.append(trim_silence(Audio(samples, self.rate), keep=_EDGE_KEEP).samples)
        if not parts:
            return Audio.silence(self.silence, self.rate)
        speech = np.concatenate(parts)  # (samples,) at self.rate
        # HTS overshoots full scale by up to ~1.5 dB on some plosives: scale the line down
        # rather than clip it, so no piece distorts and the pieces keep one level.
        peak = float(np.max(np.abs(speech)))
        if peak > 1.0:
            speech = speech / np.float32(peak)
        return Audio(speech.astype(np.float32), self.rate)

    def _run(self, text: str, half_tone: float) -> np.ndarray | None:
        """One piece through the front end and the engine: ``(samples,)`` float32, or None
        when the piece has nothing to say."""
        if not any(c.isalnum() for c in text):  # spares Open JTalk's "No phoneme" warnings
            return None
        # pyopenjtalk's shared front end (Kokoro reads Japanese through it too) serialises its
        # own calls; only the engine is this synthesizer's.
        labels = self._pyopenjtalk.extract_fullcontext(text)
        if all(_phoneme(label) in _QUIET for label in labels):
            return None
        # synthesize() refreshes the engine, which drops these settings: set them every time.
        self._engine.set_speed(self.speed)
        self._engine.add_half_tone(half_tone)
        try:
            wave = self._engine.synthesize(labels)
        except RuntimeError as exc:
            raise InputError(f"{self.name} cannot synthesize {text[:40]!r}: {exc}") from exc
        return (np.asarray(wave, np.float64) / _FULL_SCALE).astype(np.float32)

    def _check(self, language: str) -> str:
        return check_synthesis_language(self.name, self.languages, language)


def pieces(text: str, limit: int = _MAX_CHARS) -> list[str]:
    """``text`` cut into runs of at most ``limit`` characters: after sentence ends, then clause
    marks, then anywhere, whole sentences packed together while they fit."""
    out: list[str] = []
    for atom in _atoms(text, (_SENTENCE_END, _CLAUSE_END), limit):
        if out and len(out[-1]) + len(atom) <= limit:
            out[-1] += atom
        else:
            out.append(atom)
    return [p.strip() for p in out if p.strip()]


def _atoms(text: str, cuts: tuple[re.Pattern, ...], limit: int) -> list[str]:
    if len(text) <= limit:
        return [text] if text.strip() else []
    if not cuts:
        return [text[i:i + limit] for i in range(0, len(text), limit)]
    return [a for part in cuts[0].split(text) for a in _atoms(part, cuts[1:], limit)]


def _phoneme(label: str) -> str:
    """The current phoneme of a full-context label, ``p1^p2-p3+p4=p5/...``."""
    return label.split("-", 1)[-1].split("+", 1)[0]


def _import_pyopenjtalk() -> Any:
    try:
        import pyopenjtalk
    except ImportError:
        raise BackendUnavailable(
            "openjtalk needs pyopenjtalk-plus: pip install 'dubkit[cpu]' "
            "(or pip install pyopenjtalk-plus)") from None
    return pyopenjtalk
