"""Word error rate, language identification and speed of a transcriber on real recordings.

    python benchmarks/asr_accuracy.py --model whisper-base
    python benchmarks/asr_accuracy.py --model whisper-tiny-en --sets jfk,fleurs --verbose

Reads ../shared/data (FLEURS read speech, the Picovoice Leopard sentences, the JFK excerpt),
transcribes each clip in its true language and asks the model which language it hears. Scores
are corpus-level per set and language: WER for languages written with spaces, CER for ja/zh/ko
(spaces removed). References and hypotheses are normalised alike: NFKC, lower case, punctuation
to spaces (apostrophes dropped), whitespace collapsed; numbers are not spelled out, so "25" against
"twenty five" counts as errors. Seconds per clip is the wall time of ``transcribe`` alone (the
model is loaded and warmed up first); RTF is that time over the clip's duration. Needs jiwer.
"""
from __future__ import annotations

import argparse
import csv
import platform
import re
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
CER_LANGUAGES = frozenset({"ja", "zh", "ko"})
SETS = ("fleurs", "leopard", "jfk")


@dataclass(frozen=True)
class Clip:
    set: str
    path: Path
    language: str
    reference: str


@dataclass(frozen=True)
class Result:
    clip: Clip
    hypothesis: str
    detected: str
    seconds: float  # wall time of transcribe
    duration: float  # seconds of audio


def load_clips(data: Path, sets: list[str]) -> list[Clip]:
    """Every clip of the chosen sets with its language and reference text."""
    sources = {
        "fleurs": (data / "fleurs_asr", "transcripts.tsv", True),
        "leopard": (data / "multi_picovoice_leopard", "transcripts.tsv", True),
        "jfk": (data / "en_jfk", "transcript.tsv", False),
    }
    clips = []
    for name in sets:
        folder, table, header = sources[name]
        with open(folder / table, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        for row in rows[1 if header else 0:]:
            if len(row) >= 3:
                clips.append(Clip(name, folder / row[0], row[1], row[2]))
    return clips


def normalise(text: str, language: str) -> str:
    """Lower case without punctuation, as FLEURS writes its references; for CER languages the
    spaces go too (their references and Whisper disagree about where they belong)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"['’`´]", "", text)
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    if language in CER_LANGUAGES:
        return "".join(text.split())
    return " ".join(text.split())


def score(results: list[Result], language: str) -> float:
    """Corpus-level WER (or CER) over ``results``: total edits over total reference units."""
    import jiwer

    refs = [normalise(r.clip.reference, language) for r in results]
    hyps = [normalise(r.hypothesis, language) for r in results]
    if language in CER_LANGUAGES:
        return jiwer.cer(refs, hyps)
    return jiwer.wer(refs, hyps)


def _row(set_name: str, language: str, group: list[Result], error_rate: str) -> str:
    """One line of the markdown table."""
    lid = sum(r.detected == r.clip.language for r in group) / len(group)
    seconds = sum(r.seconds for r in group)
    rtf = seconds / sum(r.duration for r in group)
    return (f"| {set_name} | {language} | {len(group)} | {error_rate} | {100 * lid:.0f}% "
            f"| {seconds / len(group):.2f} | {rtf:.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="whisper-base", help="catalog name (whisper-base)")
    parser.add_argument("--model-path", type=Path, help="a CTranslate2 Whisper folder instead")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated subset of "
                        + ", ".join(SETS))
    parser.add_argument("--compute-type", default="auto")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--no-normalize", action="store_true", help="skip peak normalisation")
    parser.add_argument("--vad", action="store_true", help="faster-whisper's Silero VAD filter")
    parser.add_argument("--verbose", action="store_true", help="print every hypothesis")
    args = parser.parse_args()

    try:
        import jiwer  # noqa: F401
    except ImportError:
        sys.exit("this benchmark needs jiwer: pip install jiwer")
    from dubkit.media import decode_audio
    from dubkit.models import resolve_model
    from dubkit.translate.faster_whisper import FasterWhisperTranscriber

    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        sys.exit(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    path = args.model_path or resolve_model(args.model).path
    asr = FasterWhisperTranscriber(path, compute_type=args.compute_type,
                                   beam_size=args.beam_size, normalize=not args.no_normalize,
                                   vad_filter=args.vad)
    clips = [c for c in load_clips(args.data, sets) if c.language in asr.languages]

    start = time.perf_counter()
    _ = asr.model
    load_seconds = time.perf_counter() - start
    warm = decode_audio(clips[0].path, rate=16000, mono=True)
    asr.transcribe(warm, clips[0].language)  # first call pays one-off allocations

    results = []
    for clip in clips:
        audio = decode_audio(clip.path, rate=16000, mono=True)
        detected, _ = asr.detect_language(audio)
        start = time.perf_counter()
        text = asr.transcribe(audio, clip.language).text
        results.append(Result(clip, text, detected, time.perf_counter() - start, audio.duration))
        if args.verbose:
            print(f"{clip.path.name} [{clip.language}->{detected}] {text}", file=sys.stderr)

    on = {True: "on", False: "off"}
    print(f"model {args.model_path or args.model} ({asr.compute_type}, {asr.device}, "
          f"{asr.cpu_threads} threads, beam {asr.beam_size}, normalize {on[asr.normalize]}, "
          f"vad {on[asr.vad_filter]}), load {load_seconds:.1f} s; "
          f"{platform.machine()}, python {platform.python_version()}")
    print()
    print("| set | lang | clips | WER / CER | LID acc. | s / clip | RTF |")
    print("|---|---|---:|---:|---:|---:|---:|")
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.clip.set, r.clip.language), []).append(r)
    for (set_name, language), group in groups.items():
        metric = "CER" if language in CER_LANGUAGES else "WER"
        print(_row(set_name, language, group, f"{metric} {100 * score(group, language):.1f}%"))
    print(_row("all", "", results, ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
