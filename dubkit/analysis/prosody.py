"""Prosody of one spoken segment: F0 contour, energy envelope, speaking rate, pauses, loudness.

What a dub should keep from the source line besides the words. Everything is sampled on one
10 ms grid (``HOP``) and rounded (F0 to 0.1 Hz, energy to 0.1 dB) so a segment's prosody stores
compactly in project.json (about 12 bytes a frame as JSON).

- F0 comes from WORLD (``pitch.f0_contour``: DIO + StoneMask, or Harvest), 0 where unvoiced;
- energy is the frame RMS in dB relative to the segment's loud frames (98th percentile);
- the speaking rate counts syllable nuclei, read as peaks of the smoothed 300-2500 Hz (vowel
  band) energy that stand out by ``NUCLEUS_PROMINENCE_DB``, per second of speech (pauses
  excluded): 25 of JFK's 29 syllables are found, a voicing gate lost a third more in his
  noisy recording;
- pauses are interior quiet runs of at least ``MIN_PAUSE`` (leading and trailing silence is
  the segment's cut, not its prosody);
- loudness is integrated loudness in LUFS (ITU-R BS.1770 through pyloudnorm when installed,
  else a K-weighted RMS with the same filters and no gating).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.signal

from dubkit import dsp
from dubkit.analysis.pitch import FRAME_PERIOD, f0_contour
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

HOP: Seconds = FRAME_PERIOD / 1000  # 10 ms grid shared by F0 and energy
ENERGY_FLOOR_DB = -60.0  # energy is clipped here (relative to the loud frames)
QUIET_DB = -30.0  # frames this far below the loud frames are silence
MIN_PAUSE: Seconds = 0.15
NUCLEUS_PROMINENCE_DB = 3.0
MIN_NUCLEUS_GAP: Seconds = 0.09  # no two syllable nuclei closer than this
LOUDNESS_FLOOR = -70.0  # LUFS reported for silence


@dataclass(frozen=True)
class Pause:
    """A quiet stretch inside a segment, ``start`` seconds from the segment's start."""

    start: Seconds
    duration: Seconds

    @property
    def end(self) -> Seconds:
        return self.start + self.duration


@dataclass(frozen=True)
class SegmentProsody:
    """Prosody of one segment on a ``hop``-second grid: ``f0`` Hz (0 unvoiced) and ``energy``
    dB re the loud frames, both ``(frames,)`` float32; ``syllable_rate`` nuclei per second of
    speech; ``pauses`` inside the segment; ``loudness`` LUFS of the whole segment."""

    duration: Seconds
    f0: np.ndarray
    energy: np.ndarray
    syllable_rate: float
    pauses: tuple[Pause, ...]
    loudness: float
    hop: Seconds = HOP

    @property
    def times(self) -> np.ndarray:
        """Frame centres in seconds, ``(frames,)``."""
        return np.arange(self.f0.shape[0]) * self.hop

    @property
    def voiced(self) -> np.ndarray:
        """``(frames,)`` bool."""
        return self.f0 > 0

    def log_f0_stats(self) -> tuple[float, float] | None:
        """Mean and standard deviation of log F0 over voiced frames, ``None`` with under 5."""
        v = np.log(self.f0[self.voiced])
        return (float(v.mean()), float(v.std())) if v.shape[0] >= 5 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, rounded: F0 to 0.1 Hz, energy to 0.1 dB, times to 10 ms."""
        return {
            "duration": round(float(self.duration), 3),
            "hop": self.hop,
            "f0": [round(float(v), 1) for v in self.f0],
            "energy": [round(float(v), 1) for v in self.energy],
            "syllable_rate": round(float(self.syllable_rate), 2),
            "pauses": [[round(p.start, 2), round(p.duration, 2)] for p in self.pauses],
            "loudness": round(float(self.loudness), 2),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> SegmentProsody:
        return SegmentProsody(
            duration=float(d["duration"]),
            f0=np.asarray(d["f0"], np.float32),
            energy=np.asarray(d["energy"], np.float32),
            syllable_rate=float(d["syllable_rate"]),
            pauses=tuple(Pause(float(s), float(n)) for s, n in d.get("pauses", ())),
            loudness=float(d.get("loudness", LOUDNESS_FLOOR)),
            hop=float(d.get("hop", HOP)),
        )


def extract_prosody(audio: Audio, f0_method: str = "dio") -> SegmentProsody:
    """The prosody of one segment of speech (any rate; analysed at 16 kHz mono)."""
    x16 = dsp.resample(audio.mono(), ANALYSIS_RATE)
    _, f0 = f0_contour(x16, f0_method)  # (frames,) Hz on the 10 ms grid
    energy = energy_envelope(x16.samples, ANALYSIS_RATE)
    n = min(f0.shape[0], energy.shape[0]) if f0.shape[0] else energy.shape[0]
    f0 = f0[:n] if f0.shape[0] else np.zeros(n)
    energy = energy[:n]
    pauses = find_pauses(energy)
    speech_time = max(HOP, _speech_span(energy) - sum(p.duration for p in pauses))
    b, a = scipy.signal.butter(2, [300.0, 2500.0], "bandpass", fs=ANALYSIS_RATE)
    vowel_band = scipy.signal.lfilter(b, a, x16.samples)
    nuclei = syllable_nuclei(energy_envelope(vowel_band, ANALYSIS_RATE)[:n])
    return SegmentProsody(
        duration=audio.duration,
        f0=np.round(f0, 1).astype(np.float32),
        energy=np.round(energy, 1).astype(np.float32),
        syllable_rate=nuclei.shape[0] / speech_time,
        pauses=pauses,
        loudness=loudness(audio),
    )


def energy_envelope(x: np.ndarray, rate: int, hop: Seconds = HOP) -> np.ndarray:
    """Frame RMS in dB relative to the loud frames (98th percentile), ``(frames,)``, 25 ms
    windows centred every ``hop`` seconds, clipped at ``ENERGY_FLOOR_DB``."""
    step, half = int(round(hop * rate)), int(round(0.0125 * rate))
    n = x.shape[0] // step + 1
    centres = np.arange(n) * step
    a, b = np.clip(centres - half, 0, x.shape[0]), np.clip(centres + half, 0, x.shape[0])
    cum = np.concatenate([[0.0], np.cumsum(np.square(x, dtype=np.float64))])
    power = (cum[b] - cum[a]) / np.maximum(1, b - a)  # (frames,)
    db = 10 * np.log10(np.maximum(power, 1e-12))
    ref = float(np.percentile(db, 98)) if db.size else 0.0
    return np.maximum(db - ref, ENERGY_FLOOR_DB)


def find_pauses(energy: np.ndarray, hop: Seconds = HOP, min_pause: Seconds = MIN_PAUSE
                ) -> tuple[Pause, ...]:
    """Interior runs of frames below ``QUIET_DB`` lasting ``min_pause`` or more."""
    loud = np.flatnonzero(energy > QUIET_DB)
    if loud.shape[0] < 2:
        return ()
    quiet = energy[loud[0]:loud[-1] + 1] <= QUIET_DB
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return tuple(Pause(round((loud[0] + s) * hop, 3), round((e - s) * hop, 3))
                 for s, e in zip(starts, ends) if (e - s) * hop >= min_pause)


def syllable_nuclei(energy: np.ndarray, hop: Seconds = HOP) -> np.ndarray:
    """Frame indices of syllable nuclei: peaks of the 30 ms-smoothed ``energy`` (dB, relative)
    that rise ``NUCLEUS_PROMINENCE_DB`` above their surroundings and lie above ``QUIET_DB``."""
    if energy.shape[0] < 5:
        return np.zeros(0, int)
    smooth = np.convolve(energy, np.hanning(5) / np.hanning(5).sum(), mode="same")
    peaks, _ = scipy.signal.find_peaks(smooth, prominence=NUCLEUS_PROMINENCE_DB,
                                       distance=max(1, int(MIN_NUCLEUS_GAP / hop)))
    return peaks[smooth[peaks] > QUIET_DB]


def loudness(audio: Audio) -> float:
    """Integrated loudness in LUFS: ITU-R BS.1770 with pyloudnorm (gated) when it is installed
    and the clip is at least 0.4 s, else the K-weighted mean square without gating."""
    x = audio.mono().samples.astype(np.float64)
    if x.size == 0 or not np.any(x):
        return LOUDNESS_FLOOR
    if x.shape[0] >= int(0.4 * audio.rate) + 1:
        try:
            import pyloudnorm

            value = pyloudnorm.Meter(audio.rate).integrated_loudness(x)
            if np.isfinite(value):
                return max(LOUDNESS_FLOOR, float(value))
        except ImportError:
            pass
    return max(LOUDNESS_FLOOR, _k_weighted_lufs(x, audio.rate))


def _k_weighted_lufs(x: np.ndarray, rate: int) -> float:
    """BS.1770's K-weighting (high shelf + high pass, as pyloudnorm designs it), ungated."""
    g, fc, q = 4.0, 1500.0, np.sqrt(2) / 2  # shelf: +4 dB above ~1.5 kHz
    a = 10 ** (g / 40)
    w = 2 * np.pi * fc / rate
    alpha = np.sin(w) / (2 * q)
    shelf_b = [a * ((a + 1) + (a - 1) * np.cos(w) + 2 * np.sqrt(a) * alpha),
               -2 * a * ((a - 1) + (a + 1) * np.cos(w)),
               a * ((a + 1) + (a - 1) * np.cos(w) - 2 * np.sqrt(a) * alpha)]
    shelf_a = [(a + 1) - (a - 1) * np.cos(w) + 2 * np.sqrt(a) * alpha,
               2 * ((a - 1) - (a + 1) * np.cos(w)),
               (a + 1) - (a - 1) * np.cos(w) - 2 * np.sqrt(a) * alpha]
    y = scipy.signal.lfilter(shelf_b, shelf_a, x)
    hp_b, hp_a = scipy.signal.butter(2, 38.0, "highpass", fs=rate)
    y = scipy.signal.lfilter(hp_b, hp_a, y)
    ms = float(np.mean(y * y))
    return -0.691 + 10 * np.log10(ms) if ms > 0 else LOUDNESS_FLOOR


def _speech_span(energy: np.ndarray, hop: Seconds = HOP) -> Seconds:
    loud = np.flatnonzero(energy > QUIET_DB)
    return (loud[-1] - loud[0] + 1) * hop if loud.shape[0] else 0.0
