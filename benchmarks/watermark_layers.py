"""Layered watermark benchmark: detection per attack on dubs of 30 s and 5 s, each layer apart,
false alarms on unmarked audio with the rate estimated from the score distribution, level under
the speech, PESQ, cost.

    python benchmarks/watermark_layers.py [--hosts held-out|dubbed|tuned] [--data ../shared/data]
                                          [--long 8] [--short 20] [--fp-clips 1000]

Hosts, at 24 kHz. ``dubbed``: what dubkit really marks, the `cpu` preset's voices (Kokoro)
speaking the intelligibility sentences (benchmarks/data) in en, es, fr, it, ja and zh, one
voice per sentence, sentences 0.3 s apart: per language one file of all eight (18-30 s) and
three of 5 s (from the first, fourth and seventh sentence on). ``held-out``: real recordings the
band-energy layer's choices (frame length, step shape, level) were never tried on: the AMI
meeting excerpts, the pyannote and Picovoice diarization clips and JFK; files of up to 30 s are
those recordings whole (30 s, or 18-20 s for the Picovoice clips), files of 5 s the loudest 5 s
of each half of each. ``tuned``: the FLEURS and Picovoice Leopard clips those choices were made
on (an upper bound): 30 s files of clips joined with 0.3 s pauses (as a dub's bus, one long
mark) and the first 5 s of distinct clips. Attacks go through dubkit.media.transcode. A file
counts as found when ``dubkit verify``'s decision (either layer) says so. Unmarked: windows of
3-20 s from every recording under --data, white and pink noise, and synthetic music. PESQ
(ITU-T P.862 wide band, the ``pesq`` package) is reported when it is installed. Prints markdown.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from watermark import clip_paths, joined, pink  # noqa: E402  (benchmarks/)

from dubkit.dsp import resample  # noqa: E402
from dubkit.media import decode_audio, transcode  # noqa: E402
from dubkit.testing.signals import chord_with_beat, mixed_under  # noqa: E402
from dubkit.types import Audio  # noqa: E402
from dubkit.watermark import Payload  # noqa: E402
from dubkit.watermark import band_energy as be  # noqa: E402
from dubkit.watermark.layered import LayeredWatermarker  # noqa: E402

RATE = 24_000
PAYLOAD = Payload(0x0BADF00D, 1)


def load(path: Path) -> Audio:
    audio = decode_audio(path, rate=RATE, mono=True)
    return Audio(0.5 * audio.samples / max(1e-9, float(np.abs(audio.samples).max())), RATE)


def excerpt(a: Audio, rng: np.random.Generator) -> Audio:
    start = rng.uniform(0, max(0.0, a.duration - 3.0))
    return a.slice(start, start + 3.0)


def codec(name: str, kbps: int):
    return lambda a, r: transcode.codec_round_trip(a, name, kbps)


ATTACKS = {
    "none": lambda a, r: a,
    "opus 24k": codec("opus", 24),
    "opus 16k": codec("opus", 16),
    "mp3 64k": codec("mp3", 64),
    "aac 64k": codec("aac", 64),
    "resample to 16 kHz": lambda a, r: transcode.resample_chain(a, [16_000]),
    "gain -6 dB": lambda a, r: Audio(a.samples * 0.5, a.rate),
    "gain +6 dB": lambda a, r: Audio(np.clip(a.samples * 2.0, -1, 1), a.rate),
    "white noise 10 dB SNR": lambda a, r: mixed_under(a, r.standard_normal(a.num_samples), 10),
    "white noise 0 dB SNR": lambda a, r: mixed_under(a, r.standard_normal(a.num_samples), 0),
    "music -10 dB": lambda a, r: mixed_under(a, chord_with_beat(a.num_samples, a.rate), 10),
    "3 s excerpt": excerpt,
    "atempo 1.05": lambda a, r: transcode.tempo_change(a, 1.05),
    "atempo 0.95": lambda a, r: transcode.tempo_change(a, 0.95),
    "music -10 dB, opus 24k": lambda a, r: ATTACKS["opus 24k"](ATTACKS["music -10 dB"](a, r), r),
    "noise 10 dB, mp3 64k": lambda a, r: ATTACKS["mp3 64k"](
        ATTACKS["white noise 10 dB SNR"](a, r), r),
    "resample 16 kHz, opus 16k": lambda a, r: ATTACKS["opus 16k"](
        ATTACKS["resample to 16 kHz"](a, r), r),
    "3 s excerpt, opus 24k": lambda a, r: ATTACKS["opus 24k"](excerpt(a, r), r),
    "atempo 1.05, aac 64k": lambda a, r: ATTACKS["aac 64k"](ATTACKS["atempo 1.05"](a, r), r),
    "gain -6 dB, opus 24k": lambda a, r: ATTACKS["opus 24k"](ATTACKS["gain -6 dB"](a, r), r),
}


def held_out(data: Path) -> list[tuple[str, str, Audio]]:
    """The held-out recordings whole, and the loudest 5 s of each half of each."""
    paths = sorted((data / "diar_ami_excerpts").glob("*.wav"))
    paths += sorted((data / "diar_picovoice_falcon").glob("*.wav"))
    paths += [data / "diar_pyannote_sample" / "sample.wav", data / "en_jfk" / "jfk.flac"]
    hosts: list[tuple[str, str, Audio]] = []
    shorts: list[tuple[str, str, Audio]] = []
    for path in paths:
        audio = load(path)
        if audio.duration >= 15:
            hosts.append(("long", path.name, audio))
        n, hop = 5 * RATE, RATE // 10
        energy = np.convolve(audio.samples.astype(np.float64) ** 2, np.ones(n), "valid")[::hop]
        half = energy.size // 2
        for lo, hi in ((0, half), (half, energy.size)):
            if hi > lo:
                start = (lo + int(np.argmax(energy[lo:hi]))) * hop
                shorts.append(("5 s", f"{path.name} at {start / RATE:.1f} s",
                               Audio(audio.samples[start:start + n], RATE)))
    return hosts + shorts


def dubbed(languages=("en", "es", "fr", "it", "ja", "zh")) -> list[tuple[str, str, Audio]]:
    """The `cpu` preset's voices speaking the intelligibility sentences (see the docstring)."""
    from intelligibility import GENDERS, load_sentences

    from dubkit.backends import StageBackends
    from dubkit.config import load_preset
    from dubkit.synth.base import VoiceRequest

    synth = StageBackends(load_preset("cpu")).get("synthesis")
    sentences = load_sentences()
    pause = np.zeros(int(0.3 * RATE), np.float32)
    hosts: list[tuple[str, str, Audio]] = []
    for language in languages:
        said = []
        for i, text in enumerate(sentences[language]):
            voice = synth.voice_for(VoiceRequest(f"SPEAKER_{i:02d}", language, GENDERS[i % 2]))
            said.append(resample(synth.synthesize(text, language, voice), RATE).samples)
        whole = np.concatenate([x for s in said for x in (s, pause)])
        hosts.append(("long", f"{language} all", Audio(whole[: 30 * RATE], RATE)))
        for first in (0, 3, 6):
            run = np.concatenate([x for s in said[first:] for x in (s, pause)])
            hosts.append(("5 s", f"{language} from {first + 1}", Audio(run[: 5 * RATE], RATE)))
        print(f"  synthesized {language}", file=sys.stderr, flush=True)
    return hosts


def snr_db(host: Audio, marked: Audio) -> float:
    x = host.samples.astype(np.float64)
    return float(10 * np.log10(np.sum(x ** 2) / np.sum((marked.samples - x) ** 2)))


def pesq_wb(host: Audio, marked: Audio) -> float | None:
    try:
        from pesq import pesq
    except ImportError:
        return None
    return float(pesq(16_000, resample(host, 16_000).samples, resample(marked, 16_000).samples,
                      "wb"))


def unmarked(paths: list[Path], count: int, rng: np.random.Generator):
    recordings = [decode_audio(p, rate=16_000, mono=True) for p in paths]
    for i in range(count):
        length = rng.uniform(3, 20)
        n = int(length * 16_000)
        if i % 10 == 9:
            x = rng.standard_normal(n) if i % 30 == 9 else (
                pink(n, rng) if i % 30 == 19 else chord_with_beat(n, 16_000))
            yield "noise/music", Audio((0.1 * x / np.abs(x).max()).astype(np.float32), 16_000)
        else:
            rec = recordings[i % len(recordings)]
            start = rng.uniform(0, max(0.0, rec.duration - length))
            yield "speech", rec.slice(start, start + length)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--hosts", choices=["held-out", "dubbed", "tuned"], default="held-out")
    parser.add_argument("--long", type=int, default=8, help="files of 30 s (tuned hosts)")
    parser.add_argument("--short", type=int, default=20, help="files of 5 s (tuned hosts)")
    parser.add_argument("--fp-clips", type=int, default=1000)
    args = parser.parse_args()
    wm = LayeredWatermarker()
    rng = np.random.default_rng(0)
    if args.hosts == "tuned":
        clips = [load(p).samples for p in clip_paths(args.data)]
        hosts = [("long", f"joined {i + 1}", joined(clips, 30.0, rng)) for i in range(args.long)]
        hosts += [("5 s", f"clip {i + 1}", Audio(c[: 5 * RATE], RATE))
                  for i, c in enumerate(c for c in clips if c.size >= 5 * RATE)][: args.short]
    elif args.hosts == "dubbed":
        hosts = dubbed()
    else:
        hosts = held_out(args.data)

    table: dict[tuple[str, str], list[tuple[bool, bool, bool]]] = {}
    snrs, pesqs, embed_s, detect_s, seconds = {}, {}, 0.0, 0.0, 0.0
    per_file = []
    for kind, label, host in hosts:
        t = time.perf_counter()
        marked = wm.embed(host, PAYLOAD)
        embed_s += time.perf_counter() - t
        seconds += host.duration
        snrs.setdefault(kind, []).append(snr_db(host, marked))
        pesqs.setdefault(kind, []).append(pesq_wb(host, marked))
        missed, band_z = [], 0.0
        for name, attack in ATTACKS.items():
            out = attack(marked, rng)
            t = time.perf_counter()
            found = wm.detect(out)
            if name == "none":
                detect_s += time.perf_counter() - t
                band_z = found.layers["band-energy"]["score"]
            layers = found.layers
            table.setdefault((kind, name), []).append(
                (found.found, layers["band-energy"]["found"], found.payload == PAYLOAD))
            if not found.found:
                missed.append(name)
        quality = pesqs[kind][-1]
        per_file.append(f"| {label} | {kind} | {snrs[kind][-1]:.1f} | "
                        f"{'-' if quality is None else f'{quality:.2f}'} | {band_z:.1f} | "
                        f"{', '.join(missed) or 'none'} |")
        print(f"  {label}: snr {snrs[kind][-1]:.1f} dB", file=sys.stderr, flush=True)

    counts = {kind: sum(k == kind for k, _, _ in hosts) for kind in ("long", "5 s")}
    print(f"\n### Layered watermark (key id {wm.key_id}), {args.hosts} hosts: {counts['long']} "
          f"files of 18-30 s, {counts['5 s']} of 5 s, real speech at {RATE} Hz\n")
    for kind in snrs:
        p = [v for v in pesqs[kind] if v is not None]
        quality = (f"PESQ WB mean {np.mean(p):.2f}, min {np.min(p):.2f}" if p
                   else "PESQ not installed")
        print(f"- {kind}: both marks together {np.min(snrs[kind]):.1f} dB (min) / "
              f"{np.mean(snrs[kind]):.1f} dB (mean) under the speech; {quality}")
    minutes = seconds / 60
    print(f"- cost: embed {embed_s / minutes:.2f} s per minute, detect {detect_s / minutes:.2f} "
          "s per minute of audio (both layers, marked files)\n")
    print("| attack | long: found | band layer | job id read | 5 s: found | band layer | "
          "job id read |\n|---|---|---|---|---|---|---|")
    for name in ATTACKS:
        cells = []
        for kind in ("long", "5 s"):
            rows = table.get((kind, name), [])
            cells += [f"{sum(r[i] for r in rows)}/{len(rows)}" for i in range(3)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nPer file: both marks' level under the speech, PESQ, the band layer's score with no "
          "attack, and the attacks after which the file was not found.\n")
    print("| file | kind | dB under | PESQ | band z | not found after |\n|---|---|---|---|---|---|")
    print("\n".join(per_file))

    if args.fp_clips:
        false_alarms(wm, sorted(p for p in args.data.rglob("*")
                                if p.suffix in (".wav", ".ogg", ".flac")), args.fp_clips, rng)


def false_alarms(wm: LayeredWatermarker, paths: list[Path], count: int,
                 rng: np.random.Generator) -> None:
    """Unmarked clips through the layered detector, and the band layer's score distribution."""
    flagged = {"layered": 0, "band-energy": 0, "spread-spectrum": 0}
    per_kind: dict[str, int] = {}
    z_single, fp_seconds, fp_detect = [], 0.0, 0.0
    band = wm.presence_layer
    for kind, clip in unmarked(paths, count, rng):
        t = time.perf_counter()
        found = wm.detect(clip)
        fp_detect += time.perf_counter() - t
        fp_seconds += clip.duration
        flagged["layered"] += found.found
        per_kind[kind] = per_kind.get(kind, 0) + 1
        for name in ("band-energy", "spread-spectrum"):
            flagged[name] += found.layers[name]["found"]
        mono = resample(clip, be.RATE).samples.astype(np.float64)
        energy, centres = be._detector_energy(mono)
        norms = be._norms(energy, centres)
        if norms is not None:  # the anchored score at one alignment: N(0, 1) if the model holds
            z_single.append(band._phase_scores(energy, centres, norms)[0])
    z = np.array(z_single)
    # every search of a 20 s file (the longest here) at its threshold, under that normal
    searches = be.search_tests(20 * be.RATE)
    rates = {name: tests * norm.sf((be._threshold(band.false_alarm * be._SHARES[name], tests)
                                    - z.mean()) / z.std())
             for name, tests in searches.items()}
    print(f"\nUnmarked: {sum(per_kind.values())} clips of 3-20 s ({per_kind}); flagged: "
          + ", ".join(f"{k} {v}" for k, v in flagged.items()))
    print(f"Band layer's single-alignment score on them: mean {z.mean():.3f}, sd {z.std():.3f}, "
          f"max {z.max():.2f}. Under that normal, a 20 s file's searches fire on "
          + ", ".join(f"{name} {rate:.1e} ({searches[name]} tests)" for name, rate in rates.items())
          + f": {sum(rates.values()):.1e} of files in all")
    print(f"Detection cost on unmarked audio (every search runs): "
          f"{fp_detect / (fp_seconds / 60):.2f} s per minute")


if __name__ == "__main__":
    main()
