"""The default watermark: spread-transform dither modulation on speech's log spectrum.

Where the mark lives: 16 kHz, 32 ms frames every 16 ms, 29 bands of 125 Hz between 312 and
3937 Hz (so it survives 16 kHz resampling and speech codecs). A *tile* is one band over two frames;
its feature is the band's log power minus the local median (5 frames x 5 bands), which removes gain
and the slow spectral envelope. A *chunk* is 4 tile columns (128 ms); each chunk type holds 7
projections of 16 keyed tiles with keyed signs. A period of 22 chunks (2.8 s) repeats for as long
as the segment lasts, so any 3 s excerpt holds a whole period.

Embedding (informed, so the host's own spectrum is not noise to the detector): each projection,
normalised by its tiles' level weights, is moved to the nearest point of a keyed lattice
(dither + bit * step / 2), changing only tiles within about 26 dB of the local loudest one (the
tiles codecs and noise leave alone). 54 projections per period carry known sync bits; 100 carry
the coded payload (``payload.py``).

Detection: every frame offset and every chunk phase is tried; per 2.8 s window the sync score is
``sum(rho * cos(2 pi (x / step - dither - bit / 2))) / sqrt(sum(rho^2) / 2)``. The dithers are keyed
and independent of the audio, so on unmarked audio each cosine is an arcsine variable and the score
has P(score > z) <= exp(-z^2 / 2) whatever the audio: the threshold follows from the number of
windows tried.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.ndimage as ndi

from dubkit.dsp import resample
from dubkit.errors import InputError
from dubkit.types import Audio
from dubkit.watermark import payload as code
from dubkit.watermark.base import DEFAULT_KEY, Detection, key_id, key_seed
from dubkit.watermark.payload import Payload

RATE = 16_000  # Hz: where the mark is computed
N_FFT, HOP = 512, 256  # 32 ms frames, 16 ms hop
_WINDOW = np.sqrt(np.hanning(N_FFT + 1)[:-1])  # sqrt-Hann analysis and synthesis: exact overlap-add
_BIN_LO, _BAND_BINS, N_BANDS = 10, 4, 29  # bins 10..125: 312-3937 Hz
TILE_FRAMES, CHUNK_COLS, PERIOD_CHUNKS = 2, 4, 22
CHUNK_FRAMES = TILE_FRAMES * CHUNK_COLS  # 8 frames = 128 ms
PERIOD_FRAMES = CHUNK_FRAMES * PERIOD_CHUNKS  # 176 frames = 2.816 s
TILES_PER_PROJ, PROJ_PER_CHUNK = 16, 7
N_PROJ = PROJ_PER_CHUNK * PERIOD_CHUNKS  # 154
N_SYNC = N_PROJ - code.CODED_BITS  # 54
_STRONG_NATS, _SOFT_NATS = 6.0, 0.7  # weight 1/2 at 26 dB under the local loudest tile
_LOUDEST_FRAMES = 63  # ~1 s: the neighbourhood in which "loudest" is taken
_MIN_RELIABILITY = 2.0  # a projection whose tiles weigh less than this is not embedded
_JOIN_Z = 2.5  # windows in the best one's phase scoring this much add to the payload's evidence
_FLOOR = 1e-10  # power floor (about -100 dBFS per band)


class SpreadSpectrumWatermarker:
    """The default ``Watermarker`` (no model, numpy only).

    ``step`` is the lattice step in log-power units: larger is more robust and more audible
    (0.7 gives a signal-to-watermark ratio of 30-35 dB on speech); ``iterations`` refine the
    embedding against the analysis; ``false_alarm`` is the chance per file, bounded, that
    unmarked audio is flagged on the sync score alone; ``offsets`` is how many sample shifts
    within one 16 ms hop the detector tries (the features need alignment to about 1 ms).
    """

    def __init__(
        self,
        key: str | None = None,
        step: float = 0.7,
        iterations: int = 3,
        false_alarm: float = 1e-4,
        offsets: int = 8,
        name: str = "spread-spectrum",
    ) -> None:
        if step <= 0 or iterations < 1 or offsets < 1 or not 0 < false_alarm < 1:
            raise InputError(
                "step must be > 0, iterations and offsets >= 1, and false_alarm in (0, 1)"
            )
        self.name = name
        key = DEFAULT_KEY if key is None else key
        if not key:
            raise InputError("the watermark key must not be empty; omit it to use the default")
        self.key_id = key_id(key)
        self.step = step
        self.iterations = iterations
        self.false_alarm = false_alarm
        self.offsets = offsets
        rng = np.random.default_rng(key_seed(key, "spread-spectrum-layout"))
        # per chunk type: which tile (column, band) feeds each of its projections, and the sign
        tiles = np.stack([rng.permutation(CHUNK_COLS * N_BANDS)[: PROJ_PER_CHUNK * TILES_PER_PROJ]
                          for _ in range(PERIOD_CHUNKS)]).reshape(N_PROJ, TILES_PER_PROJ)
        self._col = tiles // N_BANDS  # (projections, tiles)
        self._band = tiles % N_BANDS
        self._sign = rng.choice([-1.0, 1.0], size=tiles.shape)
        self._chunk = np.repeat(np.arange(PERIOD_CHUNKS), PROJ_PER_CHUNK)  # (projections,)
        self._dither = rng.uniform(0.0, 1.0, N_PROJ)  # in steps
        roles = rng.permutation(N_PROJ)
        self._sync_idx = np.sort(roles[:N_SYNC])
        self._data_idx = roles[N_SYNC:]  # coded bit i travels in projection _data_idx[i]
        self._sync_bits = rng.integers(0, 2, N_SYNC)

    # ---- embedding -------------------------------------------------------------------------
    def embed(self, audio: Audio, payload: Payload) -> Audio:
        """``audio`` (mono, any rate) with ``payload`` hidden in it; same rate and length."""
        if audio.channels != 1:
            raise InputError("embed a watermark in mono speech segments, before mixing")
        bits = np.zeros(N_PROJ, np.int64)
        bits[self._sync_idx] = self._sync_bits
        bits[self._data_idx] = code.encode(payload)
        host = resample(audio, RATE).samples.astype(np.float64)  # 16 kHz mono
        if host.size < N_FFT + CHUNK_FRAMES * HOP:
            return audio  # under ~0.15 s: too short to carry anything
        marked = host.copy()
        for _ in range(self.iterations):
            spec, level, resid = _analyse(marked)
            change = self._tile_changes(level, resid, bits)  # (frames, bands) log power
            gain = np.zeros(spec.shape)  # (frames, bins): amplitude factor minus one
            hi = _BIN_LO + _BAND_BINS * N_BANDS
            gain[:, _BIN_LO:hi] = np.repeat(np.expm1(change / 2.0), _BAND_BINS, axis=1)
            marked += _istft(spec * gain, marked.size)
        mark = Audio((marked - host).astype(np.float32), RATE)
        mark = resample(mark, audio.rate).samples  # band-limited under 4 kHz: resamples cleanly
        out = audio.samples + mark[: audio.num_samples]
        return Audio(np.clip(out, -1.0, 1.0), audio.rate)

    def _tile_changes(self, level: np.ndarray, resid: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """Per-frame log-power changes that put every projection of every whole chunk on its
        bit's lattice, ``(frames, bands)``."""
        weight = _weights(level)
        n_chunks = (resid.shape[0] - TILE_FRAMES + 1) // CHUNK_FRAMES
        change = np.zeros_like(resid)
        feat, w = _tiles(resid), _tiles(weight) / TILE_FRAMES
        for c in range(n_chunks):
            start = c * CHUNK_FRAMES
            first = c % PERIOD_CHUNKS * PROJ_PER_CHUNK
            rows = slice(first, first + PROJ_PER_CHUNK)  # this chunk type's projections
            frames = start + TILE_FRAMES * self._col[rows]  # (7, 16)
            wt = w[frames, self._band[rows]] * self._sign[rows]
            norm2 = (wt ** 2).sum(axis=1)
            x = (wt * feat[frames, self._band[rows]]).sum(axis=1) / np.sqrt(norm2 + 1e-12)
            offset = (self._dither[rows] + 0.5 * bits[rows]) * self.step
            target = np.round((x - offset) / self.step) * self.step + offset
            move = np.where(norm2 >= _MIN_RELIABILITY, target - x, 0.0)
            delta = move[:, None] * wt / np.sqrt(norm2 + 1e-12)[:, None]  # per tile, both frames
            for i in range(TILE_FRAMES):
                np.add.at(change, (frames + i, self._band[rows]), delta / TILE_FRAMES)
        return change

    # ---- detection -------------------------------------------------------------------------
    def detect(self, audio: Audio) -> Detection:
        """Search ``audio`` (any rate, any channels) for this key's mark at every frame offset."""
        mono = resample(audio.mono(), RATE).samples.astype(np.float64)
        none = Detection(False, None, 0.0, [], self.key_id)
        trials = []  # per sub-hop shift: (shift in samples, z, phase, soft values)
        for k in range(self.offsets):
            shift = k * HOP // self.offsets
            trials.append((shift, *self._scan(mono[shift:])))
        n_windows = max(t[1].size for t in trials)
        if n_windows == 0:
            return none
        tests = n_windows * PERIOD_CHUNKS * self.offsets
        strong = math.sqrt(2.0 * math.log(tests / self.false_alarm))
        weak = max(3.5, strong - 1.5)  # below `strong`, only with a payload that passes its CRC
        shift, z, phase, soft_all = max(trials, key=lambda t: t[1].max(initial=-np.inf))
        best = int(np.argmax(z))
        score = float(z[best])
        if score < weak:
            return Detection(False, None, score, [], self.key_id)
        found_payload = code.decode(self._payload_soft(soft_all, best, phase, z))
        found = score >= strong or found_payload is not None
        ranges: list[tuple[float, float]] = []
        if found:
            for sh, zz, _, _ in trials:
                ranges += [(a + sh / RATE, b + sh / RATE) for a, b in _ranges(zz >= weak)]
        return Detection(found, found_payload, score, _merge(ranges), self.key_id)

    def _scan(self, mono: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Window z-scores ``(windows,)``, their best chunk phase, and the reliability-weighted
        cosines ``(starts, projections)`` of 16 kHz ``mono`` analysed from its first sample."""
        if mono.size < N_FFT + PERIOD_FRAMES * HOP:
            return np.zeros(0), np.zeros(0, np.int64), np.zeros((0, N_PROJ))
        _, level, resid = _analyse(mono)
        weight = _tiles(_weights(level)) / TILE_FRAMES
        feat = _tiles(resid)
        starts = feat.shape[0] - (CHUNK_COLS - 1) * TILE_FRAMES  # chunk start frames possible
        cos, rho = self._soft(feat, weight, starts)  # (starts, projections) each
        known = 1.0 - 2.0 * self._sync_bits  # +1 where the sync bit is 0
        sync = rho[:, self._sync_idx] * cos[:, self._sync_idx] * known  # (starts, sync)
        num = _by_chunk(sync, self._chunk[self._sync_idx])  # (starts, chunk types)
        den = _by_chunk(rho[:, self._sync_idx] ** 2 / 2.0, self._chunk[self._sync_idx])
        z, phase = _window_scores(num, den)
        return z, phase, cos * rho

    def _soft(self, feat: np.ndarray, weight: np.ndarray, starts: int):
        """Cosine of every projection's lattice phase and its reliability, for a chunk starting
        at every frame: ``(starts, projections)`` each."""
        cos = np.empty((starts, N_PROJ))
        rho = np.empty((starts, N_PROJ))
        for a in range(0, starts, 1024):  # in blocks: the gathered tiles take 1024 x 154 x 16
            frames = np.arange(a, min(starts, a + 1024))[:, None, None] + TILE_FRAMES * self._col
            bands = np.broadcast_to(self._band, frames.shape)
            wt = weight[frames, bands] * self._sign  # (starts, projections, tiles)
            norm2 = (wt ** 2).sum(axis=2)
            x = (wt * feat[frames, bands]).sum(axis=2) / np.sqrt(norm2 + 1e-12)
            cos[a:a + len(x)] = np.cos(2.0 * np.pi * (x / self.step - self._dither))
            rho[a:a + len(x)] = np.clip(norm2 / (2.0 * _MIN_RELIABILITY), 0.0, 1.0)
        return cos, rho

    def _payload_soft(self, soft_all: np.ndarray, best: int, phase: np.ndarray,
                      z: np.ndarray) -> np.ndarray:
        """Soft coded bits summed over the chunks of every window that agrees with the best
        window's chunk phase and scores at least ``_JOIN_Z`` (one segment's mark, or several
        marked in phase)."""
        frame0 = best - int(phase[best]) * CHUNK_FRAMES  # a frame where chunk type 0 starts
        starts = np.arange(z.size)
        agree = ((starts - phase * CHUNK_FRAMES - frame0) % PERIOD_FRAMES == 0) & (z >= _JOIN_Z)
        covered = np.zeros(soft_all.shape[0], bool)  # chunk starts inside an agreeing window
        for w in np.flatnonzero(agree):
            covered[w:w + PERIOD_FRAMES - CHUNK_FRAMES + 1] = True
        soft = np.zeros(code.CODED_BITS)
        for start in range(frame0 % CHUNK_FRAMES, soft_all.shape[0], CHUNK_FRAMES):
            if covered[start]:
                ctype = ((start - frame0) // CHUNK_FRAMES) % PERIOD_CHUNKS
                own = self._chunk[self._data_idx] == ctype
                soft[own] += soft_all[start, self._data_idx[own]]
        return soft


def _analyse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """STFT ``(frames, bins)``, band log power ``(frames, bands)`` and its residual after the
    local median ``(frames, bands)``."""
    n = 1 + (x.size - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    spec = np.fft.rfft(x[idx] * _WINDOW, axis=1)
    power = np.abs(spec[:, _BIN_LO:_BIN_LO + _BAND_BINS * N_BANDS]) ** 2
    level = np.log(power.reshape(n, N_BANDS, _BAND_BINS).sum(axis=2) + _FLOOR)
    resid = level - ndi.median_filter(level, size=(5, 5), mode="nearest")
    return spec, level, resid


def _istft(spec: np.ndarray, length: int) -> np.ndarray:
    frames = np.fft.irfft(spec, N_FFT, axis=1) * _WINDOW  # (frames, N_FFT)
    out = np.zeros(length)
    for i in range(frames.shape[0]):
        out[i * HOP:i * HOP + N_FFT] += frames[i]
    return out


def _weights(level: np.ndarray) -> np.ndarray:
    """How much each frame-band cell counts: ~1 within 26 dB of the loudest cell nearby, ~0 far
    below it or near digital silence, ``(frames, bands)``."""
    loudest = ndi.maximum_filter1d(level.max(axis=1), _LOUDEST_FRAMES, mode="nearest")
    rel = (level - loudest[:, None] + _STRONG_NATS) / _SOFT_NATS
    audible = level > math.log(_FLOOR) + 4.0
    return np.where(audible, 1.0 / (1.0 + np.exp(-np.clip(rel, -30, 30))), 0.0)


def _tiles(values: np.ndarray) -> np.ndarray:
    """Sum over ``TILE_FRAMES`` consecutive frames for a tile starting at every frame."""
    n = values.shape[0] - TILE_FRAMES + 1
    return sum(values[i:i + n] for i in range(TILE_FRAMES))


def _by_chunk(values: np.ndarray, chunk_of: np.ndarray) -> np.ndarray:
    """Sum the columns of ``values`` ``(starts, k)`` by chunk type: ``(starts, chunk types)``."""
    out = np.zeros((values.shape[0], PERIOD_CHUNKS))
    for j in range(PERIOD_CHUNKS):
        out[:, j] = values[:, chunk_of == j].sum(axis=1)
    return out


def _window_scores(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sync z-score of the 2.8 s window starting at each frame, maximised over which chunk type
    comes first, and that chunk type: ``(windows,)`` each."""
    windows = num.shape[0] - PERIOD_FRAMES + CHUNK_FRAMES
    if windows <= 0:
        return np.zeros(0), np.zeros(0, np.int64)
    z = np.full((PERIOD_CHUNKS, windows), -np.inf)
    for first in range(PERIOD_CHUNKS):
        total_n = np.zeros(windows)
        total_d = np.zeros(windows)
        for i in range(PERIOD_CHUNKS):
            rows = slice(i * CHUNK_FRAMES, i * CHUNK_FRAMES + windows)
            ctype = (first + i) % PERIOD_CHUNKS
            total_n += num[rows, ctype]
            total_d += den[rows, ctype]
        z[first] = total_n / np.sqrt(total_d + 1e-9)
    phase = np.argmax(z, axis=0)
    return z[phase, np.arange(windows)], phase


def _merge(ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in out]


def _ranges(flags: np.ndarray) -> list[tuple[float, float]]:
    """Merged ``(start, end)`` seconds of the windows whose flag is set."""
    seconds = HOP / RATE
    out: list[tuple[float, float]] = []
    for start in np.flatnonzero(flags):
        a, b = start * seconds, (start + PERIOD_FRAMES) * seconds + (N_FFT - HOP) / RATE
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in out]
