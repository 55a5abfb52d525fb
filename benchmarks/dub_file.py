"""Dub one file and print seconds per stage, the real-time factor and peak memory.

    python benchmarks/dub_file.py samples/jfk.mp4 --to ja --preset tiny-test

The real-time factor is wall time over media duration (below 1 is faster than real time).
Peak memory is the process's maximum resident set size. Each run starts from an empty job
folder, so every stage does its work.
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

from dubkit import Dubber, media


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--to", required=True)
    parser.add_argument("--from", dest="source", default=None)
    parser.add_argument("--preset", default="cpu")
    args = parser.parse_args()

    duration = media.probe(args.input).duration or media.decode_audio(args.input).duration
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / args.input.name
        shutil.copy(args.input, work)
        start = time.perf_counter()
        result = Dubber(preset=args.preset).translate(work, to=args.to,
                                                     source_language=args.source)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
