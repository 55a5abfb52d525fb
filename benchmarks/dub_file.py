"""Dub one file and print seconds per stage, the real-time factor and peak memory.

    python benchmarks/dub_file.py samples/jfk.mp4 --to ja --preset tiny-test
    python benchmarks/dub_file.py ../shared/data/diar_pyannote_sample/sample.wav \
        ../shared/data/diar_picovoice_falcon/test.wav ../shared/data/en_jfk/jfk.flac --to ja

Several inputs are joined (as 16 kHz mono WAV) into one file first, to make a longer input from
real recordings.

The real-time factor is wall time over media duration (below 1 is faster than real time).
Peak memory is the process's maximum resident set size. Each run starts from an empty job
folder, so every stage does its work. Then how well the dub kept time: lines that start more
than 0.3 s after their source line (and the delay of all lines together), speech left past
the slots, and how many answers the translation model wrote (shortening included).
"""
from __future__ import annotations

import argparse
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dubkit import Dubber, media
from dubkit.types import Audio

LATE = 0.3  # seconds after its source line from which a line counts as late


def dub_arguments(description: str) -> argparse.Namespace:
    """INPUTS, --to, --from and --preset, as every whole-dub benchmark takes them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("inputs", type=Path, nargs="+")
    parser.add_argument("--to", required=True)
    parser.add_argument("--from", dest="source", default=None)
    parser.add_argument("--preset", default="cpu")
    return parser.parse_args()


def dub_input(inputs: list[Path], folder: Path) -> tuple[Path, str]:
    """The file to dub in ``folder`` and its name for the report: one input copied, several
    joined as 16 kHz mono WAV."""
    if len(inputs) == 1:
        work = folder / inputs[0].name
        shutil.copy(inputs[0], work)
        return work, inputs[0].name
    parts = [media.decode_audio(p, rate=16000, mono=True).samples for p in inputs]
    work = folder / "joined.wav"
    media.write_audio(Audio(np.concatenate(parts), 16000), work)
    return work, " + ".join(p.name for p in inputs)


def main() -> int:
    args = dub_arguments(__doc__.splitlines()[0])
    with tempfile.TemporaryDirectory() as tmp:
        work, args.input = dub_input(args.inputs, Path(tmp))
        duration = media.decode_audio(work).duration
        start = time.perf_counter()
        dubber = Dubber(preset=args.preset)
        result = dubber.translate(work, to=args.to, source_language=args.source)
        wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}")
    print(f"input: {args.input} ({duration:.2f} s), preset {args.preset}, "
          f"{result.source_language} -> {result.target_language}, "
          f"{len(result.segments)} segments, {len(result.speakers)} speakers")
    print(f"{'stage':<12}{'seconds':>9}{'RTF':>9}")
    for stage, seconds in result.timings.items():
        print(f"{stage:<12}{seconds:>9.2f}{seconds / duration:>9.3f}")
    print(f"{'total':<12}{wall:>9.2f}{wall / duration:>9.3f}  (wall, model loading included)")
    print(f"peak memory: {peak_mb:.0f} MB")
    placed = [s for s in result.segments if s.placement is not None]
    late = [s.placement.start - s.start for s in placed]
    print(f"lines late: {sum(d > LATE for d in late)} of {len(placed)} "
          f"(delay of all lines {sum(max(0.0, d) for d in late):.2f} s), "
          f"speech past its slot {sum(s.placement.overflow for s in placed):.2f} s")
    backends = dubber.pipeline.backends
    translator = backends.get("translation") if backends.has("translation") else None
    if hasattr(translator, "answers"):  # a language model's answers, retries included
        print(f"translation model answers: {translator.answers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
