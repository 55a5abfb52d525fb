"""Latency of the live interpreter: recordings played at real-time pace, as ``dubkit live
--input`` plays them, from the end of each phrase's speech to the first sample of its
translation, per file and per target language, with where the time went.

    python benchmarks/live_latency.py                        # es, ja, en over the shared data
    python benchmarks/live_latency.py --to es --files ../shared/data/en_jfk/jfk.flac
    python benchmarks/live_latency.py --soak 30 --to es      # 30 min looped: memory, lost phrases
    python benchmarks/live_latency.py --to es --preset my-live.toml   # another preset file

Figures: per file, phrases heard / spoken / silent (no words) / skipped (with a notice), latency
p50 and p95, and the mean seconds of each stage (endpoint: the wait for a pause to count as the
end; transcribe, translate, speak: model time; queue: waiting for a thread). With ``--soak``, the
process's resident memory after the first minute and at the end, and every phrase accounted for.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FILES = [
    DATA / "en_jfk" / "jfk.flac",
    DATA / "diar_pyannote_sample" / "sample.wav",
    DATA / "diar_picovoice_falcon" / "test.wav",
    *sorted((DATA / "diar_ami_excerpts").glob("trn0[0-3].wav")),
]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered))) - 1))]


def session(path: Path, target: str, backends, realtime: bool, loops: int = 1,
            first_words: int | None = None):
    from dubkit.live.audio_io import FileSource
    from dubkit.live.interpreter import Interpreter
    from dubkit.live.session import run_session

    live = Interpreter(backends.preset, to=target, source="en", backends=backends,
                       first_words=first_words)
    source = FileSource(path, realtime=realtime, loops=loops)
    memory = {}

    def chunks():
        started = time.monotonic()
        for chunk in source.chunks():
            if "first_minute" not in memory and time.monotonic() - started > 60:
                memory["first_minute"] = rss_mb()
            yield chunk

    report = run_session(live, chunks(), player=None, gate=False)
    memory["end"] = rss_mb()
    speech = report.first_speech
    return live, report, speech, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default="es,ja,en", help="target languages, comma-separated")
    parser.add_argument("--files", nargs="*", type=Path, default=None)
    parser.add_argument("--fast", action="store_true", help="not at real-time pace (debug)")
    parser.add_argument("--soak", type=float, default=0.0,
                        help="minutes: loop the first file this long instead")
    parser.add_argument("--preset", default="live", help="preset name or .toml file")
    parser.add_argument("--first-words", type=int, default=None,
                        help="cut a long first clause after this many words (default: the "
                             "interpreter's)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from dubkit.backends import StageBackends
    from dubkit.config import load_preset
    from dubkit.live.interpreter import Interpreter

    files = [f for f in (args.files or FILES) if f.is_file()]
    if not files:
        print("no recordings found (../shared/data is absent)", file=sys.stderr)
        return 2
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores, preset {args.preset}, "
          f"{'fast' if args.fast else 'real time'}")
    preset = load_preset(args.preset)
    backends = StageBackends(preset)
    for target in args.to.split(","):
        started = time.perf_counter()
        Interpreter(preset, to=target, source="en", backends=backends).warm_up()
        print(f"\n## en -> {target} (models loaded and warmed in "
              f"{time.perf_counter() - started:.1f} s)")
        if args.soak:
            path = files[0]
            from dubkit import media

            loops = max(1, int(args.soak * 60 / media.probe(path).duration))
            live, report, speech, memory = session(path, target, backends, not args.fast, loops,
                                                     args.first_words)
            c = live.counts
            lost = c["heard"] - c["spoken"] - c["silent"] - c["skipped"]
            print(f"soak {path.name} x{loops} ({report.duration / 60:.1f} min): RSS after 1 min "
                  f"{memory.get('first_minute', float('nan')):.0f} MB, at the end "
                  f"{memory['end']:.0f} MB; phrases {c}; lost without a notice: {lost}; "
                  f"latency p50 {statistics.median(report.latencies):.2f} s, "
                  f"p95 {percentile(report.latencies, 0.95):.2f} s")
            continue
        print("| file | s | heard | spoken | silent | skipped | p50 | p95 | endpoint | "
              "transcribe | translate | speak | queue |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        every: list[float] = []
        for path in files:
            live, report, speech, _ = session(path, target, backends, not args.fast,
                                          first_words=args.first_words)
            latencies = [s.latency for s in speech]
            every += latencies
            stages = {k: statistics.mean(s.stages[k] for s in speech) if speech else 0.0
                      for k in ("endpoint", "transcribe", "translate", "speak", "queue")}
            c = live.counts
            p50 = f"{statistics.median(latencies):.2f}" if latencies else "-"
            p95 = f"{percentile(latencies, 0.95):.2f}" if latencies else "-"
            print(f"| {path.parent.name}/{path.name} | {report.duration:.0f} | {c['heard']} | "
                  f"{c['spoken']} | {c['silent']} | {c['skipped']} | {p50} | {p95} | "
                  + " | ".join(f"{stages[k]:.2f}" for k in stages) + " |", flush=True)
        if every:
            print(f"all files: {len(every)} phrases, p50 {statistics.median(every):.2f} s, "
                  f"p95 {percentile(every, 0.95):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
