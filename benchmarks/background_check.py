"""Which recordings does the background check send to separation, and what does it cost?

    python benchmarks/background_check.py [--data ../shared/data]

Every recording of ../shared/data is speech alone (calls, meetings, read speech); those with a
quiet floor should come out with nothing to keep, while a noisy one (a crowd, a far microphone,
a home recording's hiss) may count its noise as ambience and be separated as before. To see the
other side, music (the synthetic bed of
``benchmarks/separation.py``: chords, kick, snare, hi-hat) is laid under five of them at 6, 12
and 20 dB below the speech, and five seconds of it before one of them; each of those should come
out with something to keep. White noise at 10 and 20 dB below the speech shows where a noisy
recording falls.

Printed per recording: the floor and outside levels (dB re speech), the decision, and the
seconds the check took; then how many speech-only recordings skip separation and how many
music mixtures were found (a miss is marked). The VAD is the `cpu` preset's, as a job runs it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from dubkit import dsp, media
from dubkit.analysis.background import measure_background
from dubkit.types import ANALYSIS_RATE, Audio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diarization import ROOT, preset_backend  # noqa: E402
from separation import music_bed  # noqa: E402

PATTERNS = ("en_jfk/*.flac", "diar_pyannote_sample/*.wav", "diar_picovoice_falcon/test.wav",
            "diar_ami_excerpts/*.wav", "multi_picovoice_leopard/*.wav", "fleurs_asr/*.ogg",
            "multi_speechrecognition/*")
MIXED = (  # music is laid under these
    "en_jfk/jfk.flac", "diar_pyannote_sample/sample.wav", "diar_picovoice_falcon/test.wav",
    "diar_ami_excerpts/trn03.wav", "multi_picovoice_leopard/test.wav")


def variants(name: str, x: np.ndarray):
    """(label, samples, expected: something to keep?) for one recording and its mixtures."""
    yield name, x, False
    if name not in MIXED:
        return
    speech_db = dsp.rms_dbfs(x)
    bed = music_bed(x.size / ANALYSIS_RATE + 5.1, rate=ANALYSIS_RATE)[0].astype(np.float64)
    under = bed[:x.size]
    for below in (6, 12, 20):
        gain = dsp.db_to_gain(speech_db - below - dsp.rms_dbfs(under))
        yield f"  music {below} dB below", x + gain * under, True
    intro = bed[x.size:x.size + 5 * ANALYSIS_RATE]
    yield "  5 s of music before", np.concatenate(
        [intro * dsp.db_to_gain(speech_db - dsp.rms_dbfs(intro)), x]), True
    rng = np.random.default_rng(0)
    for below in (10, 20):
        noise = rng.standard_normal(x.size)
        yield (f"  white noise {below} dB below",
               x + noise * dsp.db_to_gain(speech_db - below - dsp.rms_dbfs(noise)), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    files = sorted(p for pattern in PATTERNS for p in args.data.glob(pattern)
                   if p.suffix in (".wav", ".flac", ".ogg"))
    if not files:
        sys.exit(f"no recordings under {args.data}")
    vad = preset_backend("cpu", "vad")
    skipped, speech_only, found, music = 0, 0, 0, 0
    print(f"{'recording':44s} {'floor dB':>9s} {'outside dB':>10s}  decision         check s")
    for path in files:
        x = media.decode_audio(path, rate=ANALYSIS_RATE, mono=True).samples.astype(np.float64)
        for label, samples, expected in variants(f"{path.parent.name}/{path.name}", x):
            audio = Audio(samples.astype(np.float32), ANALYSIS_RATE)
            regions = vad.detect(audio)
            started = time.perf_counter()
            level = measure_background(audio, regions)
            seconds = time.perf_counter() - started
            keep = level.something_to_keep
            decision = "separate" if keep else "speech only"
            skipped += expected is False and not keep
            speech_only += expected is False
            found += expected is True and keep
            music += expected is True
            print(f"{label:44s} {level.floor_db:9.1f} {level.outside_db:10.1f}  "
                  f"{decision:15s} {seconds:8.3f}" + ("  (music missed)" if expected and not keep
                                                     else ""))
    print(f"speech only: {skipped} of {speech_only} skip separation")
    print(f"with music: {found} of {music} found")


if __name__ == "__main__":
    main()
