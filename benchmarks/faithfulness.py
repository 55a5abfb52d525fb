"""How often the faithfulness checks fire on the cpu preset's LLM, and how often a retry fixes it.

    python benchmarks/faithfulness.py [--to es ja fr] [--limit N] [--data ../shared/data]
                                      [--show]

Sentences: the human reference transcripts of ../shared/data (en_jfk first, then
multi_picovoice_leopard, diar_pyannote_sample's speaker-attributed lines, multi_speechrecognition,
fleurs_asr), split into sentences. Each is translated into every ``--to`` language other than its
own by the preset's translator (Qwen2.5 1.5B through llama.cpp, greedy), with the checks and one
faithfulness retry on. Every call to the model is recorded, so for each check the script counts:
- fired: the first answer passed the script checks but lost a negation / number / name / question;
- fixed: the retry's answer no longer has that finding (and passes the script checks);
- flagged: the final translation still carries the flag.
``--show`` prints every finding with the source, the first answer and the retry's, to read for
false alarms. ``--limit`` caps the sentences per target language (0: all).
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

from dubkit.models import resolve_model
from dubkit.translate.base import TranslationRequest
from dubkit.translate.faithfulness import FAITHFULNESS_FLAGS, check_faithfulness
from dubkit.translate.llm import LlamaCppTranslator, clean_output, split_sentences
from dubkit.translate.script_check import is_repetitive, translation_flags

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
CHECKS = [flag.removeprefix("translation-") for flag in FAITHFULNESS_FLAGS]


def sentences(data: Path) -> list[tuple[str, str, str]]:
    """(corpus, language, sentence) from every human (or repository) reference."""
    rows: list[tuple[str, str, str]] = []

    def tsv(path: Path) -> list[dict[str, str]]:
        with open(path, encoding="utf-8") as f:
            return list(csv.DictReader(f, delimiter="\t"))

    with open(data / "en_jfk" / "transcript.tsv", encoding="utf-8") as f:
        rows += [("en_jfk", r[1], r[2]) for r in csv.reader(f, delimiter="\t")]
    rows += [("picovoice", r["lang"], r["transcript"])
             for r in tsv(data / "multi_picovoice_leopard" / "transcripts.tsv")]
    stm = (data / "diar_pyannote_sample" / "sample.stm").read_text(encoding="utf-8")
    rows += [("pyannote", "en", line.split(maxsplit=5)[5])
             for line in stm.splitlines() if len(line.split(maxsplit=5)) == 6]
    rows += [("speechrecognition", r["lang"], r[next(k for k in r if k.startswith("expected"))])
             for r in tsv(data / "multi_speechrecognition" / "transcript.tsv")]
    rows += [("fleurs", r["lang"], r["transcript"])
             for r in tsv(data / "fleurs_asr" / "transcripts.tsv")]
    return [(corpus, lang, s) for corpus, lang, text in rows for s in split_sentences(text)]


class Recorder:
    """A ``generate`` hook over the real engine that keeps every (prompt, reply)."""

    def __init__(self, engine: LlamaCppTranslator) -> None:
        self.engine = engine
        self.calls: list[tuple[str, str]] = []

    def __call__(self, messages: list[dict[str, str]], max_tokens: int) -> str:
        reply = self.engine._chat(messages, max_tokens)  # the engine's own call, unchanged
        self.calls.append((messages[-1]["content"], reply))
        return reply


def findings_of(sentence: str, reply: str, source: str, target: str) -> set[str] | None:
    """The checks an answer fails; None when it fails a script check (not judged)."""
    text = clean_output(reply, sentence, (source, target))
    if translation_flags(sentence, text, source, target) or (
            is_repetitive(text) and not is_repetitive(sentence)):
        return None
    return {f.check for f in check_faithfulness(sentence, text, source, target)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", nargs="+", default=["es", "ja"])
    parser.add_argument("--limit", type=int, default=0, help="sentences per target (0: all)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show", action="store_true", help="print every finding")
    args = parser.parse_args()
    if not (args.data / "en_jfk").is_dir():
        print(f"no shared data at {args.data}", file=sys.stderr)
        return 1
    path = resolve_model("qwen2.5-1.5b-instruct").path
    engine = LlamaCppTranslator(path)
    recorder = Recorder(engine)
    translator = LlamaCppTranslator(path, generate=recorder, context=False)
    all_sentences = sentences(args.data)
    started, count = time.time(), 0
    for target in args.to:
        todo = [row for row in all_sentences if row[1] != target]
        todo = todo[: args.limit] if args.limit else todo
        judged = 0
        fired, fixed, flagged = Counter(), Counter(), Counter()
        for corpus, source, sentence in todo:
            recorder.calls.clear()
            [(final, flags)] = translator.translate_with_flags(
                [TranslationRequest(sentence)], source, target)
            count += 1
            print(f"\r{target}: {count} sentences, {time.time() - started:.0f} s",
                  end="", file=sys.stderr, flush=True)
            first = findings_of(sentence, recorder.calls[0][1], source, target)
            if first is None:
                continue
            judged += 1
            # the faithfulness retry repeats the first prompt with a note after it
            opening = recorder.calls[0][0]
            retry = next((reply for prompt, reply in recorder.calls[1:]
                          if prompt.startswith(opening) and prompt != opening), None)
            after = findings_of(sentence, retry, source, target) if retry is not None else None
            for check in first:
                fired[check] += 1
                fixed[check] += after is not None and check not in after
            for check in CHECKS:
                flagged[check] += f"translation-{check}" in flags
            if first and args.show:
                print(f"[{source}->{target} {corpus}] {sorted(first)}\n  src:   {sentence}\n"
                      f"  first: {clean_output(recorder.calls[0][1], sentence)}\n"
                      f"  retry: {clean_output(retry, sentence) if retry else '-'}\n"
                      f"  final: {final}  {flags}", flush=True)
        print(f"\n## into {target}: {len(todo)} sentences, {judged} judged "
              f"(first answer passed the script checks)")
        print("| check | fired on first answer | fixed by the retry | still flagged |")
        print("|---|---|---|---|")
        for check in CHECKS:
            print(f"| {check} | {fired[check]} | {fixed[check]} | {flagged[check]} |")
        sys.stdout.flush()
    elapsed = time.time() - started
    print(f"\n{count} sentences in {elapsed:.0f} s ({elapsed / max(count, 1):.1f} s a sentence, "
          "retries included)")
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
