"""Dub real recordings with ``--voice keep`` and ``--voice stock`` and print what the QA report
measured: speaker similarity of each line to its speaker, intonation (F0 contour) correlation,
the share of lines ending within 10 % of their slot, the tempo range, and the character error
rate between Whisper's transcripts of the kept-voice and the stock-voice dubs (intelligibility).

    python benchmarks/dub_quality.py [--to es] [--data ../shared/data] [--preset cpu] [--work DIR]

Lines outside 10 % of their slot are listed on stderr with their tempo, flags and texts. With
``--work`` the job folders are kept there, so a re-run recomputes only what changed.

Both runs of a recording share one job folder, so the second reuses transcription, translation
and synthesis and differs only in voice conversion, timing fit and mix.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dubkit import Dubber
from dubkit.jobs.consent import Consent

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
RECORDINGS = (
    "en_jfk/jfk.flac",
    "diar_pyannote_sample/sample.wav",
    "diar_picovoice_falcon/test.wav",
    "multi_picovoice_leopard/test.wav",
)


def line_transcripts(dubber: Dubber, result, language: str) -> dict[str, str]:
    """Whisper's transcript of each placed line's dub, as written in the job folder."""
    import soundfile as sf

    from dubkit import dsp
    from dubkit.types import ANALYSIS_RATE, Audio

    asr = dubber.pipeline.backends.get("transcription")
    out = {}
    for seg in result.segments:
        if seg.audio_file:
            x, rate = sf.read(result.job_dir / seg.audio_file, dtype="float32")
            clip = dsp.resample(Audio(x, rate), ANALYSIS_RATE)
            out[seg.id] = asr.transcribe(clip, language).text
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default="es")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--work", type=Path, help="keep the job folders here (default: a "
                        "temporary folder, removed at the end)")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}", file=sys.stderr)
        return 1
    import jiwer

    dubber = Dubber(preset=args.preset)
    print(f"# {platform.machine()}, {platform.python_version()}, preset {args.preset}, "
          f"into {args.to}")
    print("| recording | voice | lines | similarity | F0 r | within 10 % | tempo | wall s |")
    print("|---|---|---:|---:|---:|---:|---|---:|")
    totals: dict[str, list] = {"keep": [], "stock": []}
    cers = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.work or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        for rel in RECORDINGS:
            src = args.data / rel
            if not src.is_file():
                print(f"| {rel} | missing | | | | | | |")
                continue
            local = tmp / rel.replace("/", "-")  # two recordings are called test.wav
            if not local.is_file():
                shutil.copy(src, local)
            out = tmp / f"{local.stem}.{args.to}.wav"
            texts = {}
            for voice in ("keep", "stock"):
                started = time.perf_counter()
                result = dubber.translate(local, to=args.to, output=out, force=True,
                                          voice=voice, consent=Consent.declared("declared"))
                wall = time.perf_counter() - started
                qa = json.loads(result.qa_file.read_text())
                lines = qa["segments"]
                sims = [s["similarity"] for s in lines if s["similarity"] is not None]
                f0s = [s["f0_correlation"] for s in lines if s["f0_correlation"] is not None]
                within = [0.9 <= s["duration_ratio"] <= 1.1 for s in lines
                          if s["duration_ratio"] is not None]
                tempos = [s["tempo"] for s in lines]
                totals[voice].append((sims, f0s, within, tempos))
                print(f"| {rel} | {voice} | {len(lines)} | {_mean(sims)} | {_mean(f0s)} | "
                      f"{_share(within)} | {min(tempos, default=0):.2f}-"
                      f"{max(tempos, default=0):.2f} | {wall:.0f} |")
                texts[voice] = line_transcripts(dubber, result, args.to)
                _report_misses(rel, voice, lines, result)
            for seg_id, kept in texts["keep"].items():
                stock = texts["stock"].get(seg_id, "")
                if stock.strip():
                    cers.append(jiwer.cer(stock, kept))
    print()
    for voice, rows in totals.items():
        sims = [v for r in rows for v in r[0]]
        f0s = [v for r in rows for v in r[1]]
        within = [v for r in rows for v in r[2]]
        tempos = [v for r in rows for v in r[3]]
        print(f"all, voice {voice}: similarity {_mean(sims)}, F0 r {_mean(f0s)}, within 10 % "
              f"{_share(within)}, tempo {min(tempos, default=0):.2f}-{max(tempos, default=0):.2f}")
    print(f"CER of the kept-voice dub's transcript against the stock dub's: {_mean(cers)} "
          f"over {len(cers)} lines")
    return 0


def _report_misses(rel: str, voice: str, lines: list[dict], result) -> None:
    """Each line outside 10 % of its slot, on stderr: why it missed."""
    segs = {s.id: s for s in result.segments}
    for line in lines:
        ratio = line["duration_ratio"]
        if ratio is None or 0.9 <= ratio <= 1.1:
            continue
        seg = segs[line["id"]]
        print(f"  miss {rel} {voice} {line['id']}: {ratio:.2f} of {line['slot']:.2f} s at tempo "
              f"{line['tempo']}, flags {list(seg.flags)}: {seg.source_text!r} -> "
              f"{seg.target_text!r}", file=sys.stderr)


def _mean(values) -> str:
    return f"{float(np.mean(values)):.3f}" if values else "n/a"


def _share(flags) -> str:
    return f"{100 * sum(flags) / len(flags):.0f} %" if flags else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
