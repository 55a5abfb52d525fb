"""A classic, model-free speaker embedding: statistics of MFCCs over the loud frames of a clip.

Per clip: 20 MFCCs (c1-c20; c0 is loudness, not voice) and their deltas over 25 ms frames; the
embedding is the per-coefficient mean and standard deviation of the MFCCs and the standard
deviation of the deltas (the deltas' mean is ~0 for any speaker), 60 numbers, measured over
frames within ``LOUD_DB`` of the loudest so pauses and breath do not dilute them.

Cepstral mean normalisation is deliberately not applied: it would cancel the channel, but the
per-coefficient mean is also where a speaker's long-term vocal-tract shape shows, and inside
one recording the channel is shared by every speaker anyway. Instead each statistic is
standardised against its spread over a pool of speech (``_POOL_MEAN``, ``_POOL_STD``) so that no
coefficient dominates the cosine and cosine distances mean the same in every recording; the
diarizer then removes what the recording shares. Expect it to tell apart voices that differ
clearly (sex, pitch, timbre, microphone) and to confuse similar ones; a neural embedder plugs
in through the same protocol.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import librosa
import numpy as np
import scipy.fft
import scipy.signal

from dubkit import dsp
from dubkit.errors import InputError
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

N_MFCC = 20
N_MELS = 40
LOUD_DB = 30.0  # frames within this of the loudest frame are used
MIN_DURATION: Seconds = 0.05  # shortest clip that can be embedded
FRAME_HOP: Seconds = 0.01  # between MFCC frames
FRAME_SPAN: Seconds = 0.032  # audio one MFCC frame reads
_N_FFT = 512  # 32 ms at 16 kHz
_WIN = 400  # 25 ms
_HOP = 160  # 10 ms
_PREEMPHASIS = 0.97

# Mean and standard deviation of each statistic over 1.5 s windows of speech (442 windows of 41
# single-speaker recordings in 8 languages: FLEURS, Picovoice Leopard, JFK; see shared/data).
_POOL_MEAN = np.array([
    5.238, 1.492, 2.759, -0.8273, -0.146, -0.8228, -0.7135, -0.714, -0.6927, -0.2262, -0.5479,
    -0.2469, 0.008386, -0.4568, -0.01502, -0.1133, -0.1925, -0.1675, 0.01606, -0.201, 7.475,
    3.758, 3.86, 2.826, 2.126, 2.007, 1.849, 1.614, 1.51, 1.374, 1.312, 1.23, 1.172, 1.109,
    1.034, 0.9937, 0.9699, 0.9335, 0.8842, 0.846, 1.653, 0.8945, 0.8326, 0.6908, 0.5616,
    0.5373, 0.5062, 0.4616, 0.4315, 0.3913, 0.3866, 0.3656, 0.346, 0.3279, 0.3133, 0.3035,
    0.289, 0.2775, 0.2665, 0.2555,
])
_POOL_STD = np.array([
    4.24, 3.619, 2.597, 2.33, 1.283, 1.468, 1.31, 0.966, 0.8822, 0.8967, 0.9721, 0.8114, 1.004,
    0.6101, 0.7079, 0.5563, 0.5303, 0.4534, 0.477, 0.4189, 2.207, 1.198, 0.959, 0.6968, 0.5586,
    0.4664, 0.4053, 0.3352, 0.2973, 0.2883, 0.2548, 0.232, 0.2308, 0.222, 0.2328, 0.2427,
    0.2516, 0.2785, 0.2775, 0.2494, 0.4342, 0.2027, 0.1695, 0.15, 0.1212, 0.1123, 0.1023,
    0.0831, 0.06594, 0.07051, 0.06701, 0.06015, 0.05529, 0.05226, 0.05245, 0.05506, 0.05393,
    0.05245, 0.0496, 0.04972,
])


class MfccEmbedder:
    """``SpeakerEmbedder`` named ``"mfcc"``: L2-normalised, standardised MFCC statistics."""

    name = "mfcc"
    same_speaker_threshold = 0.6  # qa.json's limit for a kept voice (not a speaker model)
    dim = 3 * N_MFCC

    def embed(self, audio: Audio) -> np.ndarray:
        """A ``(60,)`` unit-length embedding of ``audio`` (any rate; channels are averaged)."""
        if audio.duration < MIN_DURATION:
            raise InputError(
                f"audio of {audio.duration:.3f} s is too short for a speaker embedding "
                f"(at least {MIN_DURATION} s)"
            )
        x = dsp.resample(audio.mono(), ANALYSIS_RATE).samples  # 16 kHz mono
        z = (mfcc_statistics(x) - _POOL_MEAN) / _POOL_STD  # (60,)
        return (z / np.linalg.norm(z)).astype(np.float32)

    def embed_many(self, clips: Sequence[Audio]) -> np.ndarray:
        """``(clips, 60)`` embeddings, one ``embed`` each (there is no network to batch)."""
        if not clips:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.embed(clip) for clip in clips])


def mfcc_statistics(x: np.ndarray) -> np.ndarray:
    """Raw ``(60,)`` statistics of 16 kHz mono samples: MFCC means, MFCC stds, delta stds."""
    c, loud = mfcc_frames(x)  # (20, frames), (frames,)
    d = librosa.feature.delta(c, width=5, mode="nearest") if c.shape[1] > 1 else np.zeros_like(c)
    c, d = c[:, loud], d[:, loud]
    return np.concatenate([c.mean(axis=1), c.std(axis=1), d.std(axis=1)])


@functools.cache
def _window() -> np.ndarray:
    """25 ms Hann window centred in the 32 ms FFT frame, ``(512,)``."""
    return librosa.util.pad_center(scipy.signal.get_window("hann", _WIN), size=_N_FFT)


@functools.cache
def _mel_basis() -> np.ndarray:
    """Slaney mel filterbank, ``(40, 257)``, float64: a float32 basis against float64 power
    takes numpy off BLAS, 100 times slower (librosa's melspectrogram pays that)."""
    basis = librosa.filters.mel(sr=ANALYSIS_RATE, n_fft=_N_FFT, n_mels=N_MELS, fmin=60.0,
                                fmax=7600.0)
    return basis.astype(np.float64)


def mfcc_frames(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MFCCs c1-c20 of 16 kHz mono samples, ``(20, frames)`` (frame ``j`` reads ``FRAME_SPAN``
    seconds from ``j * FRAME_HOP``), and which frames are within ``LOUD_DB`` of the loudest."""
    x = x.astype(np.float64)
    if x.shape[0] < _N_FFT:
        x = np.pad(x, (0, _N_FFT - x.shape[0]))
    x = np.append(x[0], x[1:] - _PREEMPHASIS * x[:-1])  # flatten the spectral tilt of voice
    frames = np.lib.stride_tricks.sliding_window_view(x, _N_FFT)[::_HOP]  # (frames, 512)
    power = np.abs(np.fft.rfft(frames * _window(), axis=-1)) ** 2  # (frames, 257)
    mel = _mel_basis() @ power.T  # (40, frames)
    # A floor relative to the loudest bin (-80 dB): an absolute one would make quiet takes,
    # whose empty bands sink to it, look like another voice.
    log_mel = np.log(mel + max(1e-8 * float(mel.max()), 1e-20))
    c = scipy.fft.dct(log_mel, type=2, norm="ortho", axis=0)[1:N_MFCC + 1]
    energy = mel.sum(axis=0)  # (frames,)
    loud = energy >= energy.max() * 10.0 ** (-LOUD_DB / 10.0)
    return c, loud
