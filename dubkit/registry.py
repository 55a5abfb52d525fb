"""Backends by name: frozen specs, imported lazily, with the pip extra to install when missing.

A preset names a backend per stage and passes options. An option ``model`` names an entry of the
model catalog: it is resolved to a folder and handed to the backend as ``model_path``. An option
``embedder`` names a backend of kind ``embedder`` (or is a table with its backend and options) that
is built first and handed over as an object.
A composite backend (``by-language``, for synthesis and transcription) takes a table ``backends``
of labelled sub-backend tables, built in order and handed over as a list of ``(label, backend)``.
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
    BackendSpec("vad", "silero", "dubkit.analysis.silero_vad:SileroVad", "cpu",
                "Silero VAD (ONNX), level-normalised", ("onnxruntime",)),
    BackendSpec("embedder", "resemblyzer",
                "dubkit.analysis.resemblyzer_embedder:ResemblyzerEmbedder", "cpu",
                "Resemblyzer GE2E speaker embeddings", ("torch",)),
    BackendSpec("embedder", "eres2net", "dubkit.analysis.eres2net_embedder:Eres2NetEmbedder",
                "cpu", "3D-Speaker ERes2Net speaker embeddings (VoxCeleb)", ("torch",)),
    BackendSpec("embedder", "ecapa", "dubkit.analysis.ecapa_embedder:EcapaEmbedder", None,
                "speechbrain ECAPA-TDNN from a local folder", ("speechbrain", "torch")),
    BackendSpec("embedder", "mfcc", "dubkit.analysis.mfcc_embedder:MfccEmbedder", None,
                "MFCC statistics, no model"),
    BackendSpec("diarization", "clustering", "dubkit.analysis.clustering:ClusteringDiarizer", None,
                "speaker embeddings of sliding windows, agglomerative clustering"),
    BackendSpec("transcription", "hf-whisper", "dubkit.translate.hf_whisper:HFWhisperTranscriber",
                "hf", "Whisper through transformers", ("torch", "transformers")),
    BackendSpec("transcription", "by-language", "dubkit.translate.router:TranscriberRouter",
                None, "several transcribers, the first that hears the language wins"),
    BackendSpec("transcription", "faster-whisper",
                "dubkit.translate.faster_whisper:FasterWhisperTranscriber", "cpu",
                "Whisper through CTranslate2 (faster-whisper)", ("faster_whisper",)),
    BackendSpec("transcription", "moonshine", "dubkit.translate.moonshine:MoonshineTranscriber",
                "live", "Moonshine streaming English ASR (ONNX)", ("moonshine_voice",)),
    BackendSpec("translation", "llm", "dubkit.translate.llm:LlamaCppTranslator", "cpu",
                "a local instruction-tuned LLM through llama.cpp (xllamacpp)", ("xllamacpp",)),
    BackendSpec("translation", "hf-seq2seq", "dubkit.translate.hf_seq2seq:HFSeq2SeqTranslator",
                "hf", "sequence-to-sequence text translation through transformers",
                ("torch", "transformers")),
    BackendSpec("speech_translation", "seamless", "dubkit.translate.seamless:SeamlessTranslator",
                "hf", "SeamlessM4T v2 direct speech-to-speech translation through transformers",
                ("torch", "transformers")),
    BackendSpec("voice", "world", "dubkit.synth.convert:WorldVoiceConverter", None,
                "WORLD vocoder: pitch, intonation and spectral envelope moved to the speaker",
                ("pyworld",)),
    BackendSpec("voice", "knn-vc", "dubkit.synth.knn_vc:KnnVoiceConverter", "hf",
                "kNN-VC: each frame rebuilt from the speaker's own WavLM frames, HiFi-GAN "
                "vocoder", ("torch", "transformers")),
    BackendSpec("separation", "conv-tasnet", "dubkit.analysis.separation:ConvTasNetSeparator",
                "cpu", "Conv-TasNet speech/background separation (ONNX)", ("onnxruntime",)),
    BackendSpec("watermark", "layered", "dubkit.watermark.layered:LayeredWatermarker", None,
                "spread-spectrum payload over a band-energy presence mark that survives Opus "
                "and mixing, no model"),
    BackendSpec("watermark", "band-energy", "dubkit.watermark.band_energy:BandEnergyWatermarker",
                None, "keyed band-energy modulation, presence only (no job id), no model"),
    BackendSpec("watermark", "spread-spectrum",
                "dubkit.watermark.spread_spectrum:SpreadSpectrumWatermarker", None,
                "keyed spread-spectrum watermark in the STFT domain, no model"),
    BackendSpec("watermark", "audioseal", "dubkit.watermark.audioseal:AudioSealWatermarker",
                None, "AudioSeal neural watermark from a local checkpoint", ("audioseal", "torch")),
    BackendSpec("synthesis", "by-language", "dubkit.synth.router:LanguageRouter", None,
                "several synthesizers, the first that speaks the language wins"),
    BackendSpec("synthesis", "kokoro", "dubkit.synth.kokoro:KokoroSynthesizer", "cpu",
                "Kokoro-82M (ONNX)", ("onnxruntime", "kokoro_onnx")),
    BackendSpec("synthesis", "openjtalk", "dubkit.synth.openjtalk:OpenJTalkSynthesizer", "cpu",
                "Open JTalk HTS voice (Japanese), fast", ("pyopenjtalk",)),
    BackendSpec("synthesis", "piper", "dubkit.synth.piper:PiperSynthesizer", "cpu",
                "Piper voices (ONNX) with espeak-ng phonemes", ("onnxruntime", "espeakng_loader")),
    BackendSpec("synthesis", "espeak", "dubkit.synth.espeak:EspeakSynthesizer", "cpu",
                "espeak-ng formant synthesis, about 100 languages", ("espeakng_loader",)),
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


def _nested(config: StageConfig) -> list[tuple[str, StageConfig]]:
    """The labelled sub-backends of a composite backend (``[synthesis.backends.<label>]``)."""
    from dubkit.config import StageConfig

    tables = config.options.get("backends", {})
    if not isinstance(tables, dict):
        raise PresetError(f"{config.backend}: 'backends' must be a table of backend tables")
    out = []
    for label, table in tables.items():
        if not isinstance(table, dict) or "backend" not in table:
            raise PresetError(f"{config.backend}: backends.{label} needs a 'backend' key")
        options = dict(table)
        out.append((label, StageConfig(str(options.pop("backend")), options)))
    return out


def _embedder(config: StageConfig) -> StageConfig | None:
    """The embedder a diarization config names: a backend name, or a table with its options."""
    from dubkit.config import StageConfig

    value = config.options.get("embedder")
    if value is None:
        return None
    if isinstance(value, dict):
        if "backend" not in value:
            raise PresetError(f"{config.backend}: the embedder table needs a 'backend' key")
        options = dict(value)
        return StageConfig(str(options.pop("backend")), options)
    return StageConfig(str(value), {})


def check_stage_backends(preset: Preset) -> None:
    """Every stage of ``preset`` names a known backend (nothing is imported)."""
    for stage, config in preset.stages.items():
        get_spec(stage, config.backend)
        embedder = _embedder(config)
        if embedder is not None:
            get_spec("embedder", embedder.backend)
        for _, sub in _nested(config):
            get_spec(stage, sub.backend)


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
    """Catalog names a stage config refers to, its sub-backends' included (for resolution and
    ``dubkit doctor``)."""
    model = config.options.get("model")
    names = set(model.values()) if isinstance(model, dict) else {model} if model else set()
    for _, sub in _nested(config):
        names.update(model_names(sub))
    embedder = _embedder(config)
    if embedder is not None:
        names.update(model_names(embedder))
    return sorted(names)


def voice_models(config: StageConfig, voice: str) -> list[str]:
    """Catalog names of the models that speak ``voice`` in a synthesis stage config: for a
    ``by-language`` synthesizer, those of the sub-backend its label names (``"kokoro/jf_alpha"``:
    ``[synthesis.backends.kokoro]``), nothing when no sub-backend has that label."""
    if config.backend != "by-language":
        return model_names(config)
    label = voice.partition("/")[0]
    return next((model_names(sub) for name, sub in _nested(config) if name == label), [])


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
        options["embedder"] = create_backend("embedder", _embedder(config), models)
    if "backends" in options:
        options["backends"] = [
            (label, create_backend(kind, sub, models)) for label, sub in _nested(config)
        ]
    cls = load_class(spec)
    try:
        return cls(**options)
    except TypeError as exc:
        raise PresetError(f"{kind} backend {spec.name!r} rejected its options: {exc}") from None
