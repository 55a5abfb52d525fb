"""Speed of direct speech-to-speech translation with the SeamlessM4T v2 architecture.

    python benchmarks/seamless_speed.py                      # full v2-large, 64 x 8 s, on a GPU
    python benchmarks/seamless_speed.py --size reduced --segments 8 --batch 4   # a CPU

Builds the model from its configuration (``SeamlessM4Tv2Config()`` defaults are v2-large, 2.3 B
parameters) with random weights: no download. ``--size reduced`` scales layers and widths down so
that a CPU can run it. Random weights would decide how much work there is, so the work is fixed:
exactly ``--text-tokens`` tokens per segment (end and special tokens suppressed),
``--units-per-char`` units per character from the text-to-unit model and one vocoder frame per
unit (their duration predictors are overridden). The segments run through ``SeamlessTranslator``
(its batching, its stage calls); the processor's tokenizer is stood in for, since random ids
decode to nothing. On a busy shared CPU, ``DUBKIT_NUM_THREADS=1`` avoids oversubscription.

Prints the real-time factor (wall time over input audio), segments/s, units/s, output audio, peak
GPU memory (peak RSS on a CPU) and the share of time in the speech encoder, the text decoder
(generation, and its one pass that feeds the text-to-unit model), the text-to-unit model and the
vocoder, timed with forward hooks (synchronised on a GPU).
"""
from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dubkit.translate.seamless import SeamlessTranslator  # noqa: E402
from dubkit.types import Audio  # noqa: E402

RATE = 16_000
REDUCED = dict(  # about 1/40 of the compute of v2-large
    hidden_size=256, encoder_layers=2, encoder_ffn_dim=1024, encoder_attention_heads=4,
    decoder_layers=6, decoder_ffn_dim=1024, decoder_attention_heads=4,
    speech_encoder_layers=6, speech_encoder_attention_heads=4,
    speech_encoder_intermediate_size=1024, t2u_encoder_layers=2, t2u_encoder_ffn_dim=1024,
    t2u_encoder_attention_heads=4, t2u_decoder_layers=2, t2u_decoder_ffn_dim=1024,
    t2u_decoder_attention_heads=4, t2u_variance_predictor_embed_dim=256,
    upsample_initial_channel=128, unit_embed_dim=256,
)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def build(size: str, device: torch.device, dtype: torch.dtype):
    """A random SeamlessM4Tv2ForSpeechToSpeech and a generation config with the language maps
    and token tables (``id_to_text``: three-letter pieces, every fourth starting a word)."""
    from transformers import GenerationConfig, SeamlessM4Tv2Config, SeamlessM4Tv2ForSpeechToSpeech
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    config = SeamlessM4Tv2Config(**(REDUCED if size == "reduced" else {}))
    torch.manual_seed(0)
    with torch.device(device):
        model = SeamlessM4Tv2ForSpeechToSpeech(config)
    model = model.to(dtype).eval()
    pieces = {str(i): ("\u2581" if i % 4 == 0 else "") + "".join(
        LETTERS[(i // 26 ** k) % 26] for k in range(3)) for i in range(4, config.vocab_size)}
    lang_id = config.vocab_size - 1  # "__fra__"
    model.generation_config = GenerationConfig(
        decoder_start_token_id=3, bos_token_id=2, eos_token_id=3, pad_token_id=0,
        suppress_tokens=[0, 1, 2, 3, lang_id],
        text_decoder_lang_to_code_id={"fra": lang_id},
        t2u_lang_code_to_id={"fra": config.t2u_vocab_size - 1},
        vocoder_lang_code_to_id={"fra": 0},
        id_to_text=pieces,
        char_to_id={c: i + 4 for i, c in enumerate("\u2581" + LETTERS)},
    )
    return model, config


def fix_work(model, text_tokens: int, units_per_char: int) -> None:
    """Exactly ``text_tokens`` tokens, ``units_per_char`` units a character, a frame a unit."""
    gen = model.generation_config
    gen.min_new_tokens = gen.max_new_tokens = text_tokens
    gen.num_beams = 1
    char_dur = math.log1p(units_per_char)  # the predictors give log(1 + duration)
    model.t2u_model.model.decoder.duration_predictor.register_forward_hook(
        lambda m, args, out: torch.full_like(out, char_dur))
    model.vocoder.dur_predictor.register_forward_hook(
        lambda m, args, out: torch.full_like(out, math.log1p(1)))


class StageClock:
    """Wall seconds inside each hooked module (outermost calls only), and units vocoded."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.seconds, self.units = device, defaultdict(float), 0
        self._start: dict[str, float] = {}

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def attach(self, name: str, module) -> None:
        def before(m, args, kwargs):
            self._sync()
            self._start[name] = time.perf_counter()
            if name == "vocoder":
                self.units += int(kwargs["input_ids"].numel())

        def after(m, args, kwargs, out):
            self._sync()
            self.seconds[name] += time.perf_counter() - self._start.pop(name)

        module.register_forward_pre_hook(before, with_kwargs=True)
        module.register_forward_hook(after, with_kwargs=True)


class _Processor:
    """The real feature extractor; a stand-in tokenizer (random ids decode to nothing)."""

    def __init__(self, feature_extractor) -> None:
        self.feature_extractor = feature_extractor

    @staticmethod
    def batch_decode(tokens, skip_special_tokens=True):
        return ["x"] * len(tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("full", "reduced"), default="full")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--segments", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each segment")
    parser.add_argument("--batch", type=int, default=64, help="segments per batch at most")
    parser.add_argument("--text-tokens", type=int, default=30, help="per segment (~8 s of speech)")
    parser.add_argument("--units-per-char", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1, help="untimed segments run first")
    args = parser.parse_args()

    from transformers import SeamlessM4TFeatureExtractor

    from dubkit.torch_device import pick_device, pick_dtype

    device = pick_device(args.device)
    dtype = pick_dtype(device, args.dtype)
    start = time.perf_counter()
    model, config = build(args.size, device, dtype)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.size} SeamlessM4T v2: {params / 1e6:.0f} M parameters on {device} ({dtype}), "
          f"built in {time.perf_counter() - start:.1f} s")
    fix_work(model, args.text_tokens, args.units_per_char)

    folder = Path(tempfile.mkdtemp(prefix="seamless-bench-"))
    config.save_pretrained(folder)
    model.generation_config.save_pretrained(folder)
    translator = SeamlessTranslator(folder, device=str(device), dtype=str(dtype).split(".")[-1],
                                    batch_seconds=args.batch * args.seconds, max_batch=args.batch)
    translator.model = model
    translator.processor = _Processor(SeamlessM4TFeatureExtractor())
    clock = StageClock(device)
    for name, module in (("speech encoder", model.speech_encoder),
                         ("text decoder", model.text_decoder),
                         ("text decoder", model.lm_head),
                         ("text-to-unit", model.t2u_model), ("vocoder", model.vocoder)):
        clock.attach(name, module)

    rng = np.random.default_rng(0)
    n = int(args.seconds * RATE)
    segments = [Audio((0.1 * rng.standard_normal(n)).astype(np.float32), RATE)
                for _ in range(args.segments)]
    if args.warmup:
        translator.translate(segments[: args.warmup], None, "fr")
    clock.seconds.clear()
    clock.units = 0
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = translator.translate(segments, None, "fr")
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - start

    audio_in = args.segments * args.seconds
    audio_out = sum(o.speech.duration for o in out)
    print(f"{args.segments} segments of {args.seconds:g} s, batches of up to {args.batch}, "
          f"{args.text_tokens} text tokens and {args.units_per_char} units a character each")
    print(f"wall {wall:.2f} s   RTF {wall / audio_in:.4f}   {args.segments / wall:.2f} segments/s"
          f"   {clock.units / wall:.0f} units/s   {audio_out:.1f} s of speech out")
    if device.type == "cuda":
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    else:
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    timed = sum(clock.seconds.values())
    for name, seconds in clock.seconds.items():
        print(f"  {name:<15} {seconds:8.2f} s  {100 * seconds / wall:5.1f} %")
    print(f"  {'other':<15} {wall - timed:8.2f} s  {100 * (wall - timed) / wall:5.1f} %"
          "  (features, search, token tables, batching)")


if __name__ == "__main__":
    main()
