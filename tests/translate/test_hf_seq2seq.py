"""HFSeq2SeqTranslator on tiny random T5 (prompt style) and NLLB-style folders."""
from __future__ import annotations

import inspect
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

pytest.importorskip("torch")
pytest.importorskip("transformers")

from dubkit.errors import UnsupportedLanguage  # noqa: E402
from dubkit.testing.tiny_models import TINY_LANGUAGES, build_tiny_t5  # noqa: E402
from dubkit.translate import hf_seq2seq  # noqa: E402
from dubkit.translate.base import TranslationRequest  # noqa: E402
from dubkit.translate.hf_seq2seq import HFSeq2SeqTranslator  # noqa: E402

LINES = [
    "Good morning, everyone.",
    "",
    "The train to Osaka leaves at nine.",
    "Thanks!",
    "   ",
    "We will meet again next week, after the conference.",
]


def _build_tiny_nllb(folder):
    """An M2M100 model with an NllbTokenizer (FLORES-200 language tokens), as NLLB-200 ships."""
    import torch
    from transformers import (
        GenerationConfig,
        M2M100Config,
        M2M100ForConditionalGeneration,
        NllbTokenizer,
    )

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece in ["▁"] + list("abcdefghijklmnopqrstuvwxyz"):
        vocab[piece] = len(vocab)
    tokenizer = NllbTokenizer(vocab=vocab, merges=[])
    config = M2M100Config(
        vocab_size=len(tokenizer), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, max_position_embeddings=128, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, decoder_start_token_id=2,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = M2M100ForConditionalGeneration(config)
    # NLLB's real generation config sets max_length = 200
    model.generation_config = GenerationConfig(
        decoder_start_token_id=2, bos_token_id=0, eos_token_id=2, pad_token_id=1, max_length=200
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def t5_folder(tmp_path_factory):
    return build_tiny_t5(tmp_path_factory.mktemp("t5") / "tiny-t5")


@pytest.fixture(scope="module")
def t5(t5_folder):
    return HFSeq2SeqTranslator(t5_folder, device="cpu")


@pytest.fixture(scope="module")
def nllb(tmp_path_factory):
    folder = _build_tiny_nllb(tmp_path_factory.mktemp("nllb") / "nllb")
    return HFSeq2SeqTranslator(folder, device="cpu")


def _requests(lines=LINES):
    return [TranslationRequest(t, previous="context", next="more context") for t in lines]


def test_t5_uses_the_prompt_style_and_declared_languages(t5):
    assert t5.style == "prompt"
    assert t5.languages == frozenset(TINY_LANGUAGES)
    assert t5.prompt == "translate {source_name} to {target_name}: {text}"


def test_one_translation_per_request_in_order(t5):
    out = t5.translate(_requests(), "en", "ja")
    assert len(out) == len(LINES)
    assert all(isinstance(t, str) for t in out)
    assert out[1] == "" and out[4] == ""
    assert t5.translate(_requests(), "en", "ja") == out  # greedy: deterministic
    assert t5.translate([], "en", "ja") == []


def test_batching_does_not_change_results(t5_folder, t5):
    single = HFSeq2SeqTranslator(t5_folder, device="cpu", batch_size=1)
    assert single.translate(_requests(), "en", "es") == t5.translate(_requests(), "en", "es")


def test_prompt_reaches_the_tokenizer_and_lengths_are_bounded(t5, monkeypatch):
    prompts, budgets = [], []
    tokenizer, generate = t5.tokenizer, t5.model.generate

    class Spy:
        def __getattr__(self, name):
            return getattr(tokenizer, name)

        def __call__(self, texts, **kwargs):
            prompts.extend(texts)
            return tokenizer(texts, **kwargs)

    def spy_generate(**kwargs):
        budgets.append(kwargs["max_new_tokens"])
        return generate(**kwargs)

    monkeypatch.setattr(t5, "tokenizer", Spy())
    monkeypatch.setattr(t5.model, "generate", spy_generate)
    t5.translate([TranslationRequest("Hello.")], "en", "ja")
    assert prompts == ["translate English to Japanese: Hello."]
    longest = len(b"translate English to Japanese: Hello.") + 1  # bytes + </s>
    assert budgets == [min(t5.max_new_tokens, int(longest * t5.length_ratio) + t5.extra_tokens)]


def test_custom_prompt_and_languages_options(t5_folder):
    tr = HFSeq2SeqTranslator(
        t5_folder, device="cpu", prompt="{source}>{target}: {text}", languages="en, de"
    )
    assert tr.languages == frozenset({"en", "de"})
    assert len(tr.translate(_requests(["Hallo"]), "de", "en")) == 1
    with pytest.raises(UnsupportedLanguage):
        tr.translate(_requests(["Hola"]), "es", "en")


def test_unsupported_language(t5):
    with pytest.raises(UnsupportedLanguage):
        t5.translate(_requests(), "en", "sw")
    with pytest.raises(UnsupportedLanguage):
        t5.translate(_requests(), "xx", "en")


def test_same_language_returns_the_text(t5):
    assert t5.translate(_requests(["Hi there."]), "en", "en") == ["Hi there."]


def test_nllb_style_sets_source_and_forces_the_target_token(nllb, monkeypatch):
    assert nllb.style == "nllb"
    assert {"en", "ja", "es", "fr", "de", "zh", "ar", "hi"} <= nllb.languages
    forced = []
    generate = nllb.model.generate
    monkeypatch.setattr(
        nllb.model, "generate", lambda **k: forced.append(k["forced_bos_token_id"]) or generate(**k)
    )
    out = nllb.translate(_requests(), "en", "ja")
    assert len(out) == len(LINES)
    assert nllb.tokenizer.src_lang == "eng_Latn"
    assert forced and set(forced) == {nllb.tokenizer.convert_tokens_to_ids("jpn_Jpan")}
    nllb.translate(_requests(["hola"]), "es", "ar")
    assert nllb.tokenizer.src_lang == "spa_Latn"
    assert forced[-1] == nllb.tokenizer.convert_tokens_to_ids("arb_Arab")


def test_no_special_case_for_tiny_models():
    assert "tiny" not in inspect.getsource(hf_seq2seq).lower()
