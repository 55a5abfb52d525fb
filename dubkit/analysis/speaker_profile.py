"""What a speaker sounds like, summed over all their speech: the target of voice conversion.

A ``SpeakerProfile`` holds a speaker embedding (Resemblyzer's 256-d GE2E, when an embedder is
given), the mean and spread of log F0 over voiced frames, and the long-term spectral envelope:
the mean of WORLD's CheapTrick envelope (dB) over voiced frames, sampled at ``ENVELOPE_GRID``,
a fixed mel-spaced grid of frequencies, so profiles from recordings at any rate compare
directly. The envelope carries both the vocal tract (formant positions) and the channel (a
telephone's band limits); a converter estimates its own frequency warp and equalisation
against it. ``speech`` optionally keeps the speaker's 16 kHz speech itself in memory (never in
``to_dict``) for converters that match frames against it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dubkit import dsp
from dubkit.analysis.pitch import F0_CEIL, F0_FLOOR, _pyworld
from dubkit.analysis.prosody import QUIET_DB, energy_envelope
from dubkit.errors import InputError
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

ENVELOPE_BANDS = 64
ENVELOPE_GRID = np.round(  # Hz, (64,): mel-spaced 60 Hz .. 7.6 kHz, below 16 kHz's Nyquist
    700.0 * (10 ** (np.linspace(2595 * np.log10(1 + 60 / 700), 2595 * np.log10(1 + 7600 / 700),
                                ENVELOPE_BANDS) / 2595) - 1), 1)
FRAME_PERIOD = 5.0  # ms: WORLD analysis hop for the envelope
MIN_SPEECH: Seconds = 1.0  # less speech than this gives no useful statistics
_MAX_FRAMES = 6000  # envelope frames averaged (30 s of voiced speech at 5 ms), evenly thinned


@dataclass(frozen=True)
class SpeakerProfile:
    """One speaker's voice. ``envelope`` is ``(64,)`` dB on ``ENVELOPE_GRID``; ``embedding`` is
    ``(256,)`` or ``None``; ``log_f0_mean``/``log_f0_std`` are of natural-log Hz."""

    speaker: str
    log_f0_mean: float
    log_f0_std: float
    envelope: np.ndarray
    embedding: np.ndarray | None = None
    speech_seconds: Seconds = 0.0
    speech: Audio | None = None  # 16 kHz mono speech of the speaker, in memory only

    @property
    def median_f0(self) -> float:
        """The speaker's typical F0 in Hz (geometric mean of voiced frames)."""
        return float(np.exp(self.log_f0_mean))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``speech`` is left out): envelope to 0.01 dB, embedding to 5 decimals."""
        return {
            "speaker": self.speaker,
            "log_f0_mean": round(self.log_f0_mean, 5),
            "log_f0_std": round(self.log_f0_std, 5),
            "envelope": [round(float(v), 2) for v in self.envelope],
            "envelope_grid_hz": "mel-64-60-7600",
            "embedding": None if self.embedding is None
            else [round(float(v), 5) for v in self.embedding],
            "speech_seconds": round(self.speech_seconds, 2),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> SpeakerProfile:
        envelope = np.asarray(d["envelope"], np.float32)
        if envelope.shape != (ENVELOPE_BANDS,):
            raise InputError(f"speaker profile envelope has {envelope.shape[0]} bands, "
                             f"expected {ENVELOPE_BANDS}")
        emb = d.get("embedding")
        return SpeakerProfile(
            speaker=str(d.get("speaker", "")),
            log_f0_mean=float(d["log_f0_mean"]),
            log_f0_std=float(d["log_f0_std"]),
            envelope=envelope,
            embedding=None if emb is None else np.asarray(emb, np.float32),
            speech_seconds=float(d.get("speech_seconds", 0.0)),
        )


def build_speaker_profile(clips: Sequence[Audio], speaker: str = "", embedder: Any = None,
                          keep_speech: bool = True) -> SpeakerProfile:
    """A profile from all of one speaker's speech ``clips`` (any rate). ``embedder`` is a
    ``SpeakerEmbedder`` (e.g. ``ResemblyzerEmbedder``) or ``None`` for no embedding."""
    parts = [dsp.resample(c.mono(), ANALYSIS_RATE).samples for c in clips if c.num_samples]
    total = sum(p.shape[0] for p in parts) / ANALYSIS_RATE
    if total < MIN_SPEECH:
        raise InputError(f"speaker {speaker or '?'} has {total:.2f} s of speech; a voice "
                         f"profile needs at least {MIN_SPEECH} s")
    f0s, envs = [], []
    for x in parts:
        f0, env = analyse(x, ANALYSIS_RATE)
        f0s.append(f0[f0 > 0])
        envs.append(env[f0 > 0])
    log_f0 = np.log(np.concatenate(f0s)) if f0s else np.zeros(0)
    if log_f0.shape[0] < 40:  # 0.2 s voiced at 5 ms frames
        raise InputError(f"speaker {speaker or '?'} has too little voiced speech for a profile")
    env = np.concatenate(envs)
    env = env[np.linspace(0, env.shape[0] - 1, min(env.shape[0], _MAX_FRAMES)).astype(int)]
    speech = Audio(np.concatenate(parts), ANALYSIS_RATE)
    embedding = None
    if embedder is not None:
        embedding = np.asarray(embedder.embed(speech), np.float32)
    lo, hi = np.percentile(log_f0, [2, 98])  # octave errors of the tracker sit in the tails
    core = log_f0[(log_f0 >= lo) & (log_f0 <= hi)]
    return SpeakerProfile(
        speaker=speaker,
        log_f0_mean=float(core.mean()),
        log_f0_std=float(max(core.std(), 0.02)),
        envelope=env.mean(axis=0).astype(np.float32),
        embedding=embedding,
        speech_seconds=total,
        speech=speech if keep_speech else None,
    )


def analyse(x: np.ndarray, rate: int, frame_period: float = FRAME_PERIOD
            ) -> tuple[np.ndarray, np.ndarray]:
    """WORLD analysis of mono samples: F0 ``(frames,)`` Hz (0 unvoiced, DIO + StoneMask) and
    the envelope in dB on ``ENVELOPE_GRID``, ``(frames, 64)``."""
    pw = _pyworld()
    x = np.ascontiguousarray(x, np.float64)
    f0, t = pw.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=frame_period)
    f0 = pw.stonemask(x, f0, t, rate)
    sp = pw.cheaptrick(x, f0, t, rate)  # (frames, fft/2+1) power
    # Trackers find "pitch" in breath and noise: quiet frames count as unvoiced.
    energy = energy_envelope(x, rate, frame_period / 1000)
    loud = energy[np.minimum(np.arange(f0.shape[0]), energy.shape[0] - 1)] > QUIET_DB
    f0 = np.where(loud, f0, 0.0)
    return f0, envelope_on_grid(sp, rate)


def envelope_on_grid(sp: np.ndarray, rate: int) -> np.ndarray:
    """WORLD power envelopes ``(frames, bins)`` as dB at ``ENVELOPE_GRID``, ``(frames, 64)``."""
    freqs = np.linspace(0, rate / 2, sp.shape[1])
    db = 10 * np.log10(np.maximum(sp, 1e-16))
    idx = np.interp(ENVELOPE_GRID, freqs, np.arange(sp.shape[1]))  # fractional bins
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, sp.shape[1] - 1)
    w = idx - lo
    return (db[:, lo] * (1 - w) + db[:, hi] * w).astype(np.float32)
