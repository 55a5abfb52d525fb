"""VITS speech synthesis through transformers (``VitsModel`` + ``VitsTokenizer``).

MMS-TTS checkpoints (facebook/mms-tts-*) hold one language each, so the model may be one folder
for all the languages it declares, or a mapping ``{language: folder}`` whose models load on first
use. VITS samples noise (durations and latents); it is drawn from a fixed seed, so the same text
and voice always give the same samples.
"""
from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dubkit.errors import (
    BackendUnavailable,
    InputError,
    ModelUnavailable,
    UnsupportedLanguage,
    first_line,
)
from dubkit.languages import is_language, language_name
from dubkit.synth.base import VoiceRequest
from dubkit.synth.voices import VoiceSpreader
from dubkit.types import Audio, Seconds

log = logging.getLogger(__name__)

_CARD = "dubkit.json"
_VOICE = re.compile(r"vits:(?P<model>.*):(?P<speaker>\d+)")


class HFVitsSynthesizer:
    """A ``Synthesizer`` over VITS checkpoint folders.

    ``model_path`` is one folder, or a mapping of ISO 639-1 codes to folders. A single folder's
    languages come from ``languages``, else its ``dubkit.json``, else the tokenizer's ``language``
    (MMS-TTS names one, as ISO 639-3). Text that leaves nothing to say (empty, or only characters
    the model cannot speak) gives ``silence`` seconds of silence.
    """

    def __init__(
        self,
        model_path: str | Path | Mapping[str, str | Path],
        device: str = "auto",
        dtype: str = "float32",
        languages: Sequence[str] | None = None,
        seed: int = 0,
        speaking_rate: float | None = None,
        silence: Seconds = 0.2,
        name: str | None = None,
    ) -> None:
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable(
                f"hf-vits needs {exc.name or 'transformers'}: pip install 'dubkit[hf]'"
            ) from None
        from dubkit.torch_device import pick_device, pick_dtype

        # Half precision is not safe in VITS' spline flows: float32 unless asked otherwise.
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        self.seed = seed
        self.speaking_rate = speaking_rate
        self.silence = silence
        if isinstance(model_path, Mapping):
            self._folders = {
                _norm(lang): Path(folder) for lang, folder in model_path.items()
            }
            label = "+".join(sorted(self._folders))
        else:
            folder = Path(model_path)
            codes = languages if languages is not None else _declared_languages(folder)
            if not codes:
                raise InputError(
                    f"cannot tell which languages the VITS model in {folder} speaks; "
                    "pass the languages option"
                )
            self._folders = {_norm(lang): folder for lang in codes}
            label = folder.name
        bad = sorted(c for c in self._folders if not is_language(c))
        if bad:
            raise UnsupportedLanguage(f"not ISO 639-1 language codes: {', '.join(bad)}")
        self.languages = frozenset(self._folders)
        self.name = name or f"hf-vits:{label}"
        self._loaded: dict[Path, tuple[Any, Any]] = {}
        self._spreaders: dict[Path, VoiceSpreader] = {}  # one per model folder
        self._uroman: Any = None

    def voice_for(self, request: VoiceRequest) -> str:
        """``vits:<folder name>:<speaker id>``. Multi-speaker models pick among the speakers of
        the requested gender (when ``dubkit.json`` names them), distinct speakers first, the
        same speaker for the same speaker label every time (``VoiceSpreader``)."""
        folder = self._folder(request.language)
        spreader = self._spreaders.get(folder)
        if spreader is None:
            voices = self.stock_voices(request.language)
            spreader = self._spreaders.setdefault(folder, VoiceSpreader(
                female=[v for v, g in voices.items() if g == "female"],
                male=[v for v, g in voices.items() if g == "male"], neutral=list(voices)))
        return spreader.pick(request.speaker, request.gender)

    def stock_voices(self, language: str) -> dict[str, str | None]:
        """Every speaker of the language's model, gendered where ``dubkit.json`` says."""
        folder = self._folder(language)
        count = _speaker_count(folder)
        genders = list(_read_card(folder).get("speakers") or [])
        return {f"vits:{folder.name}:{i}": genders[i] if i < len(genders) else None
                for i in range(count)}

    def backend_for(self, language: str) -> str:
        """This synthesizer's name, once ``language`` is one it speaks."""
        self._folder(language)
        return self.name

    def synthesize(self, text: str, language: str, voice: str) -> Audio:
        """Mono speech at the model's sampling rate (16 kHz for MMS-TTS)."""
        import torch

        folder = self._folder(language)
        match = _VOICE.fullmatch(voice or "")
        if match is None:
            raise InputError(f"{voice!r} is not a VITS voice; expected vits:<model>:<speaker>")
        speaker = int(match["speaker"])
        tokenizer, model = self._load(folder)
        rate = int(model.config.sampling_rate)
        if speaker >= model.config.num_speakers:
            raise InputError(
                f"voice {voice!r}: {folder.name} has {model.config.num_speakers} speaker(s)"
            )
        input_ids = self._encode(tokenizer, text)
        if input_ids is None:
            return Audio.silence(self.silence, rate)
        fork = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.inference_mode(), torch.random.fork_rng(devices=fork):
            torch.manual_seed(self.seed)
            out = model(
                input_ids=input_ids.to(self.device),
                speaker_id=speaker if model.config.num_speakers > 1 else None,
            )
        length = int(out.sequence_lengths[0])
        samples = out.waveform[0, :length].float().cpu().numpy()  # (samples,) at `rate`
        return Audio(np.clip(samples, -1.0, 1.0), rate)

    def _folder(self, language: str) -> Path:
        code = _norm(language)
        if code not in self._folders:
            raise UnsupportedLanguage(
                f"{self.name} cannot speak {language_name(code)} ({code or 'empty'}); "
                f"it speaks: {', '.join(sorted(self.languages))}"
            )
        return self._folders[code]

    def _load(self, folder: Path) -> tuple[Any, Any]:
        if folder not in self._loaded:
            from transformers import AutoTokenizer, VitsModel

            from dubkit.torch_device import quiet_hf_loading

            quiet_hf_loading()
            try:
                tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
                model = VitsModel.from_pretrained(folder, local_files_only=True, dtype=self.dtype)
            except (OSError, ValueError) as exc:
                reason = first_line(exc)
                raise ModelUnavailable(f"cannot load VITS from {folder}: {reason}") from exc
            model.to(self.device).eval()
            if self.speaking_rate is not None:
                model.speaking_rate = self.speaking_rate
            self._loaded[folder] = (tokenizer, model)
        return self._loaded[folder]

    def _encode(self, tokenizer: Any, text: str):
        """``(1, tokens)`` ids, or None when nothing sayable is left."""
        text = unicodedata.normalize("NFC", text or "").strip()
        if getattr(tokenizer, "is_uroman", False) and not text.isascii():
            text = self._romanize(text)
        if not getattr(tokenizer, "phonemize", False):
            # Phonemizing tokenizers take plain text; character ones take only their characters.
            text = _speakable(text, tokenizer.get_vocab(), getattr(tokenizer, "normalize", True))
        if not text.strip():
            return None
        try:
            ids = tokenizer(text, return_tensors="pt").input_ids
        except ImportError as exc:  # phonemizer, for the original VITS checkpoints
            raise BackendUnavailable(f"this VITS tokenizer needs {exc.name or exc}") from None
        blank = tokenizer.pad_token_id if getattr(tokenizer, "add_blank", False) else None
        if ids.shape[1] == 0 or all(int(i) == blank for i in ids[0]):
            return None
        return ids

    def _romanize(self, text: str) -> str:
        if self._uroman is None:
            try:
                import uroman

                self._uroman = uroman.Uroman()
            except ImportError:
                log.warning("non-Latin text for an MMS model that expects uroman; "
                            "pip install uroman, or its characters are dropped")
                self._uroman = False
        return self._uroman.romanize_string(text) if self._uroman else text


def _speakable(text: str, vocab: Mapping[str, int], lowercase: bool) -> str:
    """``text`` in the model's characters: kept, lower-cased, stripped of accents the model lacks
    (é -> e), punctuation and spaces made one space, anything else dropped."""
    chars = {t for t in vocab if len(t) == 1}
    space = " " if " " in chars else ""
    out = []
    for c in text.lower() if lowercase else text:
        if c in chars:
            out.append(c)
            continue
        base = "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b))
        if base and all(b in chars for b in base):
            out.append(base)
        elif base.lower() and all(b in chars for b in base.lower()):
            out.append(base.lower())
        elif c.isspace() or unicodedata.category(c)[0] in "PZS":
            out.append(" ")
    return space.join("".join(out).split())


def _norm(code: str) -> str:
    return (code or "").strip().lower()


def _read_card(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / _CARD).read_text())
    except (OSError, ValueError):
        return {}


def _speaker_count(folder: Path) -> int:
    try:
        return max(1, int(json.loads((folder / "config.json").read_text()).get("num_speakers", 1)))
    except (OSError, ValueError, TypeError):
        return 1


def _declared_languages(folder: Path) -> list[str]:
    """``dubkit.json``'s languages, else the MMS tokenizer's ISO 639-3 ``language`` as 639-1."""
    card = _read_card(folder)
    if card.get("languages"):
        return list(card["languages"])
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text())
    except (OSError, ValueError):
        return []
    code = str(config.get("language") or "").strip().lower()
    if len(code) == 2:
        return [code]
    if len(code) == 3:
        import pycountry

        lang = pycountry.languages.get(alpha_3=code)
        if lang is not None and hasattr(lang, "alpha_2"):
            return [lang.alpha_2]
    return []
