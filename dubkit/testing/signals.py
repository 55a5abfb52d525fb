"""Synthetic speech-like signals with known answers, for tests and demos of the analysis stages.

No model is involved: a glottal pulse train through formant resonators is enough for energy VAD,
MFCC embeddings and pitch to behave as on speech, and the truth (who spoke when) is exact.
Neural models (Silero, GE2E) were trained on real speech and may not treat these as voices.
"""
from __future__ import annotations

import numpy as np
import scipy.signal

from dubkit.types import Audio, Seconds, Turn

RATE = 16_000  # Hz
# First three formants (Hz) of four vowels: /a/, /i/, /u/, /e/.
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480))


def synthetic_voice(
    seconds: Seconds, f0: float, formant_scale: float, seed: int, rate: int = RATE
) -> np.ndarray:
    """Vowel-like speech, float32 ``(samples,)`` at ``rate`` Hz, peak 0.3.

    A glottal pulse train at ``f0`` Hz with slow intonation (+-8 %) goes through three formant
    resonators (a random vowel every 0.2 s; formants times ``formant_scale``, so 1.2 sounds like
    a shorter vocal tract), shaped into 0.32 s syllables parted by ~0.1 s closures (real speech
    has such dips; an energy VAD's noise floor lives in them). ``seed`` fixes the randomness.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    phase = np.cumsum(f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))) / rate)
    source = scipy.signal.lfilter([1.0], [1.0, -0.95], np.diff(np.floor(phase), prepend=0.0))
    source += 0.02 * rng.standard_normal(n)
    out = np.zeros(n)
    step = int(0.2 * rate)
    history = int(0.025 * rate)  # samples the resonators run in before each vowel
    for k in range(0, n, step):
        y = source[max(0, k - history):k + step]
        for fc, bw in zip(VOWELS[rng.integers(len(VOWELS))], (90, 110, 170)):
            r, theta = np.exp(-np.pi * bw / rate), 2 * np.pi * fc * formant_scale / rate
            y = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
        out[k:k + step] = y[-out[k:k + step].shape[0]:]
    syllables = np.sin(np.pi * (t / 0.32 + rng.uniform(0, 1))) ** 2
    out *= np.clip((syllables - 0.25) / 0.75, 0.02, 1.0)
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


def low_voice(seconds: Seconds, seed: int, rate: int = RATE) -> np.ndarray:
    """Voice "A": 110 Hz, unscaled formants (a low, male-like voice)."""
    return synthetic_voice(seconds, 110.0, 1.0, seed, rate)


def high_voice(seconds: Seconds, seed: int, rate: int = RATE) -> np.ndarray:
    """Voice "B": 220 Hz, formants 20 % higher (a high, female-like voice)."""
    return synthetic_voice(seconds, 220.0, 1.2, seed, rate)


def two_voices(rate: int = RATE) -> tuple[Audio, list[Turn]]:
    """A 19 s conversation of voices A (``low_voice``) and B (``high_voice``) with its truth.

    0.5 s pauses part most turns; at 10 s, B follows A with no pause, so a VAD region holds both
    voices and only the diarizer can split it. Truth speakers are named "A" and "B".
    """
    a = lambda s, seed: low_voice(s, seed, rate)  # noqa: E731
    b = lambda s, seed: high_voice(s, seed, rate)  # noqa: E731
    gap = np.zeros(rate // 2, np.float32)
    parts = [gap, a(3, 1), gap, b(3, 2), gap, a(2.5, 3), b(2.5, 4), gap, b(2, 5), gap, a(3, 6), gap]
    truth = [Turn(0.5, 3.5, "A"), Turn(4.0, 7.0, "B"), Turn(7.5, 10.0, "A"),
             Turn(10.0, 12.5, "B"), Turn(13.0, 15.0, "B"), Turn(15.5, 18.5, "A")]
    return Audio(np.concatenate(parts), rate), truth


def chord_with_beat(n: int, rate: int) -> np.ndarray:
    """A chord of four tones (220-440 Hz) pulsing twice a second, float64 ``(n,)``: the stand-in
    for background music laid over a dub in the watermark tests and benchmarks."""
    t = np.arange(n) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330, 440))
    return chord * (0.6 + 0.4 * (np.sin(2 * np.pi * 2 * t) > 0))


def mixed_under(audio: Audio, other: np.ndarray, below_db: float) -> Audio:
    """Mono ``audio`` with ``other`` (at least as long) added ``below_db`` dB under its power,
    as noise or music laid over a finished dub (float64 samples)."""
    x = audio.samples
    part = other[: x.size]
    scaled = part * np.sqrt(np.mean(x ** 2) / (np.mean(part ** 2) + 1e-20))
    return Audio(x + scaled * 10 ** (-below_db / 20), audio.rate)
