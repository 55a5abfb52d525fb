"""Peak memory of `dubkit translate`, run by run and stage by stage (Linux).

    python benchmarks/peak_memory.py samples/jfk.mp4 --to ja --runs 3
    python benchmarks/peak_memory.py samples/jfk.mp4 --to es --resumed --runs 2
    python benchmarks/peak_memory.py samples/jfk.mp4 --to ja -- --voice keep --consent-self
    python benchmarks/peak_memory.py samples/jfk.mp4 --to ja --env MALLOC_ARENA_MAX=2

Each run is the real command line in a fresh process (``--force --no-resume``; with
``--resumed`` one such run first fills the job's cache, then each measured run resumes from it).
The peak of a run is the kernel's maximum resident set size of that process (what
``/usr/bin/time -v`` prints). Per stage, a thread in the child reads its own resident size every
20 ms and keeps the largest value seen while each stage was the last one to report progress, so
a stage's figure includes models it loads; beside it the largest anonymous part (resident less
file-backed pages: a memory-mapped GGUF counts in the first, not the second). Models are taken
from ``$DUBKIT_CACHE_DIR``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs inside the measured process: samples its resident size and notes the current stage,
# then runs dubkit's own command line unchanged.
_CHILD = r"""
import atexit, json, os, sys, threading, time
page = os.sysconf("SC_PAGE_SIZE")
state = {"stage": "start", "peaks": {}}
def note(stage):
    with open("/proc/self/statm") as f:
        resident, shared = (int(x) * page for x in f.read().split()[1:3])
    # shared: file-backed pages (mapped model files such as the GGUF) and shared memory
    old = state["peaks"].setdefault(stage, [0, 0])
    old[0], old[1] = max(old[0], resident), max(old[1], resident - shared)
def sample():
    while True:
        note(state["stage"])
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
import dubkit.api
init = dubkit.api.Dubber.__init__
def patched(self, *args, progress=None, **kwargs):
    def hook(event):
        note(state["stage"])
        state["stage"] = event.stage
        if progress is not None:
            progress(event)
    init(self, *args, progress=hook, **kwargs)
dubkit.api.Dubber.__init__ = patched
def report():
    note(state["stage"])
    with open(os.environ["PEAK_MEMORY_REPORT"], "w") as f:
        json.dump(list(state["peaks"].items()), f)
atexit.register(report)
from dubkit.cli.main import main
sys.argv = ["dubkit"] + sys.argv[1:]
main()
"""


def run_once(args: list[str], env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report, log = Path(tmp) / "stages.json", Path(tmp) / "stderr.txt"
        start = time.perf_counter()
        with open(log, "w") as stderr:
            child = subprocess.Popen([sys.executable, "-c", _CHILD, *args],
                                     env={**env, "PEAK_MEMORY_REPORT": str(report)},
                                     stdout=subprocess.DEVNULL, stderr=stderr)
            _, status, usage = os.wait4(child.pid, 0)  # usage: the child's own rusage
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"dubkit failed: {log.read_text().strip()[-500:]}")
        stages = json.loads(report.read_text()) if report.exists() else []
    return {"peak_mb": usage.ru_maxrss / 1024, "wall_s": wall,  # ru_maxrss: KiB on Linux
            "stages": [(s, rss / 2**20, anon / 2**20) for s, (rss, anon) in stages]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--to", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resumed", action="store_true",
                        help="measure runs that resume a finished job")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="set in the measured process (e.g. MALLOC_ARENA_MAX=2)")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)  # after --: more translate options
    args = parser.parse_args(argv[:cut])
    args.extra = argv[cut + 1:]

    env = dict(os.environ)
    env.update(kv.split("=", 1) for kv in args.env)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  commit {commit}  {platform.machine()}, "
          f"{os.cpu_count()} cpus, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"dubkit translate {args.input} --to {args.to} {' '.join(args.extra)}  "
          f"({'resumed' if args.resumed else 'fresh'}; {' '.join(args.env) or 'default env'})")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{args.input.stem}.{args.to}{args.input.suffix}"
        base = ["translate", str(args.input), "--to", args.to, "-o", str(out), "--force",
                *args.extra]
        if args.resumed:
            run_once(base + ["--no-resume"], env)
        for i in range(args.runs):
            result = run_once(base + ([] if args.resumed else ["--no-resume"]), env)
            stages = "  ".join(f"{s} {rss:.0f}/{anon:.0f}" for s, rss, anon in result["stages"])
            print(f"run {i + 1}: peak {result['peak_mb']:.0f} MB, {result['wall_s']:.1f} s | "
                  f"per stage, resident/anonymous MB: {stages}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
