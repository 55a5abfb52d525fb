"""Lines heard alone, a speaker's run of lines heard in one pass, or neighbouring lines of any
speaker heard in one pass: word error rate, who said what, and how many sentences the
translator gets, on real recordings cut into lines as a job cuts them.

    python benchmarks/line_transcription.py [--data ../shared/data] [--sets fleurs,leopard]

Each recording (FLEURS and Picovoice Leopard read sentences, the JFK excerpt, pyannote's
two-speaker telephone call, falcon's three speakers) is cut into lines by the ``cpu`` preset's
VAD, diarizer and segmentation, then transcribed three ways with its Whisper (faster-whisper,
Whisper base): ``alone`` hears every line by itself (dubkit before passages); ``passage`` is a
speaker's close lines in one pass with word times (the job's transcribe step,
``stages.text.transcribe``, before windows); ``window`` hears close lines of any speaker in one
pass (``spans.passages(any_speaker=True)``), each word going back to its line by time. The
lines' texts, joined in time order, are scored against the reference (normalised as
``asr_accuracy.py`` does: WER, CER for ja/ko). Where the reference says who said each word
(pyannote's call, falcon's three speakers), ``cpWER`` scores each diarized speaker's words
against the reference speaker they are matched to (the best one-to-one match, as CHiME-6 does):
a word given to the wrong speaker's line counts there. ``sentences`` counts the spans the
translate step makes (``spans.sentence_spans``): a read FLEURS or Leopard clip is one or two
sentences, so more spans than that are fragments translated without their sentence. Nothing
here was tuned: the passage rule (pauses under 2 s, at most 28 s) was set before measuring.
Needs jiwer and the cpu preset's models.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from asr_accuracy import CER_LANGUAGES, load_clips, normalise  # noqa: E402

from dubkit.progress import ignore_progress  # noqa: E402
from dubkit.types import Segment  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SETS = ("fleurs", "leopard", "jfk", "pyannote", "falcon")
WAYS = ("alone", "passage", "window")


@dataclass(frozen=True)
class Recording:
    set: str
    name: str
    path: Path
    language: str
    reference: str
    by_speaker: dict[str, str] | None = None  # each reference speaker's words, where known


@dataclass(frozen=True)
class Row:
    recording: Recording
    lines: int
    way: str  # one of WAYS
    hypothesis: str
    sentences: int
    seconds: float
    cpwer: float | None = None


def recordings(data: Path, sets: list[str]) -> list[Recording]:
    out = [Recording(c.set, c.path.stem, c.path, c.language, c.reference)
           for c in load_clips(data, [s for s in sets if s not in ("pyannote", "falcon")])]
    if "pyannote" in sets:
        folder = data / "diar_pyannote_sample"
        with open(folder / "sample.stm", encoding="utf-8", newline="") as f:
            rows = [r for r in csv.reader(f, delimiter=" ") if len(r) > 5]
        rows.sort(key=lambda r: float(r[3]))
        said = [(r[2], " ".join(r[5:])) for r in rows]
        out.append(Recording("pyannote", "sample", folder / "sample.wav", "en",
                             " ".join(text for _, text in said), _by_speaker(said)))
    if "falcon" in sets:
        folder = data / "diar_picovoice_falcon"
        with open(folder / "leopard_diarization_test.words.tsv", encoding="utf-8",
                  newline="") as f:
            said = [(r["speaker_tag"], r["word"]) for r in csv.DictReader(f, delimiter="\t")]
        out.append(Recording("falcon", "leopard_diarization_test",
                             folder / "leopard_diarization_test.wav", "en",
                             " ".join(word for _, word in said), _by_speaker(said)))
    return out


def _by_speaker(said: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for speaker, text in said:
        out.setdefault(speaker, []).append(text)
    return {speaker: " ".join(texts) for speaker, texts in out.items()}


def cp_wer(lines: list[Segment], reference: dict[str, str], language: str) -> float:
    """Concatenated minimum-permutation WER: each diarized speaker's lines joined in time
    order, matched one to one with the reference speakers so that the edits are fewest (a
    speaker left unmatched on either side is scored against nothing)."""
    import jiwer
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    hyp: dict[str, list[str]] = {}
    for line in sorted(lines, key=lambda s: s.start):
        hyp.setdefault(line.speaker, []).append(line.source_text)
    hyps = [normalise(" ".join(t), language).split() for t in hyp.values()]
    refs = [normalise(t, language).split() for t in reference.values()]
    size = max(len(hyps), len(refs))
    hyps += [[]] * (size - len(hyps))
    refs += [[]] * (size - len(refs))

    def edits(ref: list[str], hypothesis: list[str]) -> int:
        if not ref or not hypothesis:
            return len(ref) + len(hypothesis)
        out = jiwer.process_words(" ".join(ref), " ".join(hypothesis))
        return out.substitutions + out.deletions + out.insertions

    cost = np.array([[edits(r, h) for h in hyps] for r in refs])
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum()) / max(1, sum(len(r) for r in refs))


def cut_into_lines(vad, diarizer, audio, max_segment: float) -> list[Segment]:
    from dubkit.segmentation import segments_from_turns

    regions = vad.detect(audio)
    if not regions:
        return []
    return segments_from_turns(diarizer.diarize(audio, regions), regions, max_segment)


class _NoCache:
    def run(self, step, item):
        return step.process(item)


def transcribe(transcriber, audio, lines: list[Segment], language: str, way: str):
    """The lines with their text, as the job's transcribe step makes them (no cache), with the
    passage rule of ``way``."""
    from dubkit.stages import text
    from dubkit.translate import spans

    heard_by = transcriber if way != "alone" else _WithoutWordTimes(transcriber)
    backends = SimpleNamespace(get=lambda stage: heard_by, fingerprint=lambda stage: "bench")
    job = SimpleNamespace(backends=backends, runner=_NoCache(), audio_id="bench",
                          timed=lambda stage: nullcontext(), progress=ignore_progress)
    rule = spans.passages
    try:  # the step asks spans.passages for its groups; ``window`` widens the rule
        spans.passages = lambda segments: rule(segments, any_speaker=way == "window")
        return text.transcribe(job, audio, lines, language)
    finally:
        spans.passages = rule


class _WithoutWordTimes:
    """The transcriber, claiming no word times: every line is heard alone."""

    word_times: frozenset[str] = frozenset()

    def __init__(self, transcriber):
        self._transcriber = transcriber

    def __getattr__(self, name):
        return getattr(self._transcriber, name)


def error_rate(rows: list[Row], language_of) -> tuple[float, int]:
    """Corpus-level WER (CER for ja/ko) over ``rows`` and the reference units."""
    import jiwer

    refs, hyps, cer = [], [], False
    for r in rows:
        language = language_of(r)
        cer = cer or language in CER_LANGUAGES
        refs.append(normalise(r.recording.reference, language))
        hyps.append(normalise(r.hypothesis, language) or "<empty>")
    return (jiwer.cer(refs, hyps) if cer else jiwer.wer(refs, hyps)), len(refs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sets", default=",".join(SETS),
                        help="comma-separated subset of " + ", ".join(SETS))
    parser.add_argument("--verbose", action="store_true", help="print every line's text")
    args = parser.parse_args()
    try:
        import jiwer  # noqa: F401
    except ImportError:
        sys.exit("this benchmark needs jiwer: pip install jiwer")
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        sys.exit(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")

    from dubkit.config import load_preset
    from dubkit.media import decode_audio
    from dubkit.models import resolve_model
    from dubkit.registry import create_backend, model_names
    from dubkit.translate.spans import sentence_spans

    preset = load_preset("cpu")

    def backend(stage: str):
        config = preset.stages[stage]
        return create_backend(stage, config, {n: resolve_model(n) for n in model_names(config)})

    vad, diarizer, whisper = backend("vad"), backend("diarization"), backend("transcription")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}, python {platform.python_version()}, {whisper.name}")
    rows: list[Row] = []
    for rec in recordings(args.data, sets):
        audio = decode_audio(rec.path, rate=16000, mono=True)
        lines = cut_into_lines(vad, diarizer, audio, preset.segmentation.max_segment)
        if not lines:
            print(f"{rec.set:<8} {rec.name:<28} no speech found")
            continue
        for way in WAYS:
            started = time.perf_counter()
            heard = transcribe(whisper, audio, lines, rec.language, way)
            seconds = time.perf_counter() - started
            hypothesis = " ".join(s.source_text for s in heard)
            cp = cp_wer(heard, rec.by_speaker, rec.language) if rec.by_speaker else None
            rows.append(Row(rec, len(lines), way, hypothesis, len(sentence_spans(heard)),
                            seconds, cp))
            wer, _ = error_rate([rows[-1]], lambda r: r.recording.language)
            print(f"{rec.set:<8} {rec.name:<28} {rec.language} lines {len(lines):2d} {way:<7} "
                  f"{'CER' if rec.language in CER_LANGUAGES else 'WER'} {wer:6.1%} "
                  + (f"cpWER {cp:6.1%} " if cp is not None else "")
                  + f"sentences {rows[-1].sentences:2d}  {seconds:5.2f} s  "
                  f"{hypothesis[:60]!r}")
            if args.verbose:
                for line in heard:
                    print(f"    {line.start:6.2f}-{line.end:6.2f} {line.speaker} "
                          f"{line.source_text!r}")

    print("\n| set | lang | files | of them cut into lines | WER / CER alone / passage / "
          "window | sentences alone / passage / window | s alone / passage / window |")
    print("|---|---|---:|---:|---|---|---|")
    groups = sorted({(r.recording.set, r.recording.language) for r in rows})
    for set_name, language in groups:
        mine = {way: [r for r in rows if r.way == way
                      and (r.recording.set, r.recording.language) == (set_name, language)]
                for way in WAYS}
        rates = [error_rate(mine[way], lambda r: r.recording.language)[0] for way in WAYS]
        print(f"| {set_name} | {language} | {len(mine['alone'])} "
              f"| {sum(r.lines > 1 for r in mine['alone'])} "
              f"| {' / '.join(f'{x:.1%}' for x in rates)} "
              f"| {' / '.join(str(sum(r.sentences for r in mine[w])) for w in WAYS)} "
              f"| {' / '.join(f'{sum(r.seconds for r in mine[w]):.1f}' for w in WAYS)} |")
    attributed = [r for r in rows if r.cpwer is not None]
    if attributed:
        print("\ncpWER (who said what) alone / passage / window:")
        for name in sorted({r.recording.name for r in attributed}):
            print(f"  {name}: " + " / ".join(
                f"{r.cpwer:.1%}" for w in WAYS for r in attributed
                if r.recording.name == name and r.way == w))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
