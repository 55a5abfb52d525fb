"""A batch of real recordings into two languages: wall time in this process, on Ray with 1 and
2 workers, and against dubbing each language on its own (analysis twice).

    python benchmarks/batch.py --preset cpu --to ja,es
    python benchmarks/batch.py --preset tiny-test --seconds 6 --inputs 4   # a quick look

Inputs: ``--inputs`` cuts of ``--seconds`` from recordings in ../shared/data (JFK, the falcon
and pyannote clips, AMI excerpts), taken where they hold speech, written as 16 kHz WAV. Each
configuration starts from empty output and store folders, in a fresh process-level state
(models are loaded inside the timed run, as a user's batch would). The Ray overhead is Ray with
one worker against the same jobs in this process, with as many threads as a 1-CPU Ray actor
gets (``in-process-1t``); the analysis saving is the in-process batch
against two ``Dubber.translate`` runs per input into fresh job folders (same models, kept
loaded). Per step: seconds summed over the analyses, and over the jobs, of the in-process
batch.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from dubkit import media
from dubkit.types import Audio

DATA = Path(__file__).parents[1].parent / "shared" / "data"
# (recording, where a cut starts, s): speech in each of the first 10 s after it
RECORDINGS = [
    ("en_jfk/jfk.flac", 0.0),
    ("diar_picovoice_falcon/test.wav", 0.0),
    ("diar_pyannote_sample/sample.wav", 0.0),
    ("diar_ami_excerpts/trn00.wav", 0.0),
    ("diar_ami_excerpts/trn04.wav", 14.0),  # its first 14 s are room noise
    ("diar_ami_excerpts/trn03.wav", 0.0),
    ("diar_ami_excerpts/trn05.wav", 0.0),
    ("diar_ami_excerpts/trn06.wav", 0.0),
]
# in-process-1t: the same with OMP_NUM_THREADS=1, which Ray sets in a 1-CPU actor (torch and
# onnxruntime then use one thread): in-process-1t against ray-1 is Ray's own overhead
CONFIGS = ("in-process", "in-process-1t", "ray-1", "ray-2", "separate")


def make_inputs(folder: Path, count: int, seconds: float) -> list[Path]:
    paths = []
    for name, start in RECORDINGS[:count]:
        audio = media.decode_audio(DATA / name, rate=16000, mono=True)
        cut = audio.samples[int(start * 16000):int((start + seconds) * 16000)]
        path = folder / f"{Path(name).parent.name}-{Path(name).stem}.wav"
        media.write_audio(Audio(cut, 16000), path)
        paths.append(path)
    return paths


def run_config(config: str, inputs: list[Path], languages: list[str], preset: str,
               work: Path) -> dict:
    """One configuration in a child process (a clean Ray and clean model state each time)."""
    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "import dubkit\n"
        "config, preset, work, langs, *inputs = sys.argv[1:]\n"
        "langs = langs.split(',')\n"
        "t = time.perf_counter()\n"
        "d = dubkit.Dubber(preset=preset)\n"
        "if config == 'separate':\n"
        "    steps = {}\n"
        "    for i in inputs:\n"
        "        for lang in langs:\n"
        "            r = d.translate(i, to=lang, output=Path(work) / f'{Path(i).stem}.{lang}.wav',"
        " source_language='en')\n"
        "            for k, v in r.timings.items(): steps[k] = steps.get(k, 0) + v\n"
        "    out = {'ok': True, 'steps': steps, 'computed': {}}\n"
        "else:\n"
        "    kw = {'executor': 'ray', 'workers': int(config[4])} if config.startswith('ray') "
        "else {}\n"
        "    r = d.batch(inputs, langs, out=Path(work) / 'out', store=Path(work) / 'store',"
        " source_language='en', **kw)\n"
        "    steps = {}\n"
        "    for j in r.jobs:\n"
        "        for k, v in j.steps.items(): steps[k] = steps.get(k, 0) + v\n"
        "    analysis = {}\n"
        "    for a in r.analyses:\n"
        "        for k, v in a.steps.items(): analysis[k] = analysis.get(k, 0) + v\n"
        "    out = {'ok': r.ok, 'errors': [j.error for j in r.failed], 'steps': steps,"
        " 'analysis': analysis, 'computed': r.computed(),"
        " 'jobs': [(Path(j.input).name, j.language, j.seconds) for j in r.jobs]}\n"
        "out['wall'] = time.perf_counter() - t\n"
        "print('RESULT', json.dumps(out))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    if config.endswith("-1t"):
        env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run([sys.executable, "-c", code, config, preset, str(work),
                           ",".join(languages), *map(str, inputs)], capture_output=True,
                          text=True, env=env)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{config} failed:\n{done.stderr[-3000:]}")
    import json

    return json.loads(line[len("RESULT "):])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--to", default="ja,es")
    parser.add_argument("--inputs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args()
    languages = args.to.split(",")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}; preset {args.preset}; into {args.to}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = make_inputs(folder, args.inputs, args.seconds)
        duration = sum(media.probe(p).duration for p in inputs)
        print(f"{len(inputs)} inputs, {duration:.1f} s of media, {len(languages)} languages")
        results = {}
        for config in args.configs.split(","):
            work = folder / config
            work.mkdir()
            started = time.strftime("%H:%M:%S")
            results[config] = run_config(config, inputs, languages, args.preset, work)
            r = results[config]
            print(f"{config:<11} wall {r['wall']:7.1f} s  RTF {r['wall'] / duration:5.2f}  "
                  f"(started {started}, load {os.getloadavg()[0]:.2f} after)"
                  + ("" if r["ok"] else f"  FAILED: {r.get('errors')}"))
        for local in ("in-process", "in-process-1t"):
            if local in results and "ray-1" in results:
                a, b = results[local]["wall"], results["ray-1"]["wall"]
                print(f"Ray overhead (ray-1 against {local}): {b - a:+.1f} s = "
                      f"{100 * (b - a) / b:+.1f} % of Ray's wall time")
        if "in-process" in results and "separate" in results:
            a, b = results["in-process"]["wall"], results["separate"]["wall"]
            print(f"analysing once (in-process batch against separate runs): {b - a:.1f} s "
                  f"saved = {100 * (b - a) / b:.1f} %")
        base = results.get("in-process") or next(iter(results.values()))
        if base.get("jobs"):
            print("seconds per job (in-process batch; a source's analysis not included):")
            for name, language, seconds in base["jobs"]:
                print(f"  {name:<40} {language}  {seconds:7.1f}")
        for what in ("analysis", "steps"):
            print("seconds per step (in-process batch, "
                  + ("the analyses of sources with several languages):" if what == "analysis"
                     else "every job):"))
            for step, seconds in Counter(base.get(what, {})).most_common():
                print(f"  {step:<12} {seconds:8.2f}")
        if base.get("computed"):
            print("computed per step:", base["computed"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
