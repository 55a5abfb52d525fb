"""Text translation through transformers' sequence-to-sequence models.

One class serves the usual families, told apart by their tokenizer and config (or ``style``):

- ``prompt``: the task is written into the input, as T5 was trained: ``"translate English to
  German: {text}"`` (the ``prompt`` option, or ``dubkit.json``'s, sets the template).
- ``nllb``: NLLB-200 (``tokenizer.src_lang = "eng_Latn"``, target forced as the first token).
- ``m2m``: M2M100 (``src_lang = "en"``, target token ``__ja__``).
- ``mbart``: mBART-50 many-to-many (``en_XX``, ``ja_XX``).
- ``marian``: OPUS-MT, one pair per model; multi-target models get a ``>>jpn<<`` prefix.

Decoding is greedy and batched; each line may make at most ``length_ratio`` times its input
tokens plus ``extra_tokens`` new tokens, and never more than ``max_new_tokens`` (the option, else
the checkpoint's generation config, else 256).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dubkit.errors import (
    BackendUnavailable,
    InputError,
    ModelUnavailable,
    UnsupportedLanguage,
    first_line,
)
from dubkit.languages import is_language, language_name
from dubkit.translate.base import TranslationRequest

STYLES = ("prompt", "nllb", "m2m", "mbart", "marian")
DEFAULT_PROMPT = "translate {source_name} to {target_name}: {text}"
DEFAULT_MAX_NEW_TOKENS = 256  # unless the option or the generation config says otherwise

# ISO 639-1 codes whose NLLB (FLORES-200) code is not "<ISO 639-3>_<script>" of the same language
# (macrolanguages, a preferred script); the others are found in the tokenizer by their 639-3 code.
NLLB_CODES = {
    "ar": "arb_Arab", "az": "azj_Latn", "et": "est_Latn", "fa": "pes_Arab", "ku": "kmr_Latn",
    "lv": "lvs_Latn", "mg": "plt_Latn", "mn": "khk_Cyrl", "ms": "zsm_Latn", "nb": "nob_Latn",
    "ne": "npi_Deva", "no": "nob_Latn", "om": "gaz_Latn", "ps": "pbt_Arab", "qu": "quy_Latn",
    "sq": "als_Latn", "sr": "srp_Cyrl", "sw": "swh_Latn", "uz": "uzn_Latn", "yi": "ydd_Hebr",
    "zh": "zho_Hans", "en": "eng_Latn", "ja": "jpn_Jpan", "es": "spa_Latn", "fr": "fra_Latn",
    "de": "deu_Latn", "pt": "por_Latn", "it": "ita_Latn", "ko": "kor_Hang", "ru": "rus_Cyrl",
    "nl": "nld_Latn", "hi": "hin_Deva", "pl": "pol_Latn", "tr": "tur_Latn",
}  # fmt: skip

_CARD = "dubkit.json"


class HFSeq2SeqTranslator:
    """A ``TextTranslator`` over an ``AutoModelForSeq2SeqLM`` folder.

    ``languages`` (ISO 639-1) overrides what the model folder says it handles; ``prompt`` is the
    template of the ``prompt`` style, with ``{source_name}``, ``{target_name}`` (English names),
    ``{source}``, ``{target}`` (codes) and ``{text}``.
    """

    def __init__(
        self,
        model_path: str | Path,
        device: str = "auto",
        dtype: str = "auto",
        style: str = "auto",
        prompt: str | None = None,
        languages: Sequence[str] | str | None = None,
        batch_size: int = 8,
        max_new_tokens: int | None = None,
        length_ratio: float = 2.0,
        extra_tokens: int = 16,
        name: str | None = None,
    ) -> None:
        try:
            import torch
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        except ImportError as exc:
            raise BackendUnavailable(
                f"hf-seq2seq needs {exc.name or 'transformers'}: pip install 'dubkit[hf]'"
            ) from None
        from dubkit.torch_device import pick_device, pick_dtype, quiet_hf_loading

        if batch_size < 1 or (max_new_tokens or 1) < 1 or length_ratio <= 0 or extra_tokens < 0:
            raise InputError(
                "batch_size and max_new_tokens must be at least 1, length_ratio above 0 and "
                "extra_tokens at least 0"
            )
        if style != "auto" and style not in STYLES:
            raise InputError(f"unknown style {style!r}; choose auto or one of: {', '.join(STYLES)}")
        self.path = Path(model_path)
        self.name = name or f"hf-seq2seq:{self.path.name}"
        self.batch_size = batch_size
        self.length_ratio = length_ratio
        self.extra_tokens = extra_tokens
        self.device = pick_device(device)
        card = _read_card(self.path)
        self._vocab_cache: dict[str, int] | None = None
        quiet_hf_loading()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            config_type = _model_type(self.path)
            self.dtype = pick_dtype(self.device, dtype)
            if dtype == "auto" and self.dtype == torch.float16 and config_type in _FP16_UNSAFE:
                self.dtype = torch.float32  # T5 overflows in float16
            self.model = AutoModelForSeq2SeqLM.from_pretrained(
                self.path, local_files_only=True, dtype=self.dtype
            )
        except (OSError, ValueError) as exc:
            reason = first_line(exc)
            raise ModelUnavailable(
                f"cannot load a translation model from {self.path}: {reason}"
            ) from exc
        self.model.to(self.device).eval()
        gen = self.model.generation_config
        self.max_new_tokens: int = max_new_tokens or gen.max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        # Lengths are passed on every call; a max_length left in the checkpoint's generation
        # config would only make generate warn.
        gen.max_length = None

        self.style = style if style != "auto" else card.get("style") or self._detect_style()
        self.prompt = prompt or card.get("prompt") or DEFAULT_PROMPT
        self._pair = _marian_pair(self.path) if self.style == "marian" else None
        if isinstance(languages, str):
            languages = [c for c in re.split(r"[,\s]+", languages) if c]
        declared = languages if languages is not None else card.get("languages")
        if declared is not None:
            self.languages = frozenset(c.strip().lower() for c in declared)
        else:
            self.languages = self._languages_from_tokenizer()

    def translate(
        self, requests: Sequence[TranslationRequest], source: str, target: str
    ) -> list[str]:
        """One translation per request, in order. Neighbouring lines are not used: these
        models translate a sentence at a time."""
        source, target = self._check(source, "source"), self._check(target, "target")
        if source == target:
            return [r.text for r in requests]
        out = [""] * len(requests)
        todo = [i for i, r in enumerate(requests) if r.text.strip()]
        todo.sort(key=lambda i: len(requests[i].text), reverse=True)  # less padding per batch
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            texts = self._generate([requests[i].text.strip() for i in batch], source, target)
            for i, text in zip(batch, texts, strict=True):
                out[i] = text
        return out

    def translate_with_flags(
        self, requests: Sequence[TranslationRequest], source: str, target: str
    ) -> list[tuple[str, tuple[str, ...]]]:
        """``translate`` with no flags: this translator checks nothing of its own."""
        return [(text, ()) for text in self.translate(requests, source, target)]

    streams = False  # generate() hands out nothing before it ends

    def translate_stream(self, request: TranslationRequest, source: str, target: str,
                         on_text: Callable[[str], None]) -> tuple[str, tuple[str, ...]]:
        """The whole translation, given to ``on_text`` once it is done."""
        text, flags = self.translate_with_flags([request], source, target)[0]
        on_text(text)
        return text, flags

    def _check(self, code: str, role: str) -> str:
        norm = (code or "").strip().lower()
        allowed = self.languages
        if self._pair is not None:
            allowed = allowed & (self._pair[0] if role == "source" else self._pair[1])
        if norm not in allowed:
            choices = ", ".join(sorted(allowed)) or "none declared (pass the languages option)"
            raise UnsupportedLanguage(
                f"{self.name} cannot translate {'from' if role == 'source' else 'into'} "
                f"{language_name(norm)} ({norm or 'empty'}); {role} languages: {choices}"
            )
        return norm

    def _generate(self, texts: list[str], source: str, target: str) -> list[str]:
        import torch

        tok = self.tokenizer
        kwargs: dict[str, Any] = {}
        if self.style == "prompt":
            texts = [
                self.prompt.format(
                    source=source,
                    target=target,
                    source_name=language_name(source),
                    target_name=language_name(target),
                    text=t,
                )
                for t in texts
            ]
        elif self.style == "marian":
            prefix = self._marian_prefix(target)
            texts = [f"{prefix} {t}" if prefix else t for t in texts]
        else:
            tok.src_lang = self._lang_token(source, for_src_lang=True)
            kwargs["forced_bos_token_id"] = tok.convert_tokens_to_ids(self._lang_token(target))
        limit = tok.model_max_length if tok.model_max_length < 100_000 else None
        batch = tok(
            texts, return_tensors="pt", padding=True, truncation=limit is not None, max_length=limit
        ).to(self.device)
        # Each line may grow to its own budget; cutting every row to it after decoding the batch
        # keeps results independent of which lines share a batch.
        budgets = [
            min(self.max_new_tokens, int(n * self.length_ratio) + self.extra_tokens)
            for n in batch["attention_mask"].sum(dim=1).tolist()
        ]
        with torch.inference_mode():
            generated = self.model.generate(
                **batch, num_beams=1, do_sample=False, max_new_tokens=max(budgets), **kwargs
            )
        # generated[:, 0] is the decoder start token; the new tokens follow it
        rows = [generated[i, 1 : 1 + budget] for i, budget in enumerate(budgets)]
        return [t.strip() for t in tok.batch_decode(rows, skip_special_tokens=True)]

    # -- language codes per style ------------------------------------------------------------

    def _detect_style(self) -> str:
        if _model_type(self.path) == "marian":
            return "marian"
        if self._has_token("eng_Latn"):
            return "nllb"
        if self._has_token("__en__"):
            return "m2m"
        if self._has_token("en_XX"):
            return "mbart"
        return "prompt"

    def _has_token(self, token: str) -> bool:
        return token in self._vocab()

    def _vocab(self) -> dict[str, int]:
        if self._vocab_cache is None:
            self._vocab_cache = self.tokenizer.get_vocab()
        return self._vocab_cache

    def _lang_token(self, code: str, for_src_lang: bool = False) -> str:
        """The tokenizer's token for ``code`` (``src_lang`` takes M2M100's bare code)."""
        vocab = self._vocab()
        if self.style == "nllb":
            token = NLLB_CODES.get(code) or _nllb_guess(code, vocab)
        elif self.style == "m2m":
            token = f"__{code}__"
            if for_src_lang and token in vocab:
                return code
        else:  # mbart
            token = next((t for t in vocab if re.fullmatch(rf"{code}_[A-Z]{{2}}", t)), None)
        if token is None or token not in vocab:
            raise UnsupportedLanguage(f"{self.name} has no language token for {code!r}")
        return token

    def _languages_from_tokenizer(self) -> frozenset[str]:
        vocab = self._vocab()
        if self.style == "nllb":
            codes = set(NLLB_CODES) | {_alpha2(t[:3]) for t in vocab if _NLLB_TOKEN.fullmatch(t)}
            found = set()
            for code in codes:
                if code and is_language(code):
                    token = NLLB_CODES.get(code) or _nllb_guess(code, vocab)
                    if token in vocab:
                        found.add(code)
            return frozenset(found)
        if self.style == "m2m":
            pattern = re.compile(r"__([a-z]{2})__")
        elif self.style == "mbart":
            pattern = re.compile(r"([a-z]{2})_[A-Z]{2}")
        elif self.style == "marian" and self._pair is not None:
            return frozenset(self._pair[0] | self._pair[1])
        else:
            return frozenset()
        return frozenset(
            m.group(1) for t in vocab if (m := pattern.fullmatch(t)) and is_language(m.group(1))
        )

    def _marian_prefix(self, target: str) -> str:
        """``>>jpn<<`` for OPUS-MT models with several target languages, else ""."""
        vocab = self._vocab()
        if not any(t.startswith(">>") and t.endswith("<<") for t in vocab):
            return ""
        alpha3 = _alpha3(target)
        for candidate in (f">>{target}<<", f">>{alpha3}<<"):
            if candidate in vocab:
                return candidate
        raise UnsupportedLanguage(f"{self.name} has no target token for {target!r}")


_FP16_UNSAFE = frozenset({"t5", "mt5", "umt5", "longt5"})
_NLLB_TOKEN = re.compile(r"[a-z]{3}_[A-Z][a-z]{3}")


def _read_card(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / _CARD).read_text())
    except (OSError, ValueError):
        return {}


def _model_type(folder: Path) -> str:
    try:
        return str(json.loads((folder / "config.json").read_text()).get("model_type", ""))
    except (OSError, ValueError):
        return ""


def _alpha3(code: str) -> str | None:
    import pycountry

    lang = pycountry.languages.get(alpha_2=code)
    return getattr(lang, "alpha_3", None)


def _alpha2(code3: str) -> str | None:
    import pycountry

    lang = pycountry.languages.get(alpha_3=code3)
    return getattr(lang, "alpha_2", None)


def _nllb_guess(code: str, vocab: dict[str, int]) -> str | None:
    alpha3 = _alpha3(code)
    if alpha3 is None:
        return None
    return next((t for t in sorted(vocab) if t.startswith(alpha3 + "_") and len(t) == 8), None)


def _marian_pair(folder: Path) -> tuple[frozenset[str], frozenset[str]] | None:
    """Source and target languages from an OPUS-MT name anywhere in the path (the hub cache
    keeps it in ``models--Helsinki-NLP--opus-mt-en-de``), e.g. ({"en"}, {"de"})."""
    match = re.search(r"opus-mt-(?:tc-big-)?([a-z_]+)-([a-z_]+)", str(folder.resolve()))
    if not match:
        return None

    def codes(group: str) -> frozenset[str]:
        out = set()
        for part in group.split("_"):
            code = part if len(part) == 2 else _alpha2(part)
            if code and is_language(code):
                out.add(code)
        return frozenset(out)

    source, target = codes(match.group(1)), codes(match.group(2))
    return (source, target) if source and target else None
