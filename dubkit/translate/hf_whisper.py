"""Whisper through transformers: ``WhisperForConditionalGeneration`` + its processor.

Loads any Whisper checkpoint folder (openai/whisper-*, distil-whisper, fine-tunes) with
``from_pretrained(folder, local_files_only=True)``. Speech longer than one Whisper window (30 s for
real checkpoints; the feature extractor says how long) is cut at the quietest moment near each
window's end and the windows are decoded as a batch, without timestamps.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dubkit.errors import BackendUnavailable, InputError, ModelUnavailable, first_line
from dubkit.languages import NO_SPACE, is_language
from dubkit.translate.base import check_transcription_request, top_language
from dubkit.types import Audio, Transcript

# Whisper's language tokens that are not the ISO 639-1 code of their language.
_TOKEN_TO_ISO = {"jw": "jv"}

# Languages written without spaces between words: window texts are joined without one.

_MIN_TAIL_SECONDS = 0.2  # a shorter last window after a cut is silence; Whisper would invent text
_CUT_FRAME = 320  # samples (20 ms at 16 kHz) in the energy search for a cut point


class HFWhisperTranscriber:
    """A ``Transcriber`` over a Whisper checkpoint folder.

    ``max_new_tokens`` bounds the tokens decoded per window (default: the checkpoint's generation
    config); ``batch_size`` is how many windows are decoded at once.
    """

    def __init__(
        self,
        model_path: str | Path,
        device: str = "auto",
        dtype: str = "auto",
        max_new_tokens: int | None = None,
        batch_size: int = 8,
        name: str | None = None,
    ) -> None:
        try:
            import torch  # noqa: F401
            from transformers import AutoProcessor, WhisperForConditionalGeneration
        except ImportError as exc:
            raise BackendUnavailable(
                f"hf-whisper needs {exc.name or 'transformers'}: pip install 'dubkit[hf]'"
            ) from None
        from dubkit.torch_device import pick_device, pick_dtype, quiet_hf_loading

        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, not {batch_size}")
        if max_new_tokens is not None and max_new_tokens < 1:
            raise InputError(f"max_new_tokens must be at least 1, not {max_new_tokens}")
        self.path = Path(model_path)
        self.name = name or f"hf-whisper:{self.path.name}"
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        self.batch_size = batch_size
        quiet_hf_loading()
        try:
            self.processor = AutoProcessor.from_pretrained(self.path, local_files_only=True)
            self.model = WhisperForConditionalGeneration.from_pretrained(
                self.path, local_files_only=True, dtype=self.dtype
            )
        except (OSError, ValueError) as exc:
            reason = first_line(exc)
            raise ModelUnavailable(f"cannot load Whisper from {self.path}: {reason}") from exc
        self.model.to(self.device).eval()

        fe = self.processor.feature_extractor
        self.sampling_rate: int = fe.sampling_rate
        encoder = self.model.model.encoder
        stride = encoder.conv1.stride[0] * encoder.conv2.stride[0]
        self._frames = self.model.config.max_source_positions * stride  # mel frames per window
        # samples per window: what the encoder takes, never more than the extractor pads to
        self._window = min(fe.n_samples, self._frames * fe.hop_length)

        gen = self.model.generation_config
        self.multilingual = bool(getattr(gen, "is_multilingual", True)) and bool(
            getattr(gen, "lang_to_id", None)
        )
        self._lang_ids: dict[str, int] = {}  # ISO 639-1 -> token id
        self._lang_tokens: dict[str, str] = {}  # ISO 639-1 -> "<|xx|>"
        if self.multilingual:
            for token, token_id in gen.lang_to_id.items():
                code = _TOKEN_TO_ISO.get(token.strip("<|>"), token.strip("<|>"))
                if len(code) == 2 and is_language(code):
                    self._lang_ids[code] = int(token_id)
                    self._lang_tokens[code] = token
            self.languages = frozenset(self._lang_ids)
        else:
            self.languages = frozenset({"en"})
        self.can_translate = self.multilingual  # speech translation into English
        # no checkpoint loaded this way was measured (the gpu preset's large-v3-turbo, random test
        # weights): the most probable language is taken as it is
        self.language_thresholds = None
        self.word_times: frozenset[str] = frozenset()  # its own decoding loop times no words
        prompt_len = 4 if self.multilingual else 2  # sot, language, task, notimestamps
        limit = self.model.config.max_target_positions - prompt_len
        self.max_new_tokens = None if max_new_tokens is None else min(max_new_tokens, limit)
        if self.max_new_tokens is not None:
            gen.max_length = None  # else generate warns on every call that both are set

    @property
    def window_seconds(self) -> float:
        """Length of one Whisper window (30 s for real checkpoints)."""
        return self._window / self.sampling_rate

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """Whisper's language guess for the first window: the softmax of the first decoder step
        over the language tokens whose codes are ISO 639-1."""
        return top_language(self.language_probabilities(audio))

    def language_probabilities(self, audio: Audio) -> dict[str, float]:
        """The softmax of the first decoder step over the language tokens whose codes are
        ISO 639-1, for the first window, most probable first; {"en": 1.0} for English-only
        checkpoints."""
        if not self.multilingual:
            return {"en": 1.0}
        import torch

        samples = self._prepare(audio)[: self._window]
        features = self._features([samples])
        sot = self.model.generation_config.decoder_start_token_id
        decoder_input_ids = torch.full((1, 1), sot, dtype=torch.long, device=self.device)
        codes = sorted(self._lang_ids)
        with torch.inference_mode():
            logits = self.model(
                input_features=features, decoder_input_ids=decoder_input_ids, use_cache=False
            ).logits[0, -1]
        scores = logits[[self._lang_ids[c] for c in codes]].float()
        probs = torch.softmax(scores, dim=-1).tolist()
        return dict(sorted(zip(codes, probs), key=lambda pair: -pair[1]))

    def transcribe(self, audio: Audio, language: str, task: str = "transcribe") -> Transcript:
        """Text of the speech in ``audio`` (any rate, mono or not) in ``language``; with
        ``task="translate"`` English text (``Transcript.language`` is then "en")."""
        return self.transcribe_batch([audio], language, task)[0]

    def transcribe_batch(
        self, audios: Sequence[Audio], language: str, task: str = "transcribe"
    ) -> list[Transcript]:
        """``transcribe`` for several clips, their windows decoded ``batch_size`` at a time."""
        code = self._check(language, task)
        out_language = "en" if task == "translate" else code
        pieces: list[np.ndarray] = []
        owner: list[int] = []
        for i, audio in enumerate(audios):
            for piece in self._split(self._prepare(audio)):
                pieces.append(piece)
                owner.append(i)
        texts: list[str] = []
        for start in range(0, len(pieces), self.batch_size):
            texts.extend(self._generate(pieces[start : start + self.batch_size], code, task))
        joiner = "" if out_language in NO_SPACE else " "
        results = []
        for i in range(len(audios)):
            parts = [t for t, o in zip(texts, owner, strict=True) if o == i and t]
            results.append(Transcript(" ".join(joiner.join(parts).split()), out_language))
        return results

    def _check(self, language: str, task: str) -> str:
        return check_transcription_request(self.name, self.languages, language, task)

    def _prepare(self, audio: Audio) -> np.ndarray:
        """``(samples,)`` float32 mono at the extractor's rate (16 kHz)."""
        samples = audio.mono().samples
        if audio.rate != self.sampling_rate:
            import librosa

            samples = librosa.resample(samples, orig_sr=audio.rate, target_sr=self.sampling_rate)
        return np.ascontiguousarray(samples, dtype=np.float32)

    def _split(self, samples: np.ndarray) -> list[np.ndarray]:
        """Pieces of at most one window, cut at the quietest 20 ms in each window's last quarter
        (at most its last 5 s)."""
        if samples.size == 0:
            return []
        search = min(self._window // 4, 5 * self.sampling_rate)
        pieces = []
        start = 0
        while samples.size - start > self._window:
            lo = start + self._window - search
            tail = samples[lo : start + self._window]
            frames = tail[: tail.size // _CUT_FRAME * _CUT_FRAME].reshape(-1, _CUT_FRAME)
            cut = lo + int(np.argmin((frames**2).mean(axis=1))) * _CUT_FRAME + _CUT_FRAME // 2
            pieces.append(samples[start:cut])
            start = cut
        last = samples[start:]
        if not pieces or last.size >= _MIN_TAIL_SECONDS * self.sampling_rate:
            pieces.append(last)
        return pieces

    def _features(self, pieces: list[np.ndarray]):
        """``(batch, mel bins, frames)`` log-mel features on the model's device and dtype."""
        import torch

        fe = self.processor.feature_extractor
        features = fe(pieces, sampling_rate=self.sampling_rate, return_tensors="np").input_features
        if features.shape[-1] < self._frames:  # an extractor padding less than the encoder takes
            pad = self._frames - features.shape[-1]
            features = np.pad(features, ((0, 0), (0, 0), (0, pad)), constant_values=features.min())
        features = features[..., : self._frames]
        return torch.from_numpy(np.ascontiguousarray(features)).to(self.device, self.dtype)

    def _generate(self, pieces: list[np.ndarray], code: str, task: str) -> list[str]:
        import torch

        kwargs = {}
        if self.multilingual:
            kwargs.update(language=self._lang_tokens[code], task=task)
        if self.max_new_tokens is not None:
            kwargs["max_new_tokens"] = self.max_new_tokens
        features = self._features(pieces)
        # Every frame is real (Whisper pads with silence by design); saying so keeps generate
        # from warning about a batch without an attention mask.
        mask = torch.ones(features.shape[::2], dtype=torch.long, device=self.device)
        with torch.inference_mode():
            sequences = self.model.generate(input_features=features, attention_mask=mask, **kwargs)
        if not isinstance(sequences, torch.Tensor):  # a dict when segments were asked for
            sequences = sequences["sequences"]
        texts = self.processor.batch_decode(sequences, skip_special_tokens=True)
        return [t.strip() for t in texts]
