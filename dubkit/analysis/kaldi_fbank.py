"""Kaldi's log Mel filterbank (``compute-fbank-feats`` defaults), in numpy.

What torchaudio's ``compliance.kaldi.fbank`` and kaldi-native-fbank compute with ``dither=0``:
25 ms frames every 10 ms with the edges snipped, DC removed per frame, pre-emphasis 0.97, Povey
window, 512-point power spectrum, triangular filters evenly spaced on Kaldi's mel scale
(1127 ln(1 + f / 700)) from 20 Hz to Nyquist, natural log floored at float32's epsilon.
Speaker networks trained in Kaldi-style recipes (3D-Speaker's ERes2Net among them) expect
exactly these features; computing them here spares a dependency on torchaudio, which does not
load beside the pinned torch. tests/analysis checks it against kaldi-native-fbank.
"""
from __future__ import annotations

import functools

import numpy as np

from dubkit.types import ANALYSIS_RATE

FRAME = 400  # samples: 25 ms at 16 kHz
HOP = 160  # samples: 10 ms
_N_FFT = 512
_PREEMPHASIS = 0.97
_LOW_HZ = 20.0
_EPS = float(np.finfo(np.float32).eps)


def _mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz) / 700.0)


@functools.cache
def _povey_window() -> np.ndarray:
    n = np.arange(FRAME)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME - 1))) ** 0.85  # (400,)


@functools.cache
def mel_banks(n_mels: int) -> np.ndarray:
    """Kaldi's ``(n_mels, 257)`` triangular filters (the Nyquist bin gets no weight)."""
    low, high = _mel(_LOW_HZ), _mel(ANALYSIS_RATE / 2)
    step = (high - low) / (n_mels + 1)
    bins = _mel(np.arange(_N_FFT // 2 + 1) * ANALYSIS_RATE / _N_FFT)  # (257,) in mel
    banks = np.zeros((n_mels, _N_FFT // 2 + 1))
    for m in range(n_mels):
        left, centre, right = low + m * step, low + (m + 1) * step, low + (m + 2) * step
        rising = (bins - left) / (centre - left)
        falling = (right - bins) / (right - centre)
        banks[m] = np.where((bins > left) & (bins < right), np.minimum(rising, falling), 0.0)
    banks[:, -1] = 0.0
    return banks


def fbank(x: np.ndarray, n_mels: int = 80) -> np.ndarray:
    """``(frames, n_mels)`` float32 log Mel energies of 16 kHz mono samples ``(samples,)``;
    ``1 + (samples - 400) // 160`` frames, none for less than 25 ms."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < FRAME:
        return np.zeros((0, n_mels), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP].copy()  # (frames, 400)
    frames -= frames.mean(axis=1, keepdims=True)
    frames[:, 1:] -= _PREEMPHASIS * frames[:, :-1].copy()
    frames[:, 0] *= 1.0 - _PREEMPHASIS
    power = np.abs(np.fft.rfft(frames * _povey_window(), n=_N_FFT, axis=1)) ** 2  # (frames, 257)
    return np.log(np.maximum(power @ mel_banks(n_mels).T, _EPS)).astype(np.float32)
