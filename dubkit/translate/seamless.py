"""Direct speech-to-speech translation with SeamlessM4T v2 through transformers.

One pass per batch: the speech encoder runs once, the text decoder generates the translation
greedily from its output, the non-autoregressive text-to-unit model turns the text into discrete
units and the unit HiFi-GAN speaks them (16 kHz). transformers' own ``generate`` runs the speech
encoder twice and drops the last token of a line cut at ``max_new_tokens``; the stages are
called here one by one instead, which also makes a batched line equal to the same line alone.

Segments are sorted by length and batched up to ``batch_seconds`` of padded audio or
``max_batch`` segments. A segment longer than ``max_segment`` is split at its pauses
(``analysis.longform``), its pieces translated with the rest, and rejoined with the pauses kept.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dubkit.analysis.longform import split_at_pauses
from dubkit.errors import (
    BackendUnavailable,
    InputError,
    ModelUnavailable,
    UnsupportedLanguage,
    first_line,
)
from dubkit.languages import language_name
from dubkit.translate.base import SpeechTranslation
from dubkit.types import ANALYSIS_RATE, Audio

# Seamless' language codes (ISO 639-3, macrolanguage members such as arb, cmn, pes) -> ISO 639-1.
# Codes without a 639-1 equivalent (ary, arz, ceb, ckb, cmn_Hant, fuv, luo, mai, mni, sat, yue,
# zlm) are not offered.
SEAMLESS_TO_ISO: dict[str, str] = dict(pair.split(":") for pair in """
afr:af amh:am arb:ar asm:as azj:az bel:be ben:bn bos:bs bul:bg cat:ca ces:cs cmn:zh cym:cy dan:da
deu:de ell:el eng:en est:et eus:eu fin:fi fra:fr gaz:om gle:ga glg:gl guj:gu heb:he hin:hi hrv:hr
hun:hu hye:hy ibo:ig ind:id isl:is ita:it jav:jv jpn:ja kan:kn kat:ka kaz:kk khk:mn khm:km kir:ky
kor:ko lao:lo lit:lt lug:lg lvs:lv mal:ml mar:mr mkd:mk mlt:mt mya:my nld:nl nno:nn nob:nb npi:ne
nya:ny ory:or pan:pa pbt:ps pes:fa pol:pl por:pt ron:ro rus:ru slk:sk slv:sl sna:sn snd:sd som:so
spa:es srp:sr swe:sv swh:sw tam:ta tel:te tgk:tg tgl:tl tha:th tur:tr ukr:uk urd:ur uzn:uz vie:vi
yor:yo zsm:ms zul:zu""".split())  # fmt: skip
ISO_TO_SEAMLESS: dict[str, str] = {iso: code for code, iso in SEAMLESS_TO_ISO.items()}

_MIN_SECONDS = 0.2  # shorter input has no speech to translate (the adaptor needs ~160 ms)
_CARD = "dubkit.json"


class SeamlessTranslator:
    """A ``SpeechTranslator`` over a SeamlessM4T v2 folder (config, weights, processor files,
    generation config with its language maps). Weights load on first use; the languages are
    read from the folder's JSON files without loading them.

    ``target_languages`` are the speech targets (36 for the real model); ``text_languages``
    the text targets (about 96, used by ``translate_text_only``). ``source_languages`` are the
    text languages too: the speech encoder needs no source language, so it is only checked.
    """

    name = "seamless"

    def __init__(
        self,
        model_path: str | Path,
        device: str = "auto",
        dtype: str = "auto",
        batch_seconds: float = 160.0,
        max_batch: int = 16,
        max_segment: float = 20.0,
        max_new_tokens: int | None = None,
        num_beams: int = 1,
        speaker_id: int = 0,
        transcribe: bool = False,
    ) -> None:
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable(
                f"seamless needs {exc.name or 'transformers'}: pip install 'dubkit[hf]'"
            ) from None
        from dubkit.torch_device import pick_device, pick_dtype

        for label, value, low in (("batch_seconds", batch_seconds, 1.0),
                                  ("max_batch", max_batch, 1), ("max_segment", max_segment, 2.0),
                                  ("num_beams", num_beams, 1)):
            if value < low:
                raise InputError(f"seamless: {label} must be at least {low}, not {value}")
        if max_new_tokens is not None and max_new_tokens < 1:
            raise InputError(f"seamless: max_new_tokens must be at least 1, not {max_new_tokens}")
        self.path = Path(model_path)
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        self.batch_seconds, self.max_batch, self.max_segment = batch_seconds, max_batch, max_segment
        self.max_new_tokens, self.num_beams = max_new_tokens, num_beams
        self.speaker_id, self.transcribe = speaker_id, transcribe

        config = _read_json(self.path, "config.json")
        gen = _read_json(self.path, "generation_config.json")
        text = gen.get("text_decoder_lang_to_code_id") or {}
        speech = set(gen.get("t2u_lang_code_to_id") or {})
        speech &= set(gen.get("vocoder_lang_code_to_id") or {})
        # ISO 639-1 -> Seamless code, for the text targets that have an ISO 639-1 code
        self._codes = {SEAMLESS_TO_ISO[c]: c for c in text if c in SEAMLESS_TO_ISO}
        self.text_languages = frozenset(self._codes)
        self.target_languages = frozenset(i for i, c in self._codes.items() if c in speech)
        card = _read_json(self.path, _CARD, required=False)
        self.source_languages = frozenset(card.get("source_languages") or self.text_languages)
        if not self.target_languages:
            raise ModelUnavailable(
                f"{self.path} has no speech target language in its generation config"
            )
        if not 0 <= speaker_id < int(config.get("vocoder_num_spkrs", 1)):
            raise InputError(
                f"seamless: speaker_id must be below {config.get('vocoder_num_spkrs')}"
            )
        self.sampling_rate = int(config.get("sampling_rate", ANALYSIS_RATE))  # output rate
        self.model: Any = None
        self.processor: Any = None
        self._decoding: Any = None  # generation config for the text decoder

    # ---- public API ------------------------------------------------------------------------

    def load(self) -> None:
        """Load processor and weights now (otherwise the first ``translate`` does)."""
        if self.model is not None:
            return
        from transformers import AutoProcessor, SeamlessM4Tv2ForSpeechToSpeech

        from dubkit.torch_device import quiet_hf_loading

        quiet_hf_loading()
        try:
            self.processor = AutoProcessor.from_pretrained(self.path, local_files_only=True)
            model = SeamlessM4Tv2ForSpeechToSpeech.from_pretrained(
                self.path, local_files_only=True, dtype=self.dtype
            )
        except (OSError, ValueError) as exc:
            reason = first_line(exc)
            raise ModelUnavailable(
                f"cannot load SeamlessM4T v2 from {self.path}: {reason}"
            ) from exc
        self.model = model.to(self.device).eval()
        self._decoding = decoding_config(self.model)

    def translate(
        self, audio: Sequence[Audio], source: str | None, target: str
    ) -> list[SpeechTranslation]:
        """Speech and text in ``target`` for each segment (any rate; 16 kHz mono expected), in
        order. ``source_text`` is filled only with ``transcribe=True``. A segment shorter than
        0.2 s, or one the model translates to no text, gives empty text and empty speech."""
        tgt = self._check(source, target, self.target_languages, "speak")
        return self._translate(audio, source, tgt, speech=True)

    def translate_text_only(
        self, audio: Sequence[Audio], source: str | None, target: str
    ) -> list[SpeechTranslation]:
        """Like ``translate`` but text only (``speech`` is None): for any of ``text_languages``,
        to be spoken by a separate synthesizer."""
        tgt = self._check(source, target, self.text_languages, "translate speech into")
        return self._translate(audio, source, tgt, speech=False)

    # ---- internals -------------------------------------------------------------------------

    def _check(self, source: str | None, target: str, allowed: frozenset[str], verb: str) -> str:
        code = (target or "").strip().lower()
        if code not in allowed:
            raise UnsupportedLanguage(
                f"seamless cannot {verb} {language_name(code)} ({code or 'empty'}); "
                f"supported: {', '.join(sorted(allowed))}"
            )
        if source is not None and source.strip().lower() not in self.source_languages:
            raise UnsupportedLanguage(
                f"seamless cannot hear {language_name(source)} ({source}); "
                f"supported: {', '.join(sorted(self.source_languages))}"
            )
        return self._codes[code]

    def _translate(self, audio: Sequence[Audio], source: str | None, tgt: str,
                   speech: bool) -> list[SpeechTranslation]:
        self.load()
        src = self._codes.get((source or "").strip().lower()) if self.transcribe else None
        pieces: list[np.ndarray] = []  # (samples,) 16 kHz mono
        owners: list[tuple[int, float]] = []  # (segment index, pause in seconds before the piece)
        for i, item in enumerate(audio):
            samples = _mono_16k(item)
            spans = [(0.0, samples.size / ANALYSIS_RATE)]
            if samples.size > self.max_segment * ANALYSIS_RATE:
                spans = split_at_pauses(Audio(samples, ANALYSIS_RATE), self.max_segment)
            prev_end = None
            for start, end in spans:
                pause = 0.0 if prev_end is None else start - prev_end
                pieces.append(samples[int(start * ANALYSIS_RATE):int(end * ANALYSIS_RATE)])
                owners.append((i, pause))
                prev_end = end
        results: list[tuple[str, str, np.ndarray | None]] = [("", "", None)] * len(pieces)
        live = [k for k, p in enumerate(pieces) if p.size >= _MIN_SECONDS * ANALYSIS_RATE]
        for batch in self._batches(live, [pieces[k].size for k in live]):
            for k, result in zip(batch, self._run([pieces[k] for k in batch], tgt, src, speech)):
                results[k] = result
        return self._rejoin(len(audio), owners, results, speech)

    def _batches(self, order: list[int], sizes: list[int]) -> list[list[int]]:
        """Indices grouped longest first; each group's padded length times its size stays
        within ``batch_seconds`` (a longer segment goes alone) and ``max_batch``."""
        ranked = sorted(zip(order, sizes), key=lambda p: -p[1])
        batches: list[list[int]] = []
        limit = self.batch_seconds * ANALYSIS_RATE  # samples
        for index, size in ranked:
            last = batches[-1] if batches else []
            # sorted longest first: the batch's first segment sets its padded length
            if last and len(last) < self.max_batch and (len(last) + 1) * last[0][1] <= limit:
                last.append((index, size))
            else:
                batches.append([(index, size)])
        return [[index for index, _ in batch] for batch in batches]

    def _run(self, pieces: list[np.ndarray], tgt: str, src: str | None,
             speech: bool) -> list[tuple[str, str, np.ndarray | None]]:
        """One batch through the model: (source text, target text, 16 kHz speech or None)."""
        import torch

        inputs = self.processor.feature_extractor(pieces, sampling_rate=ANALYSIS_RATE,
                                                  return_tensors="pt", padding=True)
        features = inputs["input_features"].to(self.device, self.dtype)  # (batch, frames, 160)
        mask = inputs["attention_mask"].to(self.device)  # (batch, frames)
        with torch.inference_mode():
            encoded = encode(self.model, features, mask)
            if self._decoding is None:  # a model put in place by hand (the benchmark)
                self._decoding = decoding_config(self.model)
            options = dict(num_beams=self.num_beams, max_new_tokens=self.max_new_tokens,
                           decoding=self._decoding)
            tokens = generate_text(self.model, encoded, tgt, **options)
            texts = self.processor.batch_decode(tokens, skip_special_tokens=True)
            sources = [""] * len(pieces)
            if src is not None:
                heard = generate_text(self.model, encoded, src, **options)
                sources = self.processor.batch_decode(heard, skip_special_tokens=True)
            waves: list[np.ndarray | None] = [None] * len(pieces)
            if speech:
                waves = speak(self.model, encoded, tokens, tgt, self.speaker_id)
        return [(s.strip(), t.strip(), w) for s, t, w in zip(sources, texts, waves)]

    def _rejoin(self, count: int, owners: list[tuple[int, float]],
                results: list[tuple[str, str, np.ndarray | None]],
                speech: bool) -> list[SpeechTranslation]:
        """Pieces back into their segments: texts joined with spaces, speech concatenated with
        each piece's pause before it kept as silence."""
        out = []
        for i in range(count):
            mine = [(pause, r) for (owner, pause), r in zip(owners, results) if owner == i]
            source = " ".join(r[0] for _, r in mine if r[0])
            target = " ".join(r[1] for _, r in mine if r[1])
            wave = None
            if speech:
                parts = []
                for pause, (_, _, w) in mine:
                    if w is not None and w.size:
                        if parts:
                            gap = int(round(pause * self.sampling_rate))  # samples
                            parts.append(np.zeros(gap, np.float32))
                        parts.append(w)
                samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
                wave = Audio(samples, self.sampling_rate)
            out.append(SpeechTranslation(source, target, wave))
        return out


# ---- the model's stages, one call each (the benchmark times them separately) ------------------


def encode(model: Any, features: Any, mask: Any) -> tuple[Any, Any, Any]:
    """Speech encoder once: ``(hidden (batch, frames / 8, hidden), feature mask, encoder
    mask (batch, frames / 8))``."""
    from transformers.models.seamless_m4t_v2.modeling_seamless_m4t_v2 import (
        _compute_new_attention_mask,
    )

    hidden = model.speech_encoder(input_features=features, attention_mask=mask).last_hidden_state
    lengths = model._compute_sub_sample_lengths_from_attention_mask(mask).to(hidden.device)
    return hidden, mask, _compute_new_attention_mask(hidden, lengths)


def decoding_config(model: Any) -> Any:
    """The model's generation config without the token and character tables that only the
    speech stage reads: ``generate`` copies the model's config several times a call, and for the
    real model ``id_to_text`` alone has 256k entries (seconds per call)."""
    from transformers import GenerationConfig

    tables = ("id_to_text", "char_to_id", "t2u_lang_code_to_id", "vocoder_lang_code_to_id")
    slim = {k: v for k, v in vars(model.generation_config).items() if k not in tables}
    return GenerationConfig(**{k: v for k, v in slim.items() if not k.startswith("_")})


def generate_text(model: Any, encoded: tuple[Any, Any, Any], tgt: str, num_beams: int = 1,
                  max_new_tokens: int | None = None, decoding: Any = None, **kwargs: Any) -> Any:
    """Token ids ``(batch, length)`` in the Seamless language ``tgt``: decoder start, language
    token, text, end (then padding). The encoder output is reused, not recomputed. ``decoding``
    (from ``decoding_config``) stands in for the model's generation config meanwhile."""
    import torch
    from transformers import GenerationMixin
    from transformers.modeling_outputs import BaseModelOutput

    hidden, mask, _ = encoded
    gen = model.generation_config
    prefix = [gen.decoder_start_token_id, gen.text_decoder_lang_to_code_id[tgt]]
    start = torch.tensor([prefix] * hidden.shape[0], device=hidden.device)
    if max_new_tokens is not None:
        kwargs["max_new_tokens"] = max_new_tokens
    full = model.generation_config
    if decoding is not None:
        model.generation_config = decoding
    try:
        # The mixin's generate, not the model's: that one re-encodes the speech to speak it.
        return GenerationMixin.generate(
            model, attention_mask=mask, encoder_outputs=BaseModelOutput(last_hidden_state=hidden),
            decoder_input_ids=start, num_beams=num_beams, do_sample=False, **kwargs,
        )
    finally:
        model.generation_config = full


def text_to_units(model: Any, encoded: tuple[Any, Any, Any], tokens: Any) -> list[Any]:
    """Unit ids per row (a 1-d tensor, vocoder-ready), or None for a row without text."""
    import torch
    from transformers.models.seamless_m4t_v2.modeling_seamless_m4t_v2 import (
        _compute_new_attention_mask,
    )

    hidden, _, enc_mask = encoded
    gen, config = model.generation_config, model.config
    pad = gen.pad_token_id
    body = tokens[:, 2:]
    ended = (body == gen.eos_token_id) | (body == pad)
    # Text tokens per row: up to its end token, all of them when cut at max_new_tokens.
    count = torch.where(ended.any(1), ended.int().argmax(1), body.shape[1])
    rows = [r for r in range(tokens.shape[0]) if int(count[r]) > 0]
    units: list[Any] = [None] * tokens.shape[0]
    if not rows:
        return units
    keep = torch.tensor(rows, device=tokens.device)
    count = count[keep]
    width = 2 + int(count.max())
    text = tokens[keep, :width].clone()
    text[torch.arange(width, device=text.device)[None, :] >= (2 + count)[:, None]] = pad
    embeds = model.text_decoder(  # (rows, width, hidden)
        input_ids=text, encoder_hidden_states=hidden[keep], encoder_attention_mask=enc_mask[keep]
    ).last_hidden_state
    t2u_mask = _compute_new_attention_mask(embeds, 2 + count)
    ids = text[:, 2:]
    subwords = model._indices_to_subwords(ids)
    chars = model._count_character_length_in_subword(ids, subwords, pad_token_id=pad)
    zero = chars.new_zeros((chars.shape[0], 1))  # the start and language positions have no text
    chars = torch.cat([zero, zero, chars], dim=1)
    char_ids = model._get_char_input_ids(ids, subwords, chars, pad_token_id=pad)
    out = model.t2u_model(inputs_embeds=embeds, char_input_ids=char_ids, char_count_per_id=chars,
                          attention_mask=t2u_mask)
    logits, valid = out[0], out[1].bool()  # (rows, units, t2u vocab), (rows, units)
    for j, r in enumerate(rows):
        u = logits[j, : int(valid[j].sum())].argmax(-1)
        u = u.masked_fill(u == config.t2u_eos_token_id, config.t2u_pad_token_id)
        units[r] = torch.where(u == config.t2u_pad_token_id, u, u - config.vocoder_offset)
    return units


def vocode(model: Any, units: Any, tgt: str, speaker_id: int) -> np.ndarray:
    """16 kHz float32 speech ``(samples,)`` of one row of units; one row at a time, so that no
    padding reaches the duration predictor or the convolutions (batched = alone, exactly)."""
    import torch

    lang = model.generation_config.vocoder_lang_code_to_id[tgt]
    wave, _ = model.vocoder(
        input_ids=units[None], speaker_id=torch.tensor([[speaker_id]], device=units.device),
        lang_id=torch.tensor([[lang]], device=units.device),
    )
    return wave[0].float().cpu().numpy()


def speak(model: Any, encoded: tuple[Any, Any, Any], tokens: Any, tgt: str,
          speaker_id: int) -> list[np.ndarray | None]:
    """Speech for each row of generated ``tokens`` (None where the row has no text)."""
    return [None if u is None else vocode(model, u, tgt, speaker_id)
            for u in text_to_units(model, encoded, tokens)]


def _mono_16k(audio: Audio) -> np.ndarray:
    samples = audio.mono().samples
    if audio.rate != ANALYSIS_RATE:
        import librosa

        samples = librosa.resample(samples, orig_sr=audio.rate, target_sr=ANALYSIS_RATE)
    return np.ascontiguousarray(samples, dtype=np.float32)


def _read_json(folder: Path, name: str, required: bool = True) -> dict[str, Any]:
    path = folder / name
    if not path.is_file():
        if required:
            raise ModelUnavailable(f"{folder} is not a SeamlessM4T v2 folder: {name} is missing")
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"{path} cannot be read: {exc}") from None
