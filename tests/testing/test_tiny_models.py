"""The tiny random models: complete folders that plain transformers loads offline."""
from __future__ import annotations

import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402

from dubkit.testing.tiny_models import (  # noqa: E402
    DUBKIT_JSON,
    TINY_LANGUAGES,
    build_tiny_t5,
    build_tiny_vits,
    build_tiny_whisper,
    parameter_count,
)

REQUIRED = set("en ja es fr de zh pt it ko ru nl ar hi pl tr".split())
BUILDERS = {"whisper": build_tiny_whisper, "t5": build_tiny_t5, "vits": build_tiny_vits}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    folders, seconds = {}, {}
    for name, build in BUILDERS.items():
        build(root / f"warmup-{name}")  # imports transformers' modules once
        start = time.perf_counter()
        folders[name] = build(root / name)
        seconds[name] = time.perf_counter() - start
    return folders, seconds


def test_claimed_languages_cover_the_tested_ones(built):
    folders, _ = built
    assert REQUIRED <= set(TINY_LANGUAGES)
    for folder in folders.values():
        card = json.loads((folder / DUBKIT_JSON).read_text())
        assert set(card["languages"]) == set(TINY_LANGUAGES)
        assert card["random_weights"] is True


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_small_and_fast(built, name):
    folders, seconds = built
    params = parameter_count(folders[name])
    assert 1_000 < params < 100_000
    assert json.loads((folders[name] / DUBKIT_JSON).read_text())["parameters"] == params
    assert seconds[name] < 3.0
    assert (folders[name] / "model.safetensors").is_file()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builds_are_deterministic(built, tmp_path, name):
    from safetensors.torch import load_file

    folders, _ = built
    again = BUILDERS[name](tmp_path / name)
    first = load_file(str(folders[name] / "model.safetensors"))
    second = load_file(str(again / "model.safetensors"))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_build_leaves_the_global_random_state_alone(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_tiny_t5(tmp_path / "t5")
    assert torch.equal(torch.rand(3), expected)


def test_whisper_folder_loads_with_auto_classes(built):
    from transformers import (
        AutoFeatureExtractor,
        AutoModelForSpeechSeq2Seq,
        AutoProcessor,
        AutoTokenizer,
        GenerationConfig,
    )

    folder = built[0]["whisper"]
    for file in ("config.json", "generation_config.json", "preprocessor_config.json",
                 "tokenizer.json", "tokenizer_config.json"):
        assert (folder / file).is_file(), file
    model = AutoModelForSpeechSeq2Seq.from_pretrained(folder, local_files_only=True)
    assert type(model).__name__ == "WhisperForConditionalGeneration"
    processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
    assert type(processor).__name__ == "WhisperProcessor"
    fe = AutoFeatureExtractor.from_pretrained(folder, local_files_only=True)
    assert fe.feature_size == model.config.num_mel_bins == 80
    assert fe.nb_max_frames == 2 * model.config.max_source_positions

    gen = GenerationConfig.from_pretrained(folder, local_files_only=True)
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    assert gen.is_multilingual is True
    assert gen.decoder_start_token_id == tok.convert_tokens_to_ids("<|startoftranscript|>")
    assert gen.no_timestamps_token_id == tok.convert_tokens_to_ids("<|notimestamps|>")
    assert gen.task_to_id == {
        "transcribe": tok.convert_tokens_to_ids("<|transcribe|>"),
        "translate": tok.convert_tokens_to_ids("<|translate|>"),
    }
    assert set(gen.lang_to_id) == {f"<|{c}|>" for c in TINY_LANGUAGES}
    for token, token_id in gen.lang_to_id.items():
        assert tok.convert_tokens_to_ids(token) == token_id
    for token in ("<|endoftext|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>"):
        assert tok.convert_tokens_to_ids(token) != tok.unk_token_id or token == "<|endoftext|>"
    assert model.config.vocab_size == len(tok)


def test_whisper_tokenizer_is_a_real_byte_level_bpe(built):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(built[0]["whisper"], local_files_only=True)
    assert type(tok).__name__ == "WhisperTokenizer"
    for text in ("the weather in Tokyo", "¿Qué tal? 日本語です"):
        ids = tok(text, add_special_tokens=False).input_ids
        assert tok.decode(ids) == text
    assert len(tok(" the", add_special_tokens=False).input_ids) == 1  # merged
    # Whisper's own prefix logic (language ids follow <|startoftranscript|> in its order)
    tok.set_prefix_tokens(language="japanese", task="translate")
    prefix = tok.convert_ids_to_tokens(tok.prefix_tokens)
    assert prefix == ["<|startoftranscript|>", "<|ja|>", "<|translate|>", "<|notimestamps|>"]
    ids = tok("hello").input_ids
    assert tok.decode(ids, skip_special_tokens=True) == "hello"


def test_t5_folder_loads_with_auto_classes(built):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    folder = built[0]["t5"]
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, local_files_only=True)
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    assert type(model).__name__ == "T5ForConditionalGeneration"
    assert type(tok).__name__ == "ByT5Tokenizer"
    assert model.config.vocab_size == len(tok) == 384
    ids = tok("café", add_special_tokens=False).input_ids
    assert tok.decode(ids) == "café"


def test_vits_folder_loads_with_auto_classes(built):
    from transformers import AutoModel, AutoTokenizer

    folder = built[0]["vits"]
    model = AutoModel.from_pretrained(folder, local_files_only=True)
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    assert type(model).__name__ == "VitsModel"
    assert type(tok).__name__ == "VitsTokenizer"
    assert model.config.sampling_rate == 16_000
    assert model.config.num_speakers == 2
    assert model.config.vocab_size == len(tok.get_vocab())
    assert json.loads((folder / DUBKIT_JSON).read_text())["speakers"] == ["female", "male"]


def test_catalog_builds_through_the_model_resolver(tmp_path, monkeypatch):
    from dubkit.models import resolve_model

    monkeypatch.setenv("DUBKIT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("DUBKIT_MODELS_DIR", raising=False)
    monkeypatch.delenv("DUBKIT_MODEL_TINY_VITS", raising=False)
    resolved = resolve_model("tiny-vits")
    assert resolved.source.startswith("built locally")
    assert (resolved.path / "model.safetensors").is_file()
    assert resolve_model("tiny-vits").path == resolved.path  # built once
