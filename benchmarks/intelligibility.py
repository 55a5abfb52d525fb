"""Is every language a preset offers intelligible? Synthesise fixed sentences, hear them back.

    python benchmarks/intelligibility.py --preset cpu
    python benchmarks/intelligibility.py --preset cpu --try kokoro=en,fr,hi,it,pt,zh \
        --results /tmp/intelligibility.jsonl --python

For each target language the preset accepts (what ``DubbingPipeline.target_languages`` gives)
and each of the preset's synthesizers that can speak it, the eight sentences of
benchmarks/data/intelligibility_sentences.json are spoken (sentence i by speaker i, female for
even i and male for odd, so several voices are heard), then transcribed by the preset's own
transcriber with the language forced, as the QA pass does. The score is the corpus CER per
language and synthesizer: edits over reference characters after NFKC, lower case, punctuation
and spaces removed (Hindi's optional nukta dropped, Chinese to simplified characters when
opencc-purepy is installed, Japanese compared as katakana readings through pyopenjtalk, since
Whisper and the reference disagree about kanji and kana). Whisper's own guess of the language
(``detect_language``, not forced) is shown as the most common answer and how many clips got it.

``--try label=codes`` adds languages to one synthesizer of a by-language preset (Kokoro with its
borrowed Japanese voices, say); ``routed`` marks the synthesizer the preset itself would use.
``--results`` keeps one JSON line per clip and reuses them on the next run. ``--python`` prints
the figures in the shape of ``dubkit.synth.intelligibility.MEASURED``. Nothing here is tuned:
the sentences were written once, before any figure was seen.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

SENTENCES = Path(__file__).resolve().parent / "data" / "intelligibility_sentences.json"
GENDERS = ("female", "male")


@dataclass(frozen=True)
class Clip:
    backend: str  # the synthesizer's name ("espeak", "kokoro:kokoro-82m-ja")
    language: str
    index: int
    reference: str
    voice: str
    hypothesis: str
    detected: str
    edits: int
    length: int  # reference characters after normalisation
    duration: float  # seconds of speech
    synth_seconds: float


def load_sentences(path: Path = SENTENCES) -> dict[str, list[str]]:
    return json.loads(path.read_text(encoding="utf-8"))["sentences"]


def _converter():
    try:
        from opencc_purepy import OpenCC
    except ImportError:
        print("note: opencc-purepy is missing, Chinese is scored without traditional-to-"
              "simplified conversion (pip install opencc-purepy)", file=sys.stderr)
        return None
    return OpenCC("t2s")


_T2S = None


def normalise(text: str, language: str) -> str:
    """The characters that are scored: no case, punctuation, symbols or spaces."""
    global _T2S
    text = unicodedata.normalize("NFKC", text)
    if language == "zh":
        _T2S = _T2S if _T2S is not None else (_converter() or False)
        text = _T2S.convert(text) if _T2S else text
    elif language == "ja":
        import pyopenjtalk

        text = pyopenjtalk.g2p(text, kana=True)
    elif language == "hi":
        text = text.replace("\u093c", "")  # nukta: ज़ and ज are both written
    text = text.lower()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PSZC")


@dataclass(frozen=True)
class Speaker:
    label: str  # the preset's name for it; "<label>+try" for a --try copy
    synth: Any
    tried: frozenset[str]  # for a --try copy, the languages it adds; empty for the preset's own


def synthesizers(preset: Any, tried: dict[str, list[str]]) -> list[Speaker]:
    """The preset's synthesizers in its order, each followed by its ``--try`` copy (the same
    backend and model, with more languages)."""
    from dubkit.config import StageConfig
    from dubkit.models import resolve_model
    from dubkit.registry import create_backend, model_names

    config = preset.stages["synthesis"]
    tables = config.options.get("backends") if config.backend == "by-language" else None
    subs = ([(label, StageConfig(t["backend"], {k: v for k, v in t.items() if k != "backend"}))
             for label, t in tables.items()] if tables else [(config.backend, config)])
    unknown = sorted(set(tried) - {label for label, _ in subs})
    if unknown:
        raise SystemExit(f"--try: no synthesizer labelled {', '.join(unknown)}; "
                         f"labels: {', '.join(label for label, _ in subs)}")
    out = []
    for label, sub in subs:
        models = {name: resolve_model(name) for name in model_names(sub)}
        own = create_backend("synthesis", sub, models)
        out.append(Speaker(label, own, frozenset()))
        extra = frozenset(tried.get(label, ())) - own.languages
        if extra:
            more = StageConfig(sub.backend, {**sub.options,
                                             "languages": sorted(own.languages | extra)})
            out.append(Speaker(f"{label}+try", create_backend("synthesis", more, models), extra))
    return out


def offered_languages(backends: Any, synths: list[Speaker]) -> frozenset[str]:
    """What ``DubbingPipeline.target_languages`` offers in a cascade: the languages the preset's
    synthesizers speak that its translator can write (English always)."""
    spoken = frozenset().union(*(sp.synth.languages for sp in synths if not sp.tried))
    if backends.has("translation"):
        spoken &= backends.get("translation").languages | {"en"}
    return spoken


def clip_key(backend: str, language: str, text: str, voice: str, transcriber: str) -> str:
    return hashlib.sha256(json.dumps([backend, language, text, voice, transcriber])
                          .encode()).hexdigest()[:16]


def measure(synth: Any, transcriber: Any, language: str, sentences: list[str],
            done: dict[str, Clip], log: Any) -> list[Clip]:
    from dubkit.synth.base import VoiceRequest

    clips = []
    for i, text in enumerate(sentences):
        voice = synth.voice_for(VoiceRequest(f"SPEAKER_{i:02d}", language, GENDERS[i % 2]))
        key = clip_key(synth.name, language, text, voice, transcriber.name)
        if key in done:
            clips.append(done[key])
            continue
        start = time.perf_counter()
        audio = synth.synthesize(text, language, voice)
        spent = time.perf_counter() - start
        hypothesis = transcriber.transcribe(audio, language).text
        detected, _ = transcriber.detect_language(audio)
        ref, hyp = normalise(text, language), normalise(hypothesis, language)
        clip = Clip(synth.name, language, i, text, voice, hypothesis, detected,
                    Levenshtein.distance(ref, hyp), len(ref), round(audio.duration, 2),
                    round(spent, 2))
        if log is not None:
            log.write(json.dumps({"key": key, **asdict(clip)}, ensure_ascii=False) + "\n")
            log.flush()
        print(f"  {language} {synth.name} {voice}: {clip.edits}/{clip.length} "
              f"[{detected}] {hypothesis[:70]}", file=sys.stderr, flush=True)
        clips.append(clip)
    return clips


def summary(clips: list[Clip]) -> tuple[float, str]:
    """(corpus CER, "fr 7/8": Whisper's most common unforced guess and how often)."""
    cer = sum(c.edits for c in clips) / max(1, sum(c.length for c in clips))
    guess, count = Counter(c.detected for c in clips).most_common(1)[0]
    return cer, f"{guess} {count}/{len(clips)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--languages", help="comma-separated codes; default: all the preset offers")
    parser.add_argument("--try", dest="tried", action="append", default=[], metavar="LABEL=CODES",
                        help="also measure synthesizer LABEL on these languages")
    parser.add_argument("--results", type=Path, help="JSON lines, one per clip; reused if present")
    parser.add_argument("--python", action="store_true",
                        help="print the figures as dubkit.synth.intelligibility data")
    args = parser.parse_args(argv)

    from dubkit.backends import StageBackends
    from dubkit.config import load_preset
    from dubkit.synth.intelligibility import MAX_CER

    preset = load_preset(args.preset)
    tried: dict[str, list[str]] = {}
    for item in args.tried:
        label, _, codes = item.partition("=")
        tried[label] = [c for c in codes.split(",") if c]
    sentences = load_sentences()
    backends = StageBackends(preset)
    synths = synthesizers(preset, tried)
    offered = offered_languages(backends, synths)
    languages = sorted(args.languages.split(",") if args.languages else offered)
    missing = sorted(set(languages) - set(sentences))
    if missing:
        raise SystemExit(f"no sentences for {', '.join(missing)} in {SENTENCES}")
    transcriber = backends.get("transcription")

    done: dict[str, Clip] = {}
    if args.results and args.results.is_file():
        for line in args.results.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            key = row.pop("key")
            done[key] = Clip(**row)
    log = open(args.results, "a", encoding="utf-8") if args.results else None
    rows = []
    try:
        for language in languages:
            routed = next((sp.label for sp in synths
                           if not sp.tried and language in sp.synth.languages), None)
            for sp in synths:
                if language in (sp.tried or sp.synth.languages):
                    clips = measure(sp.synth, transcriber, language, sentences[language], done,
                                    log)
                    rows.append((language, sp.label, sp.synth.name, sp.label == routed,
                                 *summary(clips)))
    finally:
        if log is not None:
            log.close()

    print(f"\nIntelligibility: preset {preset.name}, transcriber {transcriber.name} "
          f"(language forced), {len(next(iter(sentences.values())))} sentences per language, "
          f"limit CER {MAX_CER}")
    print(f"{'lang':5} {'synthesizer':30} {'routed':6} {'CER':>6}  {'Whisper hears':13} verdict")
    for language, label, name, routed, cer, guess in rows:
        shown = f"{name} (tried)" if label.endswith("+try") else name
        verdict = "ok" if cer <= MAX_CER else "UNINTELLIGIBLE"
        print(f"{language:5} {shown:30} {'*' if routed else '':6} {cer:6.3f}  {guess:13} "
              f"{verdict}")
    if args.python:
        table: dict[str, dict[str, float]] = {}
        for language, _, name, _, cer, _ in rows:
            table.setdefault(name, {})[language] = round(cer, 3)
        print("MEASURED = {")
        for name, cers in table.items():
            print(f"    {name!r}: {{" + ", ".join(f"{k!r}: {v}" for k, v in sorted(cers.items()))
                  + "},")
        print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
