"""Presets: frozen configuration of which backend runs each stage, loaded from TOML files.

A preset is found by name in the built-in folder (``presets/`` in a checkout, ``dubkit/_presets``
in an installed wheel) or in ``$DUBKIT_PRESETS_DIR``, or given as a path to a ``.toml`` file.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from dubkit.errors import PresetError

STAGES = ("vad", "diarization", "transcription", "translation", "speech_translation",
          "synthesis", "voice", "separation", "watermark")
BACKGROUND_MODES = ("keep", "duck", "drop")
DEFAULT_WATERMARK = "layered"  # every preset marks its speech; this unless it names one


@dataclass(frozen=True)
class StageConfig:
    """Which backend runs a stage and the options passed to it."""

    backend: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FitConfig:
    """Timing: first the words (a shorter translation), then the audio (tempo, within bounds)."""

    max_tempo: float = 1.2  # never speed a line up beyond this
    min_tempo: float = 0.85  # a short line is slowed down to fill its slot, at most this much
    shorten_attempts: int = 1  # times the translator is asked for a shorter line that fits
    max_borrow: float = 1.5  # seconds of following silence a line may run into
    max_pause_fill: float = 0.5  # seconds a short line may add to any one of its pauses
    min_pause: float = 0.1  # seconds a long line's pauses may shrink to (never below)


@dataclass(frozen=True)
class MixConfig:
    duck_db: float = -15.0  # the original is lowered by this much while dubbed speech plays
    ramp: float = 0.08  # seconds: ducking fades in and out over this long
    background: str = "auto"  # keep | duck | drop; auto: keep when the preset can separate


@dataclass(frozen=True)
class QaConfig:
    """Thresholds below which a line is listed for review in qa.json."""

    # speaker similarity of a kept-voice line to its speaker (cosine), at least; None: the
    # speaker model's own same-speaker threshold (``same_speaker_threshold``), 0.6 without one
    min_similarity: float | None = None
    min_f0_correlation: float = 0.3  # intonation kept
    max_duration_error: float = 0.1  # dub ends within this share of its slot
    max_overflow: float = 0.1  # seconds
    # what the transcriber hears in a line's dub, against its text; short lines and names make
    # a few errors even in clear speech, unintelligible speech scores 0.6 and more
    max_cer: float = 0.4
    listen: bool = True  # False: no transcription of the dub (saves its cost)


@dataclass(frozen=True)
class SegmentationConfig:
    max_segment: float = 20.0  # seconds: longer turns are split at their longest pause


@dataclass(frozen=True)
class PipelineConfig:
    english_via_asr: bool = False  # into English, let a speech translator (Whisper) do it
    mode: str = "cascade"  # cascade | direct | text-then-tts (the last two need a
    # [speech_translation] stage)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    stages: dict[str, StageConfig]
    fit: FitConfig = FitConfig()
    mix: MixConfig = MixConfig()
    segmentation: SegmentationConfig = SegmentationConfig()
    pipeline: PipelineConfig = PipelineConfig()
    qa: QaConfig = QaConfig()
    source: str = ""  # the file it was read from

    def stage(self, name: str) -> StageConfig | None:
        return self.stages.get(name)

    def to_dict(self) -> dict[str, Any]:
        """The preset as data, safe to write down: a watermark key is replaced by its id."""
        return {
            "name": self.name,
            "description": self.description,
            "stages": {k: {"backend": v.backend, "options": _public_options(v.options)}
                       for k, v in self.stages.items()},
            "fit": asdict(self.fit),
            "mix": asdict(self.mix),
            "segmentation": asdict(self.segmentation),
            "pipeline": asdict(self.pipeline),
            "qa": asdict(self.qa),
        }

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


def _public_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with any secret key replaced by its public id (project.json, provenance and
    fingerprints record presets; a key must never be written)."""
    if "key" not in options:
        return dict(options)
    from dubkit.watermark.base import key_id

    public = {k: v for k, v in options.items() if k != "key"}
    public["key_id"] = key_id(str(options["key"]))
    return public


def builtin_presets_dir() -> Path:
    installed = Path(__file__).parent / "_presets"
    return installed if installed.is_dir() else Path(__file__).parents[1] / "presets"


def _preset_dirs() -> list[Path]:
    dirs = [builtin_presets_dir()]
    if os.environ.get("DUBKIT_PRESETS_DIR"):
        dirs.insert(0, Path(os.environ["DUBKIT_PRESETS_DIR"]).expanduser())
    return dirs


def available_presets() -> dict[str, Path]:
    """Preset name -> file, user presets shadowing built-in ones."""
    found: dict[str, Path] = {}
    for folder in reversed(_preset_dirs()):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                found[path.stem] = path
    return dict(sorted(found.items()))


def load_preset(name_or_path: str | os.PathLike[str]) -> Preset:
    """A preset by name, or from a ``.toml`` file path."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if text.endswith(".toml") or os.sep in text:
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise PresetError(f"preset file {path} {what}; give a .toml file or a preset "
                              f"name ({', '.join(available_presets()) or 'none'})")
    else:
        presets = available_presets()
        if text not in presets:
            raise PresetError(
                f"unknown preset {text!r}; available: {', '.join(presets) or 'none'} "
                "(or give a path to a .toml file)"
            )
        path = presets[text]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PresetError(f"preset file {path} cannot be read: {exc}") from None
    return preset_from_dict(data, default_name=path.stem, source=str(path))


_SECTIONS = {"fit": FitConfig, "mix": MixConfig, "segmentation": SegmentationConfig,
             "pipeline": PipelineConfig, "qa": QaConfig}


def preset_from_dict(data: dict[str, Any], default_name: str, source: str = "") -> Preset:
    """Validate a parsed preset; every error names the accepted keys."""
    data = dict(data)
    name = str(data.pop("name", default_name))
    description = str(data.pop("description", ""))
    stages: dict[str, StageConfig] = {}
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key in STAGES:
            if not isinstance(value, dict) or "backend" not in value:
                raise PresetError(f"preset {name!r}: [{key}] needs a 'backend' key")
            options = dict(value)
            stages[key] = StageConfig(str(options.pop("backend")), options)
        elif key in _SECTIONS:
            cls = _SECTIONS[key]
            try:
                sections[key] = cls(**value)
            except TypeError:
                accepted = ", ".join(cls.__dataclass_fields__)
                raise PresetError(f"preset {name!r}: [{key}] accepts {accepted}") from None
        else:
            accepted = ", ".join(("name", "description", *STAGES, *_SECTIONS))
            raise PresetError(f"preset {name!r}: unknown section {key!r}; accepted: {accepted}")
    for required in ("vad", "diarization", "synthesis"):
        if required not in stages:
            raise PresetError(f"preset {name!r} has no [{required}] section")
    if "transcription" not in stages:
        raise PresetError(f"preset {name!r} has no [transcription] section")
    fit = sections.get("fit", FitConfig())
    if fit.max_tempo < 1.0 or not 0.0 < fit.min_tempo <= 1.0:
        raise PresetError(f"preset {name!r}: fit.max_tempo must be at least 1.0 and "
                          "fit.min_tempo in (0, 1]")
    if min(fit.shorten_attempts, fit.max_borrow, fit.max_pause_fill, fit.min_pause) < 0:
        raise PresetError(f"preset {name!r}: fit.shorten_attempts, fit.max_borrow, "
                          "fit.max_pause_fill and fit.min_pause must be at least 0")
    background = sections.get("mix", MixConfig()).background
    if background not in BACKGROUND_MODES + ("auto",):
        raise PresetError(f"preset {name!r}: mix.background must be auto or one of "
                          f"{', '.join(BACKGROUND_MODES)}")
    stages.setdefault("watermark", StageConfig(DEFAULT_WATERMARK))
    from dubkit.registry import check_stage_backends

    preset = Preset(name, description, stages, source=source, **sections)
    check_stage_backends(preset)
    return preset
