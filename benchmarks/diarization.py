"""Score VAD + diarization combinations on the shared recordings and print a table.

    python benchmarks/diarization.py [--data ../shared/data] [--quick]

For each combination (energy VAD + MFCC embeddings; Silero VAD + Resemblyzer embeddings) and each
two- or three-speaker recording (pyannote's telephone sample, Picovoice Falcon's test clip), with
the speaker count found automatically and given: DER with a 0.25 s collar and its parts (missed
speech, false alarm, confusion, in seconds), speakers found against the reference, and seconds
of wall time (VAD + diarization, models already loaded) per minute of audio. Then, for the
single-speaker recordings (Picovoice Leopard, JFK, FLEURS), how many were split into more than one
speaker. Ends with the same figures as a markdown table for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from dubkit import dsp
from dubkit.analysis.clustering import ClusteringDiarizer
from dubkit.analysis.der import score_diarization
from dubkit.analysis.energy_vad import EnergyVad
from dubkit.analysis.mfcc_embedder import MfccEmbedder
from dubkit.analysis.rttm import read_rttm
from dubkit.models import model_status, resolve_model
from dubkit.types import ANALYSIS_RATE, Audio

ROOT = Path(__file__).resolve().parents[1]
SETS = (  # name, folder, recording, rttm uri
    ("pyannote", "diar_pyannote_sample", "sample.wav", "sample"),
    ("falcon", "diar_picovoice_falcon", "test.wav", "test"),
)
SINGLE = ("multi_picovoice_leopard/*.wav", "en_jfk/*.flac", "fleurs_asr/*.ogg")


@dataclass
class Row:
    combo: str
    recording: str
    given: bool
    der: float
    missed: float
    false_alarm: float
    confusion: float
    found: int
    reference: int
    sec_per_min: float


def load(path: Path) -> Audio:
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    return dsp.resample(Audio(x.T, rate).mono(), ANALYSIS_RATE)  # 16 kHz mono


def combinations() -> list[tuple[str, object, ClusteringDiarizer]]:
    combos = [("energy+mfcc", EnergyVad(), ClusteringDiarizer(MfccEmbedder()))]
    if all(model_status(m).available for m in ("silero-vad", "resemblyzer")):
        from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder
        from dubkit.analysis.silero_vad import SileroVad

        combos.append(("silero+resemblyzer", SileroVad(resolve_model("silero-vad").path),
                       ClusteringDiarizer(ResemblyzerEmbedder(resolve_model("resemblyzer").path))))
    else:
        print("silero-vad or resemblyzer model not available: skipping silero+resemblyzer")
    return combos


def run(vad, diarizer, audio: Audio, num_speakers: int | None):
    started = time.perf_counter()
    turns = diarizer.diarize(audio, vad.detect(audio), num_speakers=num_speakers)
    return turns, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="8 single-speaker clips, not all")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"shared recordings not found at {args.data}", file=sys.stderr)
        return 1
    singles = sorted(p for pattern in SINGLE for p in args.data.glob(pattern))
    if args.quick:
        singles = singles[:8]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, DUBKIT_NUM_THREADS={os.environ.get('DUBKIT_NUM_THREADS')}")

    rows: list[Row] = []
    splits: dict[str, tuple[int, int, list[str]]] = {}
    for combo, vad, diarizer in combinations():
        run(vad, diarizer, load(args.data / SETS[1][1] / SETS[1][2]), None)  # load the models
        for name, folder, wav, uri in SETS:
            audio = load(args.data / folder / wav)
            reference = read_rttm(args.data / folder / f"{uri}.rttm")[uri]
            speakers = len({t.speaker for t in reference})
            for given in (None, speakers):
                turns, seconds = run(vad, diarizer, audio, given)
                score = score_diarization(reference, turns, collar=0.25)
                rows.append(Row(combo, name, given is not None, score.der, score.missed,
                                score.false_alarm, score.confusion,
                                len({t.speaker for t in turns}), speakers,
                                60.0 * seconds / audio.duration))
                r = rows[-1]
                print(f"{combo:<19} {name:<9} k={'given' if r.given else 'auto ':<5} "
                      f"DER {r.der:6.1%}  missed {r.missed:5.2f} s  false alarm "
                      f"{r.false_alarm:5.2f} s  confusion {r.confusion:5.2f} s  speakers "
                      f"{r.found}/{r.reference}  {r.sec_per_min:5.2f} s/min")
        split = []
        for path in singles:
            audio = load(path)
            turns, _ = run(vad, diarizer, audio, None)
            if len({t.speaker for t in turns}) > 1:
                split.append(path.name)
        splits[combo] = (len(split), len(singles), split)
        print(f"{combo:<19} single-speaker recordings split: {len(split)}/{len(singles)} "
              f"{' '.join(split)}")

    print("\n| VAD + embedder | recording | speakers | DER | missed s | false alarm s "
          "| confusion s | found/ref | s per min |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.combo} | {r.recording} | {'given' if r.given else 'auto'} | {r.der:.1%} "
              f"| {r.missed:.2f} | {r.false_alarm:.2f} | {r.confusion:.2f} "
              f"| {r.found}/{r.reference} | {r.sec_per_min:.2f} |")
    print("\n| VAD + embedder | single-speaker recordings split |")
    print("|---|---|")
    for combo, (bad, total, _) in splits.items():
        print(f"| {combo} | {bad}/{total} ({bad / max(total, 1):.0%}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
