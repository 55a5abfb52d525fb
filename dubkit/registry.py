"""Backends by name: frozen specs, imported lazily, with the pip extra to install when missing.

A preset names a backend per stage and passes options. An option ``model`` names an entry of the
model catalog: it is resolved to a folder and handed to the backend as ``model_path``. An option
``embedder`` names a backend of kind ``embedder`` that is built first and handed over as an object.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dubkit.errors import BackendUnavailable, PresetError

if TYPE_CHECKING:
    from dubkit.config import Preset, StageConfig
    from dubkit.models import ResolvedModel


@dataclass(frozen=True)
class BackendSpec:
    kind: str  # a preset stage name, or "embedder"
    name: str
    target: str  # "module:Class"
    extra: str | None  # the pip extra that brings its libraries, None if core
    description: str
    requires: tuple[str, ...] = ()  # importable modules it needs beyond dubkit's core


_SPECS = (
    BackendSpec("vad", "energy", "dubkit.analysis.energy_vad:EnergyVad", None,
                "adaptive energy detector, no model"),
    BackendSpec("embedder", "mfcc", "dubkit.analysis.mfcc_embedder:MfccEmbedder", None,
                "MFCC statistics, no model"),
    BackendSpec("diarization", "clustering", "dubkit.analysis.clustering:ClusteringDiarizer", None,
                "speaker embeddings of sliding windows, agglomerative clustering"),
    BackendSpec("transcription", "hf-whisper", "dubkit.translate.hf_whisper:HFWhisperTranscriber",
                "hf", "Whisper through transformers", ("torch", "transformers")),
    BackendSpec("translation", "hf-seq2seq", "dubkit.translate.hf_seq2seq:HFSeq2SeqTranslator",
                "hf", "sequence-to-sequence text translation through transformers",
                ("torch", "transformers")),
    BackendSpec("synthesis", "hf-vits", "dubkit.synth.hf_vits:HFVitsSynthesizer", "hf",
                "VITS speech synthesis through transformers", ("torch", "transformers")),
)

BACKENDS: dict[tuple[str, str], BackendSpec] = {}
for _spec in _SPECS:
    if (_spec.kind, _spec.name) in BACKENDS:  # pragma: no cover - a programming error
        raise RuntimeError(f"duplicate backend {_spec.kind}/{_spec.name}")
    BACKENDS[(_spec.kind, _spec.name)] = _spec


def backends_of(kind: str) -> list[str]:
    return sorted(name for k, name in BACKENDS if k == kind)


def get_spec(kind: str, name: str) -> BackendSpec:
    try:
        return BACKENDS[(kind, name)]
    except KeyError:
        raise PresetError(
            f"unknown {kind} backend {name!r}; choices: {', '.join(backends_of(kind))}"
        ) from None


def check_stage_backends(preset: Preset) -> None:
    """Every stage of ``preset`` names a known backend (nothing is imported)."""
    for stage, config in preset.stages.items():
        get_spec(stage, config.backend)
        if "embedder" in config.options:
            get_spec("embedder", str(config.options["embedder"]))


def load_class(spec: BackendSpec) -> type:
    module_name, _, attr = spec.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"pip install 'dubkit[{spec.extra}]'" if spec.extra else "reinstall dubkit"
        raise BackendUnavailable(
            f"{spec.kind} backend {spec.name!r} needs {exc.name or exc}: {hint}"
        ) from None
    return getattr(module, attr)


def model_names(config: StageConfig) -> list[str]:
    """Catalog names a stage config refers to (for resolution and ``dubkit doctor``)."""
    model = config.options.get("model")
    if isinstance(model, dict):  # language -> model name
        return sorted(set(model.values()))
    return [model] if isinstance(model, str) else []


def create_backend(
    kind: str, config: StageConfig, models: dict[str, ResolvedModel]
) -> Any:
    """Build the backend a stage config names. ``models`` maps catalog names to resolved
    folders (see ``model_names``)."""
    spec = get_spec(kind, config.backend)
    options = dict(config.options)
    if "model" in options:
        model = options.pop("model")
        if isinstance(model, dict):
            options["model_path"] = {lang: models[name].path for lang, name in model.items()}
        else:
            options["model_path"] = models[model].path
    if "embedder" in options:
        options["embedder"] = create_backend(
            "embedder", type(config)(str(options["embedder"]), {}), models
        )
    cls = load_class(spec)
    try:
        return cls(**options)
    except TypeError as exc:
        raise PresetError(f"{kind} backend {spec.name!r} rejected its options: {exc}") from None
