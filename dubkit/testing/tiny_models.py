"""Tiny, randomly initialised transformers models for the ``tiny-test`` preset.

Each builder writes a complete model folder (config, safetensors weights, tokenizer, feature
extractor or processor, generation config) with ``save_pretrained``, so that the backends load it
with exactly the code that loads real checkpoints (``from_pretrained(folder,
local_files_only=True)``). Weights are random, so the models' output is gibberish or noise; the
plumbing around them is real. Builds are deterministic: the same seed gives the same files.

Each folder also holds ``dubkit.json``: what the model claims (its languages), read by the
backends where the transformers files do not say it.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# What every tiny model claims to handle. Whisper's language tokens must sit right after
# <|startoftranscript|> in Whisper's own order (its tokenizer computes their ids from it), so this
# is the first 18 languages of that order, which holds all the languages dubkit is tested on.
TINY_LANGUAGES: tuple[str, ...] = (
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt",
    "tr", "pl", "ca", "nl", "ar", "sv", "it", "id", "hi",
)  # fmt: skip

DUBKIT_JSON = "dubkit.json"
SEED = 0

# A 10 s Whisper window (real Whisper: 30 s) keeps the encoder small and lets tests exercise the
# long-input chunking on short clips.
TINY_WHISPER_CHUNK_SECONDS = 10
TINY_WHISPER_MAX_NEW_TOKENS = 32
TINY_T5_MAX_NEW_TOKENS = 32
TINY_SEAMLESS_MAX_NEW_TOKENS = 12
TINY_SEAMLESS_TEXT_ONLY: tuple[str, ...] = ("el", "he")  # text targets it cannot speak

# Common pairs merged in the tiny byte-level BPE (GPT-2 byte alphabet, "Ġ" is a space).
_MERGES: tuple[tuple[str, str], ...] = (
    ("Ġ", "t"), ("h", "e"), ("i", "n"), ("Ġ", "a"), ("e", "r"), ("o", "n"), ("Ġt", "he"),
    ("r", "e"), ("Ġ", "s"), ("e", "n"), ("a", "t"), ("o", "r"), ("e", "s"), ("Ġ", "d"),
    ("Ġ", "c"), ("a", "n"), ("Ġ", "p"), ("a", "r"), ("Ġ", "e"), ("Ġ", "l"), ("l", "e"),
    ("d", "e"), ("Ġ", "m"), ("o", "u"),
)  # fmt: skip

# VITS characters: a blank/pad, a space, punctuation kept inside words, and the Latin letters used
# by the tiny languages written in Latin script. Anything else is mapped or dropped by the backend.
_VITS_CHARS: tuple[str, ...] = (
    ("<pad>", " ", "'", "-")
    + tuple("abcdefghijklmnopqrstuvwxyz")
    + tuple("áàâäãåçéèêëíìîïñóòôöõúùûüýÿßæœø")
    + tuple("ğışţșțłńśźżąęěčřšžůőű")
)


def build_tiny_whisper(folder: Path, *, chunk_seconds: int = TINY_WHISPER_CHUNK_SECONDS) -> Path:
    """A multilingual WhisperForConditionalGeneration of about 24k parameters, with a real
    byte-level BPE WhisperTokenizer, a WhisperFeatureExtractor (80 mel bins, ``chunk_seconds``
    windows; 30 gives real Whisper's shape) and a generation config that carries the language and
    task maps ``generate`` needs."""
    from transformers import (
        AddedToken,
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    folder = _prepare(folder)
    byte_chars = _bytes_to_unicode()
    vocab = {byte_chars[b]: i for i, b in enumerate(sorted(byte_chars))}
    for a, b in _MERGES:
        vocab.setdefault(a + b, len(vocab))
    specials = (
        ["<|endoftext|>", "<|startoftranscript|>"]
        + [f"<|{code}|>" for code in TINY_LANGUAGES]
        + ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>"]
        + ["<|nospeech|>", "<|notimestamps|>"]
    )
    for token in specials:
        vocab[token] = len(vocab)
    eot, sot = vocab["<|endoftext|>"], vocab["<|startoftranscript|>"]

    max_target_positions = 64
    tokenizer = WhisperTokenizer(
        vocab=dict(vocab), merges=list(_MERGES), model_max_length=max_target_positions
    )
    tokenizer.add_special_tokens(
        {
            "additional_special_tokens": [
                AddedToken(t, special=True, normalized=False, lstrip=False, rstrip=False)
                for t in specials[1:]
            ]
        }
    )
    feature_extractor = WhisperFeatureExtractor(
        feature_size=80,
        sampling_rate=16_000,
        hop_length=160,
        n_fft=400,
        chunk_length=chunk_seconds,
    )
    # conv2 has stride 2: the encoder sees half the mel frames.
    max_source_positions = feature_extractor.nb_max_frames // 2
    config = WhisperConfig(
        vocab_size=len(vocab),
        num_mel_bins=feature_extractor.feature_size,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_source_positions=max_source_positions,
        max_target_positions=max_target_positions,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
    )
    with _quiet(), _seeded(SEED):
        model = WhisperForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=TINY_WHISPER_MAX_NEW_TOKENS,
        is_multilingual=True,
        lang_to_id={f"<|{code}|>": vocab[f"<|{code}|>"] for code in TINY_LANGUAGES},
        task_to_id={"transcribe": vocab["<|transcribe|>"], "translate": vocab["<|translate|>"]},
        no_timestamps_token_id=vocab["<|notimestamps|>"],
        prev_sot_token_id=vocab["<|startofprev|>"],
        begin_suppress_tokens=[vocab["Ġ"], eot],
        alignment_heads=[[0, 0], [0, 1]],
        return_timestamps=False,
        forced_decoder_ids=None,
    )
    with _quiet():
        model.save_pretrained(folder)
        WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer).save_pretrained(
            folder
        )
        # Real checkpoints carry preprocessor_config.json; older transformers read only that.
        feature_extractor.save_pretrained(folder)
    _write_card(folder, "tiny-whisper", "asr", model)
    return folder


def build_tiny_t5(folder: Path) -> Path:
    """A T5ForConditionalGeneration of about 12k parameters over ByT5's byte vocabulary (384),
    prompted like the original T5: ``translate English to German: ...``."""
    from transformers import ByT5Tokenizer, GenerationConfig, T5Config, T5ForConditionalGeneration

    folder = _prepare(folder)
    tokenizer = ByT5Tokenizer()
    config = T5Config(
        vocab_size=384,
        d_model=16,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    with _quiet(), _seeded(SEED):
        model = T5ForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=tokenizer.pad_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        max_new_tokens=TINY_T5_MAX_NEW_TOKENS,  # random weights rarely say </s>
    )
    with _quiet():
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    _write_card(
        folder,
        "tiny-t5",
        "mt",
        model,
        style="prompt",
        prompt="translate {source_name} to {target_name}: {text}",
    )
    return folder


def build_tiny_vits(folder: Path) -> Path:
    """A two-speaker VitsModel of about 10k parameters at 16 kHz with a character VitsTokenizer
    (Latin letters, as MMS-TTS vocabularies are). ``dubkit.json`` names each speaker's gender."""
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder = _prepare(folder)
    vocab = {char: i for i, char in enumerate(_VITS_CHARS)}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1) + "\n")
    tokenizer = VitsTokenizer(
        str(folder / "vocab.json"),
        pad_token="<pad>",
        unk_token="<pad>",
        add_blank=True,
        normalize=True,
        phonemize=False,
        is_uroman=False,
    )
    config = VitsConfig(
        vocab_size=len(vocab),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=16,
        flow_size=8,
        spectrogram_bins=17,
        upsample_initial_channel=16,
        upsample_rates=[8, 8, 4],  # 256 samples a frame, as MMS-TTS at 16 kHz
        upsample_kernel_sizes=[16, 16, 8],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3]],
        depth_separable_num_layers=1,
        duration_predictor_filter_channels=8,
        duration_predictor_num_flows=1,
        duration_predictor_flow_bins=4,
        prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1,
        posterior_encoder_num_wavenet_layers=1,
        wavenet_kernel_size=3,
        num_speakers=2,
        speaker_embedding_size=8,
        sampling_rate=16_000,
        pad_token_id=0,
    )
    with _quiet(), _seeded(SEED):
        model = VitsModel(config).eval()
        # Random weights drive tanh into ±1 square waves; quieter noise is kinder to the
        # loudness and fitting stages downstream.
        model.decoder.conv_post.weight.data.mul_(0.05)
    with _quiet():
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    _write_card(folder, "tiny-vits", "tts", model, speakers=["female", "male"])
    return folder


def build_tiny_seamless(folder: Path) -> Path:
    """A SeamlessM4Tv2Model of about 100k parameters (hidden size 16, one layer per stack) with a
    real SeamlessM4TProcessor (80-bin fbank feature extractor, a letter BPE tokenizer with
    ``__xxx__`` language tokens) and a generation config carrying the language maps and the
    token/character tables that speech generation needs. It speaks the tiny languages and
    writes two more (Greek, Hebrew) as text only, like the real model's 36 speech and 96 text
    targets. Text is always ``TINY_SEAMLESS_MAX_NEW_TOKENS`` tokens long (end and special tokens
    are suppressed), so outputs have a fixed amount of work."""
    from transformers import (
        GenerationConfig,
        SeamlessM4TFeatureExtractor,
        SeamlessM4TProcessor,
        SeamlessM4TTokenizer,
        SeamlessM4Tv2Config,
        SeamlessM4Tv2Model,
    )

    from dubkit.translate.seamless import ISO_TO_SEAMLESS

    folder = _prepare(folder)
    speech = [ISO_TO_SEAMLESS[code] for code in TINY_LANGUAGES]
    text = speech + [ISO_TO_SEAMLESS[code] for code in TINY_SEAMLESS_TEXT_ONLY]
    letters = list("abcdefghijklmnopqrstuvwxyz")
    specials = ["<pad>", "<unk>", "<s>", "</s>"]
    vocab = {token: i for i, token in enumerate(specials + ["\u2581"] + letters)}
    merges = [("\u2581", c) for c in letters]  # "▁a": a letter starting a word
    for a, b in merges:
        vocab[a + b] = len(vocab)
    lang_tokens = [f"__{code}__" for code in text]
    for token in lang_tokens:
        vocab[token] = len(vocab)
    tokenizer = SeamlessM4TTokenizer(vocab=dict(vocab), merges=merges, src_lang="eng",
                                     tgt_lang="fra", additional_special_tokens=lang_tokens)
    chars = specials + ["\u2581"] + letters
    units = 32  # discrete speech units; the real model has 10,000
    t2u_vocab = 4 + units + len(speech)  # control symbols, units, language tokens
    config = SeamlessM4Tv2Config(
        vocab_size=len(vocab), t2u_vocab_size=t2u_vocab, char_vocab_size=len(chars),
        hidden_size=16, max_position_embeddings=1024, t2u_max_position_embeddings=4096,
        encoder_layers=1, encoder_ffn_dim=32, encoder_attention_heads=2,
        decoder_layers=1, decoder_ffn_dim=32, decoder_attention_heads=2,
        speech_encoder_layers=1, speech_encoder_attention_heads=2,
        speech_encoder_intermediate_size=32,
        t2u_encoder_layers=1, t2u_encoder_ffn_dim=32, t2u_encoder_attention_heads=2,
        t2u_decoder_layers=1, t2u_decoder_ffn_dim=32, t2u_decoder_attention_heads=2,
        t2u_variance_predictor_embed_dim=16, t2u_variance_predictor_hidden_dim=16,
        # 320 samples per unit frame at 16 kHz, as the real vocoder; few channels.
        upsample_initial_channel=64, resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
        unit_hifi_gan_vocab_size=t2u_vocab, unit_embed_dim=16, lang_embed_dim=4, spkr_embed_dim=4,
        vocoder_num_langs=len(speech), vocoder_num_spkrs=2, sampling_rate=16_000,
        max_new_tokens=TINY_SEAMLESS_MAX_NEW_TOKENS,
    )
    with _quiet(), _seeded(SEED), _errors_only():
        model = SeamlessM4Tv2Model(config).eval()
        # Random weights drive the vocoder's tanh into square waves; quieter noise is kinder
        # to the loudness and fitting stages downstream (as for tiny-vits).
        model.vocoder.hifi_gan.conv_post.weight.data.mul_(0.05)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=vocab["</s>"], bos_token_id=vocab["<s>"],
        eos_token_id=vocab["</s>"], pad_token_id=vocab["<pad>"],
        max_new_tokens=TINY_SEAMLESS_MAX_NEW_TOKENS,
        # Random weights: keep to letters so every line has characters to speak.
        suppress_tokens=[vocab[t] for t in specials + lang_tokens],
        text_decoder_lang_to_code_id={code: vocab[f"__{code}__"] for code in text},
        t2u_lang_code_to_id={code: 4 + units + i for i, code in enumerate(speech)},
        vocoder_lang_code_to_id={code: i for i, code in enumerate(speech)},
        id_to_text={str(i): token for token, i in vocab.items()},
        char_to_id={c: i for i, c in enumerate(chars)},
    )
    feature_extractor = SeamlessM4TFeatureExtractor(
        feature_size=80, num_mel_bins=80, sampling_rate=16_000, stride=2, padding_value=0.0
    )
    with _quiet():
        model.save_pretrained(folder)
        processor = SeamlessM4TProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)
        processor.save_pretrained(folder)
        feature_extractor.save_pretrained(folder)  # preprocessor_config.json, as real checkpoints
    _write_card(folder, "tiny-seamless", "s2st", model,
                text_languages=list(TINY_LANGUAGES + TINY_SEAMLESS_TEXT_ONLY))
    return folder


# The tiny WavLM's width, which the tiny kNN-VC vocoder's input must match.
TINY_WAVLM_HIDDEN = 16


def build_tiny_wavlm(folder: Path) -> Path:
    """A WavLMModel of about 30k parameters with WavLM Large's shape where kNN-VC depends on it:
    a 320-sample hop (the default conv stack), stable layer norm, and 6 layers (kNN-VC reads the
    sixth)."""
    from transformers import WavLMConfig, WavLMModel

    folder = _prepare(folder)
    config = WavLMConfig(
        hidden_size=TINY_WAVLM_HIDDEN,
        num_hidden_layers=6,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        num_buckets=16,
        max_bucket_distance=50,
    )
    with _quiet(), _seeded(SEED):
        model = WavLMModel(config).eval()
    with _quiet():
        model.save_pretrained(folder)
    _write_card(folder, "tiny-wavlm", "speech-features", model)
    return folder


def build_tiny_knn_vc_hifigan(folder: Path) -> Path:
    """A HiFi-GAN of kNN-VC's layout for the tiny WavLM's frames, stored as kNN-VC's checkpoint
    is (``{"generator": state}``, convolutions weight-normalised as ``weight_g``/``weight_v``),
    so the loader's folding is exercised."""
    import torch

    from dubkit.synth.hifigan import HifiGan

    folder = _prepare(folder)
    config = {
        "resblock": "1",
        "upsample_rates": [10, 8, 2, 2],
        "upsample_kernel_sizes": [20, 16, 4, 4],
        "upsample_initial_channel": 16,
        "resblock_kernel_sizes": [3, 5],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]],
        "hubert_dim": TINY_WAVLM_HIDDEN,
        "hifi_dim": 16,
        "sampling_rate": 16000,
    }
    with _seeded(SEED):
        model = HifiGan(config).eval()
        model.conv_post.weight.data.mul_(0.05)  # quiet noise rather than square waves
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith(".weight") and value.dim() == 3:  # a convolution: split as trained
            stem = key[: -len(".weight")]
            norm = value.flatten(1).norm(dim=1).reshape(-1, 1, 1)
            state[stem + ".weight_g"] = norm.clone()
            state[stem + ".weight_v"] = value.clone()
        else:
            state[key] = value.clone()
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    torch.save({"generator": state}, folder / "generator.pt")
    _write_card(folder, "tiny-knn-vc-hifigan", "vocoder", model)
    return folder


def parameter_count(folder: Path) -> int:
    """Number of parameters stored in a model folder's safetensors files."""
    from safetensors import safe_open

    total = 0
    for file in sorted(Path(folder).glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as f:
            for key in f.keys():
                total += _product(f.get_slice(key).get_shape())
    return total


def _prepare(folder: Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_card(folder: Path, name: str, kind: str, model: Any, **extra: Any) -> None:
    card = {
        "name": name,
        "kind": kind,
        "languages": list(TINY_LANGUAGES),
        "random_weights": True,
        "seed": SEED,
        "parameters": sum(p.numel() for p in model.parameters()),
        "built_by": f"{__name__}",
        **extra,
    }
    (folder / DUBKIT_JSON).write_text(json.dumps(card, indent=2) + "\n")


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


def _product(shape: list[int]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch for the block without changing the caller's random state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def _errors_only() -> Iterator[None]:
    """transformers' advisory warnings off for the block (the caller's level is restored)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No progress bars while building (the caller's setting is restored)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
