"""Watermark benchmark: inaudibility, robustness per attack, false alarms, score distribution, cost.

    python benchmarks/watermark.py [--data ../shared/data] [--clips 12] [--fp-clips 1000]

Marked: real clips from ../shared/data (FLEURS, Picovoice Leopard) at 24 kHz, peak -6 dBFS, each
marked with the default key, and files of --long-seconds joined from them (a dub's bus is one
long mark, so its length counts). Attacks go through dubkit.media.transcode. Unmarked: the same
recordings cut into 3-8 s windows at many offsets, plus white and pink noise. Each marked clip is
searched blind (payload read from the audio) and for the claimed payload (the manifest's job id
known, as ``dubkit verify`` does beside a manifest); unmarked clips are tested both ways too.
The "its own bed" rows mark the clip over a bed it is then mixed with, as ``mix_dub`` does with a
dub's background. Prints markdown.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dubkit.dsp import resample  # noqa: E402
from dubkit.media import transcode  # noqa: E402
from dubkit.testing.signals import chord_with_beat, mixed_under  # noqa: E402
from dubkit.types import Audio  # noqa: E402
from dubkit.watermark import Payload, SpreadSpectrumWatermarker  # noqa: E402

RATE = 24_000  # Hz: marked clips are made at Kokoro's rate


def load(path: Path) -> Audio:
    import soundfile as sf

    x, rate = sf.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    return Audio(0.5 * x / max(1e-9, float(np.abs(x).max())), rate)


def clip_paths(data: Path) -> list[Path]:
    """The real speech clips the watermark benchmarks mark: Picovoice Leopard and FLEURS; exits
    when there are none."""
    paths = sorted((data / "multi_picovoice_leopard").glob("*.wav"))
    paths += sorted((data / "fleurs_asr").glob("*.ogg"))
    if not paths:
        sys.exit(f"no clips under {data}")
    return paths


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n), 1.0 / n))
    return np.fft.irfft(spectrum, n)


def joined(clips: list[np.ndarray], seconds: float, rng: np.random.Generator) -> Audio:
    """A file ``seconds`` long of the clips in a random order with 0.3 s pauses between them."""
    parts, total = [], 0
    for i in rng.permutation(len(clips)):
        parts += [clips[i], np.zeros(int(0.3 * RATE), np.float32)]
        total += clips[i].size + int(0.3 * RATE)
        if total >= seconds * RATE:
            break
    return Audio(np.concatenate(parts)[: int(seconds * RATE)], RATE)


ATTACKS = {
    "none": lambda a, r: a,
    "mp3 64k": lambda a, r: transcode.codec_round_trip(a, "mp3", 64),
    "aac 64k": lambda a, r: transcode.codec_round_trip(a, "aac", 64),
    "opus 24k": lambda a, r: transcode.codec_round_trip(a, "opus", 24),
    "resample 48k-16k-48k": lambda a, r: transcode.resample_chain(resample(a, 48_000),
                                                                  [16_000, 48_000]),
    "gain -6 dB": lambda a, r: Audio(a.samples * 0.5, a.rate),
    "gain +6 dB": lambda a, r: Audio(np.clip(a.samples * 2.0, -1, 1), a.rate),
    "white noise -10 dB": lambda a, r: mixed_under(a, r.standard_normal(a.num_samples), 10),
    "music -10 dB": lambda a, r: mixed_under(a, chord_with_beat(a.num_samples, a.rate), 10),
    "3 s excerpt": lambda a, r: a.slice(s := r.uniform(0, max(0.0, a.duration - 3)), s + 3),
    "aac in mp4 (mux_dub)": lambda a, r: transcode.video_round_trip(a),
}

# A dub's own bed (what mix_dub passes to the embedder as the cover): known when marking.
BEDS = {
    "its own bed: white noise -10 dB": lambda n, r: r.standard_normal(n),
    "its own bed: music -10 dB": lambda n, r: chord_with_beat(n, RATE),
    "its own bed: music -10 dB, then AAC in mp4": lambda n, r: chord_with_beat(n, RATE),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--fp-clips", type=int, default=1000)
    parser.add_argument("--long-files", type=int, default=4,
                        help="files of --long-seconds made of joined clips, as a dub's length")
    parser.add_argument("--long-seconds", type=float, default=30.0)
    parser.add_argument("--fp-long", type=int, default=20,
                        help="unmarked files of --long-seconds tested for false positives")
    args = parser.parse_args()
    paths = clip_paths(args.data)
    wm = SpreadSpectrumWatermarker()
    payload = Payload(0x0BADF00D, 1)
    rng = np.random.default_rng(0)

    swrs, marked_scores, embed_s, detect_s, seconds = [], [], 0.0, 0.0, 0.0
    hits = {name: [] for name in [*ATTACKS, *BEDS]}
    claimed = {name: [] for name in hits}
    for path in paths[: args.clips]:
        host = resample(load(path), RATE)
        t = time.perf_counter()
        marked = wm.embed(host, payload)
        embed_s += time.perf_counter() - t
        seconds += host.duration
        swrs.append(10 * np.log10(np.sum(host.samples**2)
                                  / np.sum((marked.samples - host.samples) ** 2)))
        for name, attack in ATTACKS.items():
            out = attack(marked, rng)
            t = time.perf_counter()
            found = wm.detect(out)
            if name == "none":
                detect_s += time.perf_counter() - t
                marked_scores.append(found.score)
            hits[name].append(found.found and found.payload == payload)
            claim = wm.detect(out, expected=payload)
            claimed[name].append(claim.found and claim.payload == payload)
        for name, make in BEDS.items():
            noise = make(host.num_samples, rng)
            bed = Audio((noise * np.sqrt(np.mean(host.samples**2) / np.mean(noise**2))
                         * 10 ** (-10 / 20)).astype(np.float32), RATE)
            out = Audio(wm.embed(host, payload, cover=bed).samples + bed.samples, RATE)
            if "AAC" in name:
                out = transcode.video_round_trip(out)
            found = wm.detect(out)
            hits[name].append(found.found and found.payload == payload)
            claim = wm.detect(out, expected=payload)
            claimed[name].append(claim.found and claim.payload == payload)
        print(f"  {path.name}: swr {swrs[-1]:.1f} dB", file=sys.stderr)

    long_hits = {name: [] for name in ATTACKS}
    long_claimed = {name: [] for name in ATTACKS}
    clips = [resample(load(p), RATE).samples for p in paths]
    for _ in range(args.long_files):
        host = joined(clips, args.long_seconds, rng)
        marked = wm.embed(host, payload)
        for name, attack in ATTACKS.items():
            out = attack(marked, rng)
            found, claim = wm.detect(out), wm.detect(out, expected=payload)
            long_hits[name].append(found.found and found.payload == payload)
            long_claimed[name].append(claim.found and claim.payload == payload)

    null_scores, flagged, with_payload, claim_flagged = [], 0, 0, 0
    recordings = [resample(load(p), 16_000) for p in paths]
    for i in range(args.fp_clips):
        if i % 10 == 9:  # one in ten: noise
            n = int(rng.uniform(3, 8) * 16_000)
            x = rng.standard_normal(n) if i % 20 == 9 else pink(n, rng)
            clip = Audio(0.1 * x / np.abs(x).max(), 16_000)
        else:
            rec = recordings[i % len(recordings)]
            length = rng.uniform(3, 8)
            start = rng.uniform(0, max(0.0, rec.duration - length))
            clip = rec.slice(start, start + length)
        found = wm.detect(clip)
        null_scores.append(found.score)
        flagged += found.found
        with_payload += found.payload is not None
        claim_flagged += wm.detect(clip, expected=payload).found

    print(f"\n### Watermark ({wm.name}, key id {wm.key_id}), {len(swrs)} real clips at {RATE} Hz\n")
    print(f"SWR: mean {np.mean(swrs):.1f} dB, min {np.min(swrs):.1f} dB\n")
    print("| attack | blind: right payload read | claimed payload confirmed |\n|---|---|---|")
    for name, found in hits.items():
        print(f"| {name} | {sum(found)}/{len(found)} | {sum(claimed[name])}/{len(found)} |")
    if args.long_files:
        print(f"\nThe same attacks on {args.long_files} files of {args.long_seconds:.0f} s "
              "(clips joined with 0.3 s pauses):\n")
        print("| attack | blind | claimed |\n|---|---|---|")
        for name, found in long_hits.items():
            print(f"| {name} | {sum(found)}/{len(found)} "
                  f"| {sum(long_claimed[name])}/{len(found)} |")
    null = np.array(null_scores)
    long_flagged = 0
    for _ in range(args.fp_long):
        clip = joined(clips, args.long_seconds, rng)
        long_flagged += wm.detect(clip).found or wm.detect(clip, expected=payload).found
    print(f"\nFalse positives: {flagged}/{len(null)} unmarked clips flagged "
          f"({with_payload} with a payload); claimed payload: {claim_flagged}/{len(null)}")
    print(f"Unmarked files of {args.long_seconds:.0f} s flagged, blind or claimed: "
          f"{long_flagged}/{args.fp_long}")
    print(f"Scores, unmarked: mean {null.mean():.2f}, std {null.std():.2f}, max {null.max():.2f}; "
          f"marked (no attack): min {np.min(marked_scores):.2f}")
    minutes = seconds / 60
    print(f"Cost: embed {embed_s / minutes:.2f} s/min, detect {detect_s / minutes:.2f} s/min "
          "(2 shared cores)")


if __name__ == "__main__":
    main()
