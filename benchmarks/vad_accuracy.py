"""Voice activity against the diarization references: missed speech and false alarm per file.

    python benchmarks/vad_accuracy.py [--data ../shared/data] [--gain DB]

For each recording with a who-spoke-when reference (pyannote's telephone sample, Picovoice
Falcon's clip, the seven AMI meeting excerpts, scored on their first 30 s) and each VAD of the
presets (Silero in ``cpu`` where its model is installed, energy in ``tiny-test``): the
recording's level, then the seconds of reference speech the VAD missed (as a share of all
reference speech) and the seconds it called speech where the reference has none (as a share of
the reference's non-speech; ``silero@0.5`` is Silero at its default threshold, the ``cpu`` preset's
before it was lowered), on a 10 ms grid with no collar: a VAD's regions are padded, so
compare files and VADs with each other rather than with a DER. ``--gain`` scales every
recording first (e.g. ``--gain -20`` to see what a quieter take does). Ends with a markdown
table.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from dubkit import dsp
from dubkit.models import model_status, resolve_model
from dubkit.types import Audio, SpeechRegion, Turn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diarization import ROOT, preset_backend, recordings  # noqa: E402

_STEP = 0.01  # seconds per scoring frame


def speech_mask(spans: list[Turn] | list[SpeechRegion], duration: float) -> np.ndarray:
    """``(frames,)`` True where any span covers the 10 ms frame."""
    mask = np.zeros(int(round(duration / _STEP)), dtype=bool)
    for s in spans:
        mask[int(round(s.start / _STEP)):int(round(s.end / _STEP))] = True
    return mask


def vads() -> list[tuple[str, object]]:
    """The presets' VADs with their options, and Silero at its own default threshold."""
    out: list[tuple[str, object]] = [("energy", preset_backend("tiny-test", "vad"))]
    if model_status("silero-vad").available:
        from dubkit.analysis.silero_vad import SileroVad

        out[:0] = [("silero", preset_backend("cpu", "vad")),
                   ("silero@0.5", SileroVad(resolve_model("silero-vad").path))]
    else:
        print("silero-vad model not available: skipping it")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--gain", type=float, default=0.0, help="dB applied to every recording")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"shared recordings not found at {args.data}", file=sys.stderr)
        return 1
    rows = []
    for rec in recordings(args.data):
        audio = Audio(rec.audio.samples * np.float32(dsp.db_to_gain(args.gain)), rec.audio.rate)
        truth = speech_mask(rec.reference, audio.duration)
        level = (dsp.rms_dbfs(audio.samples), dsp.peak_dbfs(audio.samples))
        for name, vad in vads():
            found = speech_mask(vad.detect(audio), audio.duration)
            missed = float((truth & ~found).sum()) * _STEP
            false = float((found & ~truth).sum()) * _STEP
            speech, other = truth.sum() * _STEP, (~truth).sum() * _STEP
            rows.append((name, rec.name, *level, speech, missed, missed / max(speech, _STEP),
                         false, false / max(other, _STEP), other))
            r = rows[-1]
            print(f"{name:<7} {rec.name:<9} rms {r[2]:6.1f} peak {r[3]:6.1f} dBFS  speech "
                  f"{r[4]:5.1f} s  missed {r[5]:5.2f} s ({r[6]:5.1%})  false alarm "
                  f"{r[7]:5.2f} s ({r[8]:5.1%})")
    print(f"\ngain {args.gain:+.0f} dB\n\n| VAD | recording | rms / peak dBFS | speech s "
          "| missed s (% of speech) | false alarm s (% of non-speech) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.0f} / {r[3]:.0f} | {r[4]:.1f} | {r[5]:.2f} "
              f"({r[6]:.0%}) | {r[7]:.2f} ({r[8]:.0%}) |")
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        speech, other = sum(r[4] for r in mine), sum(r[9] for r in mine)
        missed, false = sum(r[5] for r in mine), sum(r[7] for r in mine)
        print(f"| {name} | all | | {speech:.1f} | {missed:.2f} ({missed / speech:.0%}) "
              f"| {false:.2f} ({false / max(other, _STEP):.0%}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
