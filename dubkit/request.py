"""What a dubbing job is asked to do: ``DubOptions`` is the one definition of every option of
``dubkit translate``. The CLI's flags (``dubkit.cli.options``) and ``Dubber.translate``'s
keywords are built from its fields, and the pipeline's ``prepare`` checks a request once."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubkit.errors import InputError
from dubkit.jobs.consent import Consent

MODES = ("cascade", "direct", "text-then-tts")
VOICE_MODES = ("keep", "stock")
BACKGROUND_MODES = ("keep", "duck", "drop")


def _option(default: Any, flag: str, help: str, *, choices: tuple[str, ...] | None = None,
            metavar: str | None = None, minimum: int | None = None,
            envvar: str | None = None) -> Any:
    """A field whose metadata says how the CLI spells it (``flag``: ``--x`` or
    ``--x/--no-x``)."""
    return field(default=default, metadata={
        "flag": flag, "help": help, "choices": choices, "metavar": metavar,
        "minimum": minimum, "envvar": envvar})


@dataclass(frozen=True)
class DubOptions:
    """Every option of a translate job, with its default (None: the preset decides)."""

    source_language: str | None = _option(
        None, "--from", "Source language, ISO 639-1; detected when omitted. Giving the "
        "target language itself re-voices the speech without translating it.", metavar="LANG")
    resume: bool = _option(True, "--resume/--no-resume", "Reuse finished work in the job folder.")
    force: bool = _option(False, "--force", "Replace an existing output file.")
    keep_original: bool = _option(True, "--keep-original/--no-keep-original",
                                  "Keep the original audio as a second track (video only).")
    num_speakers: int | None = _option(None, "--num-speakers",
                                       "Number of speakers, if known.", metavar="N", minimum=1)
    voice: str | None = _option(
        None, "--voice", "keep: each line in its speaker's voice (needs consent; the default "
        "where the preset can); stock: the synthesizer's voices.", choices=VOICE_MODES)
    allow_unintelligible_voice: bool = _option(
        False, "--allow-unintelligible-voice", "Dub even when the synthesizer's voice for the "
        "target language was measured unintelligible (a robotic espeak-ng voice).")
    background: str | None = _option(
        None, "--background", "Music and effects: keep them under the dub (separated), duck "
        "the whole original under it, or drop them (default: the preset's).",
        choices=BACKGROUND_MODES)
    mode: str | None = _option(
        None, "--mode", "direct: a speech-to-speech model speaks the translation; "
        "text-then-tts: its text is spoken by the synthesizer; cascade: ASR, text MT, "
        "synthesis (default: the preset's).", choices=MODES)
    watermark_key: str | None = _option(
        None, "--watermark-key", "Secret key of the watermark (default: dubkit's public key). "
        "Env: DUBKIT_WATERMARK_KEY.", metavar="KEY", envvar="DUBKIT_WATERMARK_KEY")
    audio_track: int | None = _option(
        None, "--audio-track", "Which audio track to dub, counted from 0 (default: the one "
        "marked default, else the first). Other tracks are kept after the original.",
        metavar="N", minimum=0)
    target_subtitles: str | None = _option(
        None, "--target-subtitles", "Dub from this translation instead of the translator's: a "
        "subtitle file (SRT, VTT, ASS) in the target language, or track:N for the input's "
        "N-th subtitle stream (from 0). Cues are matched to the lines by time.",
        metavar="FILE|track:N")
    source_subtitles: str | None = _option(
        None, "--source-subtitles", "Take what is said from this transcript instead of the "
        "transcriber's: a subtitle file in the source language, or track:N.",
        metavar="FILE|track:N")
    # stated by --consent FILE, --consent-self or --i-have-consent (dubkit.cli.options)
    consent: Consent | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if value is None or not meta:
                continue
            flag = meta["flag"].split("/")[0]
            if meta["choices"] and value not in meta["choices"]:
                raise InputError(f"{flag} {value!r} is not one of: {', '.join(meta['choices'])}")
            if meta["minimum"] is not None and value < meta["minimum"]:
                raise InputError(f"{flag} must be at least {meta['minimum']}, got {value}")
        if self.watermark_key is not None and not self.watermark_key.strip():
            raise InputError("the watermark key must not be empty")
        if self.consent is not None and not isinstance(self.consent, Consent):
            raise InputError("consent must be a Consent (Consent.from_file(path) reads a "
                             "statement)")

    @staticmethod
    def build(**values: Any) -> DubOptions:
        """Options from keywords; an unknown one is an error naming the known ones. A consent
        may be given as the path of a statement file."""
        known = {f.name for f in dataclasses.fields(DubOptions)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"unknown option {unknown[0]!r}; known: {', '.join(sorted(known))}")
        consent = values.get("consent")
        if consent is not None and not isinstance(consent, Consent):
            values["consent"] = Consent.from_file(consent)
        return DubOptions(**values)


@dataclass(frozen=True)
class DubRequest:
    """One translate job: which file, into which language, written where, and how."""

    input: Path
    output: Path
    target_language: str
    options: DubOptions = DubOptions()


def option_fields() -> list[dataclasses.Field]:
    """The fields of ``DubOptions`` that are flags of their own (all but the consent)."""
    return [f for f in dataclasses.fields(DubOptions) if f.metadata]
