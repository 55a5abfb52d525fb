"""Spoken-language identification: one guess over the first 30 s of speech (before) against
windows spread over the whole input, combined, with refusals (after).

    python benchmarks/language_id.py [--data ../shared/data] [--preset cpu] [--only PATTERN]

Every recording in ../shared/data (FLEURS, the Picovoice Leopard sentences, the speech_recognition
short clips, JFK, the diarization clips; all of them in their one known language) is heard in four
conditions: ``plain`` (the preset's VAD regions), ``music`` (25 s of ``dubkit.testing.music`` in
front, which the VAD is taken to have called speech: the failure seen on real videos), and
``short1.5`` / ``short3`` (1.5 s or 3 s of speech from the middle of the VAD regions: the short
clips that were mistaken for neighbouring languages).

Before: the transcriber's ``detect_language`` on the first 30 s of VAD speech joined (what dubkit
did). After: ``analysis.language_id.choose_windows``, the ``DetectLanguage`` step,
``combine`` and ``decide`` with the transcriber's thresholds; "refused" is ``UncertainLanguage``.

Split: within each data folder, files sorted by (language, name) are alternately ``tune`` and
``held``, starting with ``tune``. The combination and thresholds were chosen on ``tune`` only.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubkit.analysis.language_id import choose_windows, combine, decide
from dubkit.errors import UncertainLanguage
from dubkit.types import Audio, SpeechRegion

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
BEFORE_SECONDS = 30.0  # the old probe: this much VAD speech from the start
MUSIC_SECONDS = 25.0
CONDITIONS = ("plain", "music", "short1.5", "short3")


@dataclass(frozen=True)
class Recording:
    path: Path
    language: str
    split: str  # "tune" or "held"


def _table(folder: Path, name: str, header: bool = True) -> list[tuple[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(r[0], r[1]) for r in rows[1 if header else 0:] if len(r) >= 2]


def recordings(data: Path) -> list[Recording]:
    """Every recording with its language, split as the module says."""
    folders: dict[str, list[tuple[str, str]]] = {
        "fleurs_asr": _table(data / "fleurs_asr", "transcripts.tsv"),
        "multi_picovoice_leopard": _table(data / "multi_picovoice_leopard", "transcripts.tsv"),
        "multi_speechrecognition": _table(data / "multi_speechrecognition", "transcript.tsv"),
        "en_jfk": [("jfk.flac", "en")],
        "diar_pyannote_sample": [("sample.wav", "en")],
        "diar_picovoice_falcon": [("test.wav", "en"), ("leopard_diarization_test.wav", "en")],
        "diar_ami_excerpts": [(f"trn0{i}.wav", "en") for i in range(7)],
    }
    out = []
    for folder, files in folders.items():
        for i, (name, language) in enumerate(sorted(files, key=lambda f: (f[1], f[0]))):
            out.append(Recording(data / folder / name, language, ("tune", "held")[i % 2]))
    return out


def joined(audio: Audio, spans) -> Audio:
    return Audio(np.concatenate([audio.slice(s, e).samples for s, e in spans]
                                or [np.zeros(0, np.float32)]), audio.rate)


def middle(regions: list[SpeechRegion], seconds: float) -> list[SpeechRegion] | None:
    """``seconds`` of the regions' speech around its middle, or None when there is too little."""
    total = sum(r.duration for r in regions)
    if total < seconds + 0.5:
        return None
    lo, out, at = (total - seconds) / 2, [], 0.0
    for r in regions:
        a, b = max(lo, at), min(lo + seconds, at + r.duration)
        if b > a:
            out.append(SpeechRegion(r.start + a - at, r.start + b - at))
        at += r.duration
    return out


def conditions(audio: Audio, regions: list[SpeechRegion], seed: int):
    """(name, audio, regions) of each condition that applies."""
    from dubkit.testing.music import music

    yield "plain", audio, regions
    intro = music(MUSIC_SECONDS, bpm=90 + seed % 40, seed=seed)
    mixed = Audio(np.concatenate([intro.samples, audio.samples]), audio.rate)
    yield "music", mixed, [SpeechRegion(0.0, MUSIC_SECONDS),
                           *(r.with_offset(MUSIC_SECONDS) for r in regions)]
    for seconds in (1.5, 3.0):
        crop = middle(regions, seconds)
        if crop:
            yield f"short{seconds:g}", audio, crop


def before(asr, audio: Audio, regions: list[SpeechRegion]) -> str:
    spans, total = [], 0.0
    for r in regions:
        take = min(r.duration, BEFORE_SECONDS - total)
        if take <= 0:
            break
        spans.append((r.start, r.start + take))
        total += take
    return asr.detect_language(joined(audio, spans))[0] if spans else "-"


def after(step, audio: Audio, regions: list[SpeechRegion]) -> tuple[str, str]:
    """(language or "refused", the top candidates as text)."""
    from dubkit.steps.analysis import LanguageProbe

    windows = tuple(choose_windows(regions))
    if not windows:
        return "-", ""
    evidence = step.process(LanguageProbe("bench", audio, windows))
    estimate = combine(evidence.guesses)
    shown = " ".join(f"{c}:{p:.2f}" for c, p in estimate.candidates[:2])
    shown += f" agree {estimate.agreement:.2f}, {len(windows)} win"
    try:
        return decide(estimate, evidence.thresholds)[0], shown
    except UncertainLanguage:
        return "refused", shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--preset", default="cpu", help="VAD and transcriber of this preset")
    parser.add_argument("--only", default="", help="recordings whose path contains this")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    from dubkit.backends import StageBackends
    from dubkit.config import load_preset
    from dubkit.media import decode_audio
    from dubkit.steps.analysis import DetectLanguage

    backends = StageBackends(load_preset(args.preset))
    vad, asr = backends.get("vad"), backends.get("transcription")
    step = DetectLanguage(backends)
    rows = []  # (split, condition, path, language, before, after, detail)
    print("| file | split | lang | condition | before | after | after: top 2, agreement |")
    print("|---|---|---|---|---|---|---|")
    start = time.perf_counter()
    spent = {"before": 0.0, "after": 0.0}  # seconds in each method
    for rec in recordings(args.data):
        name = str(rec.path.relative_to(args.data))
        if args.only not in name:
            continue
        audio = decode_audio(rec.path, rate=16000, mono=True)
        regions = vad.detect(audio)
        for cond, a, regs in conditions(audio, regions, zlib.crc32(rec.path.name.encode()) % 1000):
            t0 = time.perf_counter()
            old = before(asr, a, regs)
            t1 = time.perf_counter()
            new, detail = after(step, a, regs)
            spent["before"] += t1 - t0
            spent["after"] += time.perf_counter() - t1
            rows.append((rec.split, cond, name, rec.language, old, new))
            mark = {rec.language: "", "refused": "", "-": " (no speech)"}.get(new, " **wrong**")
            print(f"| {name} | {rec.split} | {rec.language} | {cond} | {old} | {new}{mark} "
                  f"| {detail} |", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s in all; language ID {spent['before']:.0f} s "
          f"before, {spent['after']:.0f} s after; preset {args.preset}, transcriber {asr.name}, "
          f"{len(rows)} cases")
    print("\n| split | condition | n | before right | after right | after wrong | after refused "
          "| no speech |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for split in ("tune", "held", "all"):
        for cond in (*CONDITIONS, "all"):
            group = [r for r in rows if split in ("all", r[0]) and cond in ("all", r[1])]
            if not group:
                continue
            n = len(group)
            right_before = sum(r[4] == r[3] for r in group)
            right = sum(r[5] == r[3] for r in group)
            refused = sum(r[5] == "refused" for r in group)
            silent = sum(r[5] == "-" for r in group)  # the VAD found none: NoSpeech before this
            print(f"| {split} | {cond} | {n} | {right_before} ({right_before / n:.0%}) "
                  f"| {right} ({right / n:.0%}) | {n - right - refused - silent} | {refused} "
                  f"| {silent} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
