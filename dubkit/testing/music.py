"""Synthetic music with a beat, for tests of what an intro or a bed of music does to analysis.

Chords of harmonic tones (a sung-like lead with vibrato in the range of voices, pads, a bass) over
a kick and hi-hat pattern: enough that a VAD may take parts of it for speech and a speech model may
hear a "language" in it, the way title music does on real videos. No randomness outside ``seed``.
"""
from __future__ import annotations

import numpy as np
import scipy.signal

from dubkit.testing.signals import VOWELS
from dubkit.types import Audio, Seconds

RATE = 16_000  # Hz
# A I-V-vi-IV progression in C major, as MIDI notes (root position triads).
PROGRESSION = ((60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60))


def _hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def _tone(freq: float, seconds: Seconds, rate: int, harmonics: int, vibrato: float,
          phase: float) -> np.ndarray:
    """A harmonic tone (amplitudes 1/k) with ``vibrato`` (fraction of ``freq``, 5.5 Hz)."""
    t = np.arange(int(seconds * rate)) / rate
    inst = freq * (1.0 + vibrato * np.sin(2 * np.pi * 5.5 * t + phase))
    ph = 2 * np.pi * np.cumsum(inst) / rate
    return sum(np.sin(k * ph) / k for k in range(1, harmonics + 1))


def _envelope(n: int, rate: int, attack: Seconds, decay: Seconds) -> np.ndarray:
    t = np.arange(n) / rate
    return np.minimum(1.0, t / attack) * np.exp(-t / decay)


def _sung(tone: np.ndarray, vowel: tuple[int, int, int], rate: int) -> np.ndarray:
    """``tone`` through the three formant resonators of ``vowel``: a sung vowel."""
    for fc, bw in zip(vowel, (90, 110, 170)):
        r, theta = np.exp(-np.pi * bw / rate), 2 * np.pi * fc / rate
        tone = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], tone)
    return tone / max(np.abs(tone).max(), 1e-9)


def music(seconds: Seconds, bpm: float = 110.0, seed: int = 0, rate: int = RATE,
          peak: float = 0.5, sung: bool = True) -> Audio:
    """``seconds`` of music, mono float32 at ``rate`` Hz, peak ``peak``: one chord of
    ``PROGRESSION`` per bar of four beats, a lead note per beat (a chord tone an octave down,
    vibrato 1.5 %; a sung vowel when ``sung``), a bass on each bar and a kick/hi-hat pattern."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    out = np.zeros(n + 4 * rate)
    beat = 60.0 / bpm
    beat_n = int(round(beat * rate))
    for b in range(int(np.ceil(seconds / beat))):
        at = b * beat_n
        chord = PROGRESSION[(b // 4) % len(PROGRESSION)]
        if b % 4 == 0:  # a pad and a bass note hold the bar
            bar = 4 * beat
            for note in chord:
                tone = _tone(_hz(note), bar, rate, 6, 0.003, rng.uniform(0, 6))
                out[at:at + tone.size] += 0.12 * tone * _envelope(tone.size, rate, 0.08, bar)
            bass = _tone(_hz(chord[0] - 24), bar, rate, 4, 0.0, 0.0)
            out[at:at + bass.size] += 0.3 * bass * _envelope(bass.size, rate, 0.01, 0.8)
        lead = _tone(_hz(chord[rng.integers(3)] - 12), beat * 0.9, rate, 12, 0.015,
                     rng.uniform(0, 6))
        if sung:
            lead = _sung(lead, VOWELS[rng.integers(len(VOWELS))], rate)
        out[at:at + lead.size] += 0.25 * lead * _envelope(lead.size, rate, 0.03, 0.5)
        kick_n = int(0.15 * rate)
        t = np.arange(kick_n) / rate
        if b % 2 == 0:
            kick = np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t / 0.03)) / rate)
            out[at:at + kick_n] += 0.6 * kick * np.exp(-t / 0.05)
        hat_at = at + beat_n // 2
        hat = rng.standard_normal(kick_n) * np.exp(-t / 0.01)
        out[hat_at:hat_at + kick_n] += 0.08 * np.diff(hat, prepend=0.0)
    out = out[:n]
    return Audio((peak * out / max(np.abs(out).max(), 1e-9)).astype(np.float32), rate)
