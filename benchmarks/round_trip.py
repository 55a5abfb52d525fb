"""Round-trip quality of real dubs: does the dubbed speech still say what the source said?

    python benchmarks/round_trip.py [--preset cpu] [--data ../shared/data] [--limit N]

For each clip with a human transcript in ../shared/data (FLEURS, Picovoice Leopard, JFK):
- English clips are dubbed into es and ja. The dub is transcribed by Whisper in the target
  language (its character error rate against the text dubkit meant to speak says how
  intelligible the synthesis is), and Whisper's speech translation of the dub back into English is
  scored with BLEU against the English reference.
- es, fr and de clips are dubbed into English. The dub's English transcript is scored against
  the dubbed text (CER), and translated back into the source language by the preset's text
  translator, scored with BLEU against the source reference.

BLEU is sacrebleu's corpus BLEU (13a tokenizer; "ja-mecab" is not used, so ja is character
tokenised with "char"). Prints one markdown table by direction.
"""
from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import jiwer
import sacrebleu

from dubkit import Dubber, media
from dubkit.models import resolve_model
from dubkit.translate.base import TranslationRequest
from dubkit.types import ANALYSIS_RATE

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def clips(data: Path) -> list[tuple[Path, str, str]]:
    """(audio, language, reference transcript) for every clip with a human reference."""
    out = []
    with open(data / "fleurs_asr" / "transcripts.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out.append((data / "fleurs_asr" / row["audio"], row["lang"], row["transcript"]))
    with open(data / "multi_picovoice_leopard" / "transcripts.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out.append((data / "multi_picovoice_leopard" / row["file"], row["lang"],
                        row["transcript"]))
    with open(data / "en_jfk" / "transcript.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    out.append((data / "en_jfk" / "jfk.flac", "en", rows[-1][-1]))
    return out


def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces (as FLEURS references are)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def cer(reference: str, hypothesis: str) -> float:
    ref, hyp = normalise(reference).replace(" ", ""), normalise(hypothesis).replace(" ", "")
    return jiwer.cer(ref, hyp) if ref else float(bool(hyp))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="clips per source language (0: all)")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}", file=sys.stderr)
        return 1

    from dubkit.translate.faster_whisper import FasterWhisperTranscriber

    whisper = FasterWhisperTranscriber(resolve_model("whisper-base").path)
    dubber = Dubber(preset=args.preset)
    plan = {"en": ("es", "ja"), "es": ("en",), "fr": ("en",), "de": ("en",)}
    taken: dict[str, int] = defaultdict(int)
    rows: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    with tempfile.TemporaryDirectory() as tmp:
        for path, lang, reference in clips(args.data):
            if lang not in plan or (args.limit and taken[lang] >= args.limit):
                continue
            taken[lang] += 1
            work = Path(tmp) / f"{lang}-{path.stem}{path.suffix}"
            shutil.copy(path, work)
            for target in plan[lang]:
                started = time.perf_counter()
                result = dubber.translate(work, to=target, source_language=lang,
                                          output=work.with_name(f"{work.stem}.{target}.wav"))
                seconds = time.perf_counter() - started
                dub = media.decode_audio(result.output, rate=ANALYSIS_RATE, mono=True)
                spoken = " ".join(s.target_text for s in result.segments)
                heard = whisper.transcribe(dub, target).text
                direction = f"{lang} -> {target}"
                rows[direction]["cer"].append(cer(spoken, heard))
                if lang == "en":
                    back = whisper.transcribe(dub, target, task="translate").text
                else:
                    translator = dubber.pipeline.backends.get("translation")
                    back = translator.translate([TranslationRequest(heard)], target, lang)[0]
                rows[direction]["back"].append(normalise(back))
                rows[direction]["ref"].append(normalise(reference))
                rows[direction]["seconds"].append(seconds)
                print(f"{direction} {path.name}: heard {heard!r} / back {back!r}",
                      file=sys.stderr)

    print("| direction | clips | BLEU of the round trip | CER of the dub's transcript "
          "vs its text | seconds per clip |")
    print("|---|---|---|---|---|")
    for direction, r in rows.items():
        bleu = sacrebleu.corpus_bleu(r["back"], [r["ref"]]).score
        mean_cer = sum(r["cer"]) / len(r["cer"])
        mean_s = sum(r["seconds"]) / len(r["seconds"])
        print(f"| {direction} | {len(r['ref'])} | {bleu:.1f} | {mean_cer:.3f} | {mean_s:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
