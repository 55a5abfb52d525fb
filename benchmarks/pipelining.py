"""Does speaking one sentence while the next is translated save time on this machine?

    python benchmarks/pipelining.py [--to es] [--preset cpu] [--repeat 2]

Eight English sentences from the ../shared/data references are translated by the preset's
translator and spoken by its synthesizer three ways, with both models loaded and warmed first:
translation alone, synthesis alone (of the same translations), and the two overlapped the way a
pipelined job would run them (one thread translates sentence after sentence and hands each to a
second thread that speaks it, through a queue). Printed: the seconds of each and the overlapped
time against the sum of the two alone (below 1.00: pipelining gains). Each model already uses
every core, so on a small machine the overlap can cost more than it saves.
"""
from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from pathlib import Path

from dubkit.synth.base import VoiceRequest
from dubkit.translate.base import TranslationRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diarization import preset_backend  # noqa: E402

SENTENCES = (
    "Hello, I didn't know you were there.", "I thought, you know, I heard a beep.",
    "This is Diane in New Jersey.", "Oh, I'm originally from Chicago.",
    "Well, there's not much difference.",
    "At least, you know, they all call me a Yankee down here.",
    "We are expecting some turbulence.", "Ladies and gentlemen, please fasten your seat belts.",
)


def fresh(translator) -> None:
    """Forget earlier answers, so that each pass translates every sentence again."""
    forget = getattr(translator, "forget", None)  # a translator that remembers (the LLM)
    if forget is not None:
        forget()


def one_pass(translator, synthesizer, target: str, voice: str) -> tuple[float, float, float]:
    fresh(translator)
    start = time.perf_counter()
    texts = [translator.translate([TranslationRequest(s)], "en", target)[0] for s in SENTENCES]
    alone_translate = time.perf_counter() - start
    start = time.perf_counter()
    for text in texts:
        synthesizer.synthesize(text, target, voice)
    alone_speak = time.perf_counter() - start

    fresh(translator)
    handed: queue.Queue[str | None] = queue.Queue()

    def speak() -> None:
        while (text := handed.get()) is not None:
            synthesizer.synthesize(text, target, voice)

    start = time.perf_counter()
    speaker = threading.Thread(target=speak)
    speaker.start()
    for sentence in SENTENCES:
        handed.put(translator.translate([TranslationRequest(sentence)], "en", target)[0])
    handed.put(None)
    speaker.join()
    return alone_translate, alone_speak, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default="es")
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    translator = preset_backend(args.preset, "translation")
    synthesizer = preset_backend(args.preset, "synthesis")
    voice = synthesizer.voice_for(VoiceRequest("S1", args.to, "female"))
    warm = translator.translate([TranslationRequest("Good morning.")], "en", args.to)[0]
    synthesizer.synthesize(warm, args.to, voice)  # both models loaded before any timing
    print(f"preset {args.preset}, en -> {args.to}, {len(SENTENCES)} sentences, voice {voice}")
    for run in range(1, args.repeat + 1):
        translate, speak, overlapped = one_pass(translator, synthesizer, args.to, voice)
        print(f"run {run}: translate alone {translate:.1f} s, speak alone {speak:.1f} s, "
              f"sum {translate + speak:.1f} s, overlapped {overlapped:.1f} s "
              f"({overlapped / (translate + speak):.2f} of the sum)")


if __name__ == "__main__":
    main()
