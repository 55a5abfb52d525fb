"""Score VAD + diarization combinations on the shared recordings and print a per-file table.

    python benchmarks/diarization.py [--data ../shared/data] [--quick] [--combo NAME ...]

Recordings: pyannote's two-speaker telephone sample, Picovoice Falcon's three-speaker clip and
the seven AMI meeting excerpts (first 30 s of each, far-field, overlapping speech). The
diarizer's defaults were tuned on all of them except ``HELD_OUT`` (AMI trn04 and trn06, chosen
before tuning and never looked at while tuning): figures on tuned files are an upper bound.

For each combination (energy VAD + MFCC embeddings, the ``tiny-test`` preset's; Silero VAD +
Resemblyzer at the diarizer's defaults; the ``cpu`` preset's VAD and diarizer, Silero + ERes2Net,
with the preset's options) and each recording, with the speaker count found automatically:
DER with a 0.25 s collar and its parts (missed speech, false alarm, confusion, in seconds),
speakers found against the reference, and seconds of wall time (VAD + diarization, models
loaded) per minute of audio; then the DER over all AMI files, the held-out ones and the tuned
ones (errors summed over files, divided by the speech summed over files). Then, for the
single-speaker recordings (Picovoice Leopard, JFK, FLEURS), how many were split into more than
one speaker. Ends with the same figures as markdown tables for BENCHMARKS.md.
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
from dubkit.analysis.der import DerScore, score_diarization
from dubkit.analysis.energy_vad import EnergyVad
from dubkit.analysis.mfcc_embedder import MfccEmbedder
from dubkit.analysis.rttm import read_rttm
from dubkit.config import load_preset
from dubkit.errors import DubkitError
from dubkit.models import model_status, resolve_model
from dubkit.registry import create_backend, model_names
from dubkit.types import ANALYSIS_RATE, Audio, Turn

ROOT = Path(__file__).resolve().parents[1]
SETS = (  # name, folder, recording, rttm file, rttm uri
    ("pyannote", "diar_pyannote_sample", "sample.wav", "sample.rttm", "sample"),
    ("falcon", "diar_picovoice_falcon", "test.wav", "test.rttm", "test"),
    *((f"trn{i:02d}", "diar_ami_excerpts", f"trn{i:02d}.wav", "reference.rttm", f"trn{i:02d}")
      for i in range(7)),
)
HELD_OUT = ("trn04", "trn06")  # never tuned on
AMI_SECONDS = 30.0  # the AMI references cover the first 30 s of each excerpt
SINGLE = ("multi_picovoice_leopard/*.wav", "en_jfk/*.flac", "fleurs_asr/*.ogg")


@dataclass(frozen=True)
class Recording:
    name: str
    audio: Audio  # 16 kHz mono
    reference: list[Turn]

    @property
    def held_out(self) -> bool:
        return self.name in HELD_OUT

    @property
    def ami(self) -> bool:
        return self.name.startswith("trn")


@dataclass
class Row:
    combo: str
    recording: Recording
    score: DerScore
    found: int
    reference: int
    sec_per_min: float


def load(path: Path) -> Audio:
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    return dsp.resample(Audio(x.T, rate).mono(), ANALYSIS_RATE)  # 16 kHz mono


def recordings(data: Path) -> list[Recording]:
    """The recordings with a who-spoke-when reference, AMI cut to its scored 30 s."""
    out = []
    for name, folder, wav, rttm, uri in SETS:
        audio = load(data / folder / wav)
        reference = read_rttm(data / folder / rttm)[uri]
        if name.startswith("trn"):
            audio = audio.slice(0.0, AMI_SECONDS)
            reference = [Turn(t.start, min(t.end, AMI_SECONDS), t.speaker)
                         for t in reference if t.start < AMI_SECONDS]
        out.append(Recording(name, audio, reference))
    return out


def combinations(names: list[str] | None) -> list[tuple[str, object, ClusteringDiarizer]]:
    combos = [("energy+mfcc", lambda: (EnergyVad(), ClusteringDiarizer(MfccEmbedder())))]
    if model_status("silero-vad").available:
        from dubkit.analysis.silero_vad import SileroVad

        def silero() -> SileroVad:
            return SileroVad(resolve_model("silero-vad").path)

        if model_status("resemblyzer").available:
            from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder

            combos.append(("silero+resemblyzer", lambda: (silero(), ClusteringDiarizer(
                ResemblyzerEmbedder(resolve_model("resemblyzer").path)))))
        try:
            cpu = (preset_backend("cpu", "vad"), preset_backend("cpu", "diarization"))
            combos.append(("silero+eres2net (cpu)", lambda: cpu))
        except DubkitError as exc:
            print(f"skipping the cpu preset's silero+eres2net: {exc}")
    else:
        print("silero-vad model not available: skipping the silero combinations")
    return [(name, *make()) for name, make in combos if not names or name in names]


def preset_backend(preset: str, stage: str):
    """The backend a preset's stage builds, with its options (as a job builds it)."""
    config = load_preset(preset).stages[stage]
    models = {name: resolve_model(name) for name in model_names(config)}
    return create_backend(stage, config, models)


def run(vad, diarizer, audio: Audio, num_speakers: int | None = None):
    started = time.perf_counter()
    turns = diarizer.diarize(audio, vad.detect(audio), num_speakers=num_speakers)
    return turns, time.perf_counter() - started


def pooled(rows: list[Row]) -> float:
    """DER over several files: their errors summed over their scored speech summed."""
    errors = sum(r.score.missed + r.score.false_alarm + r.score.confusion for r in rows)
    return errors / max(sum(r.score.total for r in rows), 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="8 single-speaker clips, not all")
    parser.add_argument("--combo", action="append", help="only these combinations")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"shared recordings not found at {args.data}", file=sys.stderr)
        return 1
    singles = sorted(p for pattern in SINGLE for p in args.data.glob(pattern))
    if args.quick:
        singles = singles[:8]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, DUBKIT_NUM_THREADS={os.environ.get('DUBKIT_NUM_THREADS')}")
    recs = recordings(args.data)

    rows: list[Row] = []
    splits: dict[str, tuple[int, int, list[str]]] = {}
    for combo, vad, diarizer in combinations(args.combo):
        run(vad, diarizer, recs[1].audio)  # load the models
        for rec in recs:
            turns, seconds = run(vad, diarizer, rec.audio)
            score = score_diarization(rec.reference, turns, collar=0.25)
            rows.append(Row(combo, rec, score, len({t.speaker for t in turns}),
                            len({t.speaker for t in rec.reference}),
                            60.0 * seconds / rec.audio.duration))
            r = rows[-1]
            print(f"{combo:<19} {rec.name:<9} {'held out' if rec.held_out else 'tuned':<8} "
                  f"DER {score.der:6.1%}  missed {score.missed:5.2f} s  false alarm "
                  f"{score.false_alarm:5.2f} s  confusion {score.confusion:5.2f} s  speakers "
                  f"{r.found}/{r.reference}  {r.sec_per_min:5.2f} s/min")
        mine = [r for r in rows if r.combo == combo]
        print(f"{combo:<19} AMI all {pooled([r for r in mine if r.recording.ami]):.1%}  "
              f"held out {pooled([r for r in mine if r.recording.held_out]):.1%}  tuned "
              f"{pooled([r for r in mine if r.recording.ami and not r.recording.held_out]):.1%}")
        split = []
        for path in singles:
            turns, _ = run(vad, diarizer, load(path))
            if len({t.speaker for t in turns}) > 1:
                split.append(path.name)
        splits[combo] = (len(split), len(singles), split)
        print(f"{combo:<19} single-speaker recordings split: {len(split)}/{len(singles)} "
              f"{' '.join(split)}")

    print("\n| VAD + embedder | recording | split | DER | missed s | false alarm s "
          "| confusion s | found/ref | s per min |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r.score
        print(f"| {r.combo} | {r.recording.name} | "
              f"{'held out' if r.recording.held_out else 'tuned'} | {s.der:.1%} "
              f"| {s.missed:.2f} | {s.false_alarm:.2f} | {s.confusion:.2f} "
              f"| {r.found}/{r.reference} | {r.sec_per_min:.2f} |")
    print("\n| VAD + embedder | AMI, all 7 | AMI held out (trn04, trn06) | AMI tuned (5) "
          "| single-speaker recordings split |")
    print("|---|---|---|---|---|")
    for combo, (bad, total, _) in splits.items():
        mine = [r for r in rows if r.combo == combo]
        print(f"| {combo} | {pooled([r for r in mine if r.recording.ami]):.1%} "
              f"| {pooled([r for r in mine if r.recording.held_out]):.1%} "
              f"| {pooled([r for r in mine if r.recording.ami and not r.recording.held_out]):.1%}"
              f" | {bad}/{total} ({bad / max(total, 1):.0%}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
