"""What the default (layered) watermark costs on a long file: embedding, and detection on the
marked file, on the same file unmarked (every search runs) and after a 5 % speed change.

    python benchmarks/watermark_speed.py [--data ../shared/data] [--minutes 10]

The host is the held-out recordings of ``watermark_layers.py`` (AMI excerpts, the Picovoice and
pyannote clips, JFK) joined and repeated to ``--minutes``, at 24 kHz as a dub's speech bus.
Detection runs once to warm up, then is timed; ``DUBKIT_NUM_THREADS`` sets how many alignments
the payload layer scans at once (default: the usable cores). Targets (issue 19): embedding
under 0.1x real time, detection under 0.05x, on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dubkit.cpu import default_threads, usable_cores  # noqa: E402
from dubkit.media import decode_audio, transcode  # noqa: E402
from dubkit.types import Audio  # noqa: E402
from dubkit.watermark import Payload  # noqa: E402
from dubkit.watermark.layered import LayeredWatermarker  # noqa: E402
from dubkit.watermark.spread_spectrum import _MAX_SCANS  # noqa: E402

RATE = 24_000


def host(data: Path, minutes: float) -> Audio:
    paths = sorted((data / "diar_ami_excerpts").glob("*.wav"))
    paths += sorted((data / "diar_picovoice_falcon").glob("*.wav"))
    paths += [data / "diar_pyannote_sample" / "sample.wav", data / "en_jfk" / "jfk.flac"]
    parts = [decode_audio(p, rate=RATE, mono=True).samples for p in paths]
    joined = np.concatenate(parts)
    n = int(minutes * 60 * RATE)
    x = np.tile(joined, int(np.ceil(n / joined.size)))[:n]
    return Audio((0.5 * x / max(1e-9, float(np.abs(x).max()))).astype(np.float32), RATE)


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    audio = host(args.data, args.minutes)
    minutes = audio.duration / 60
    wm = LayeredWatermarker()
    print(f"machine: {platform.machine()}, {usable_cores()} usable cores, load "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, scans at once: "
          f"{min(default_threads(), _MAX_SCANS)}, file {audio.duration:.0f} s")
    marked, embed_s = timed(lambda: wm.embed(audio, Payload(0x0BADF00D, 1)))
    wm.detect(Audio(audio.samples[: RATE * 10], RATE))  # warm up
    rows = [("embed (both layers)", embed_s, None)]
    for name, clip in (("detect, marked", marked), ("detect, unmarked", audio),
                       ("detect, atempo 1.05", transcode.tempo_change(marked, 1.05))):
        found, seconds = timed(lambda clip=clip: wm.detect(clip))
        rows.append((name, seconds, found))
    print("| step | seconds | s per minute | x real time | found (score) |")
    print("|---|---:|---:|---:|---|")
    for name, seconds, found in rows:
        said = "" if found is None else f"{found.found} ({found.score:.1f})"
        print(f"| {name} | {seconds:.1f} | {seconds / minutes:.2f} | "
              f"{seconds / audio.duration:.3f} | {said} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
