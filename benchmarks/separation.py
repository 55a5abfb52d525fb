"""Score speech/background separation on real speech over a synthetic music bed, and time it.

    python benchmarks/separation.py [--data ../shared/data] [--quick] [--memory-minutes 10]

The shared recordings hold no music, so each mixture is real speech (JFK, Picovoice Leopard,
FLEURS) over a synthetic bed (triad chords, kick, snare and a hi-hat that reaches 16 kHz) at a
known speech-to-music ratio, at 48 kHz stereo. The recordings are band-limited to <= 8 kHz, so a
synthetic "air" band is added to the speech (noise at 8-16 kHz that follows the speech's 4-7.5 kHz
envelope, at -12 dB re that band) to stand in for the sibilants of full-band speech.

Printed per mixture and on average: SDR and SI-SDR (dB) of the background and speech estimates and
their improvement over the mixture itself; the error left in the background where speech was,
in dB relative to the speech there, all of it, the part coherent with the speech (its leak), and
above 8 kHz with and without the high-band treatment; then seconds per minute of audio at 16 kHz
mono and 48 kHz stereo, and the peak resident memory of one run over a long input (subprocess).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfilt

from dubkit import dsp
from dubkit.analysis.separation import ConvTasNetSeparator
from dubkit.types import Audio

ROOT = Path(__file__).resolve().parents[1]
RATE = 48_000
CLIPS = ("en_jfk/jfk.flac", "multi_picovoice_leopard/test.wav",
         "multi_picovoice_leopard/test_ja.wav", "fleurs_asr/fleurs-es-001.ogg",
         "fleurs_asr/fleurs-fr-000.ogg", "fleurs_asr/fleurs-de-000.ogg")


def music_bed(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """A stereo bed ``(2, samples)`` at about -20 dBFS RMS: chords, kick, snare and hi-hat."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    bed = np.zeros((2, n))
    roots = [220.0, 174.6, 261.6, 196.0]  # A F C G, a chord every 2 s
    for k in range(int(np.ceil(seconds / 2))):
        a, b = int(2 * k * rate), min(n, int(2 * (k + 1) * rate))
        tt = t[a:b] - t[a]
        env = np.minimum(1, tt / 0.02) * np.exp(-tt / 1.5)
        for ratio, pan in ((1.0, 0.3), (1.26, 0.5), (1.5, 0.7)):
            f = roots[k % 4] * ratio
            tone = sum(np.sin(2 * np.pi * f * h * tt) / h for h in range(1, 8) if f * h < 12000)
            bed[0, a:b] += (1 - pan) * 0.05 * env * tone
            bed[1, a:b] += pan * 0.05 * env * tone
    beat = int(0.5 * rate)  # 120 bpm
    hat_sos = butter(4, 6000, "highpass", fs=rate, output="sos")
    for k, a in enumerate(range(0, n, beat)):
        m = min(n - a, int(0.3 * rate))
        tt = np.arange(m) / rate
        if k % 2 == 0:  # kick: a falling sine
            kick = np.sin(2 * np.pi * (50 * tt + 70 * 0.05 * (1 - np.exp(-tt / 0.05))))
            bed[:, a:a + m] += 0.3 * kick * np.exp(-tt / 0.12)
        else:  # snare: noise burst
            bed[:, a:a + m] += 0.08 * rng.standard_normal((2, m)) * np.exp(-tt / 0.08)
        h = min(n - a, int(0.05 * rate))
        hat = sosfilt(hat_sos, rng.standard_normal(h)) * np.exp(-np.arange(h) / rate / 0.02)
        bed[:, a:a + h] += 0.1 * hat
    return (bed * dsp.db_to_gain(-20.0 - dsp.rms_dbfs(bed))).astype(np.float32)


def full_band_speech(path: Path, rate: int = RATE, seed: int = 1) -> np.ndarray:
    """A recording at ``rate``, mono ``(samples,)``, with a synthetic 8-16 kHz "air" band."""
    x, r = sf.read(path, dtype="float32", always_2d=True)
    x = dsp.resample(Audio(x.T, r).mono(), rate).samples.astype(np.float64)
    x = x * dsp.db_to_gain(-23.0 - dsp.rms_dbfs(x))
    band = sosfilt(butter(4, [4000, 7500], "bandpass", fs=rate, output="sos"), x)
    env = np.sqrt(np.convolve(band**2, np.ones(480) / 480, mode="same"))  # 10 ms envelope
    air = sosfilt(butter(6, [8500, 16000], "bandpass", fs=rate, output="sos"),
                  np.random.default_rng(seed).standard_normal(x.shape[0]))
    return (x + dsp.db_to_gain(-12.0) * env * air).astype(np.float32)


def sdr(ref: np.ndarray, est: np.ndarray) -> float:
    return 10 * np.log10(np.sum(ref**2) / max(np.sum((ref - est) ** 2), 1e-20))


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float:
    ref, est = ref.ravel() - ref.mean(), est.ravel() - est.mean()
    target = np.dot(est, ref) / np.dot(ref, ref) * ref
    return 10 * np.log10(np.sum(target**2) / max(np.sum((est - target) ** 2), 1e-20))


def high_energy(x: np.ndarray, active: np.ndarray, hz: float = 8500.0) -> float:
    """Energy above ``hz`` of ``(channels, samples)`` in the 10 ms frames where ``active``."""
    spec = np.abs(librosa.stft(x, n_fft=1024, hop_length=480, center=False)) ** 2
    spec = spec[..., librosa.fft_frequencies(sr=RATE, n_fft=1024) >= hz, :]
    frames = active[::480][: spec.shape[-1]]
    return float(spec[..., :frames.shape[0]][..., frames].sum())


def score(path: Path, smr_db: float, sep: ConvTasNetSeparator, sep_nohf) -> dict[str, float]:
    speech = full_band_speech(path)  # (samples,)
    bed = music_bed(speech.shape[0] / RATE + 0.01)[:, : speech.shape[0]]  # (2, samples)
    speech = speech * dsp.db_to_gain(dsp.rms_dbfs(bed) + smr_db - dsp.rms_dbfs(speech))
    speech2 = np.stack([speech, speech])  # centred dialogue
    mix = Audio(bed + speech2, RATE)
    out = sep.separate(mix)
    bg, sp = out.background.samples, out.speech.samples
    frame = 480
    m = speech.shape[0] // frame * frame
    power = (speech[:m].reshape(-1, frame) ** 2).mean(axis=1)
    active = np.repeat(power > power.max() * 1e-3, frame)  # within 30 dB of the loudest 10 ms
    err = (bg - bed)[:, :m][:, active]
    ref = speech2[:, :m][:, active]
    leak = np.sum(err * ref) / np.sum(ref * ref)  # coherent part of the error, as a gain
    hi_ref = high_energy(speech2, active)
    hi_err = high_energy(bg - bed, active)
    hi_err0 = high_energy(sep_nohf.separate(mix).background.samples - bed, active)
    return {
        "bg_sdr": sdr(bed, bg), "bg_sdr_i": sdr(bed, bg) - sdr(bed, mix.samples),
        "bg_sisdr_i": si_sdr(bed, bg) - si_sdr(bed, mix.samples),
        "sp_sdr": sdr(speech2, sp), "sp_sdr_i": sdr(speech2, sp) - sdr(speech2, mix.samples),
        "sp_sisdr_i": si_sdr(speech2, sp) - si_sdr(speech2, mix.samples),
        "resid_db": 10 * np.log10(np.sum(err**2) / np.sum(ref**2)),
        "leak_db": 20 * np.log10(max(abs(leak), 1e-6)),
        "hf_db": 10 * np.log10(hi_err / hi_ref),
        "hf_off_db": 10 * np.log10(hi_err0 / hi_ref),
    }


def timing(sep: ConvTasNetSeparator, seconds: float) -> tuple[float, float]:
    """Seconds of wall time per minute of audio at 16 kHz mono and at 48 kHz stereo."""
    rng = np.random.default_rng(0)
    out = []
    for rate, ch in ((16_000, 1), (RATE, 2)):
        x = (0.05 * rng.standard_normal((ch, int(seconds * rate)))).astype(np.float32)
        sep.separate(Audio(x[0] if ch == 1 else x, rate).slice(0, 1.0))  # warm the session
        t0 = time.perf_counter()
        sep.separate(Audio(x[0] if ch == 1 else x, rate))
        out.append((time.perf_counter() - t0) * 60 / seconds)
    return out[0], out[1]


def memory_child(minutes: float) -> None:
    """Run in a subprocess: separate ``minutes`` of 48 kHz stereo, print the peak RSS in MB."""
    n = int(minutes * 60 * RATE)
    x = (0.05 * np.random.default_rng(0).standard_normal((2, n))).astype(np.float32)
    base = _peak_rss_mb()
    t0 = time.perf_counter()
    ConvTasNetSeparator().separate(Audio(x, RATE))
    peak = _peak_rss_mb()
    print(f"{peak:.0f} {base:.0f} {time.perf_counter() - t0:.1f} {x.nbytes / 2**20:.0f}")


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="two clips, one level, 20 s timing")
    parser.add_argument("--memory-minutes", type=float, default=10.0, help="0 skips it")
    parser.add_argument("--memory-child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    sep, sep_nohf = ConvTasNetSeparator(), ConvTasNetSeparator(hf_treatment=False)
    clips = [args.data / c for c in (CLIPS[:2] if args.quick else CLIPS)]
    clips = [c for c in clips if c.exists()]
    if not clips:
        sys.exit(f"no recordings under {args.data}: see ../shared/data/README.md")
    keys = ("bg_sdr", "bg_sdr_i", "bg_sisdr_i", "sp_sdr", "sp_sdr_i", "sp_sisdr_i",
            "resid_db", "leak_db", "hf_db", "hf_off_db")
    print(f"{'clip':34s} {'SMR':>4s} " + " ".join(f"{k:>10s}" for k in keys))
    for smr in ((0.0,) if args.quick else (6.0, 0.0, -6.0)):
        rows = []
        for clip in clips:
            row = score(clip, smr, sep, sep_nohf)
            rows.append(row)
            print(f"{clip.parent.name + '/' + clip.name:34s} {smr:4.0f} "
                  + " ".join(f"{row[k]:10.1f}" for k in keys), flush=True)
        mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
        print(f"{'mean':34s} {smr:4.0f} " + " ".join(f"{mean[k]:10.1f}" for k in keys))
    s16, s48 = timing(sep, 20.0 if args.quick else 60.0)
    print(f"seconds per minute of audio: 16 kHz mono {s16:.1f}, 48 kHz stereo {s48:.1f} "
          f"({os.cpu_count()} cores)")
    if args.memory_minutes:
        out = subprocess.run([sys.executable, __file__, "--memory-child",
                              str(args.memory_minutes)], capture_output=True, text=True,
                             check=True).stdout.split()
        print(f"{args.memory_minutes:g} min 48 kHz stereo: peak RSS {out[0]} MB (input "
              f"{out[3]} MB, RSS before {out[1]} MB), {out[2]} s")


if __name__ == "__main__":
    main()
