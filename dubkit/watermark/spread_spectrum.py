"""The payload watermark: spread-transform dither modulation on speech's log spectrum (the
job id layer of the default ``layered`` mark).

Where the mark lives: 16 kHz, 32 ms frames every 16 ms, 29 bands of 125 Hz between 312 and
3937 Hz (so it survives 16 kHz resampling and speech codecs). A *tile* is one band over two frames;
its feature is the band's log power minus the local median (5 frames x 5 bands), which removes gain
and the slow spectral envelope. A *chunk* is 4 tile columns (128 ms); each chunk type holds 7
projections of 16 keyed tiles with keyed signs. A period of 22 chunks (2.8 s) repeats for as long
as the segment lasts, so any 3 s excerpt holds a whole period.

Embedding (informed, so the host's own spectrum is not noise to the detector): each projection,
normalised by its tiles' level weights, is moved to the nearest point of a keyed lattice
(dither + bit * step / 2), changing only tiles within about 33 dB of the local loudest one (the
tiles codecs and noise leave alone), and scaled down where the segment's signal-to-watermark ratio
would fall under ``min_swr_db``. 54 projections per period carry known sync bits; 100 carry
the coded payload (``payload.py``). Given a *cover* (the bed the speech will be mixed over), the
features are those of the mix, each projection's move goes to the tiles the speech dominates
(cost 1 / share^2) and the speech alone is changed: the bed stops being noise to the detector.

Detection: 16 sub-hop shifts (then 4 more, finer, around the best), every frame offset and every
chunk phase are tried; the score of known bits is
``sum(rho * cos(2 pi (x / step - dither - bit / 2))) / sqrt(sum(rho^2) / 2)``, per 2.8 s window and
over the whole file at each alignment of the period (a dub bus is one long mark). The dithers are
keyed and independent of the audio, so on unmarked audio each cosine is an arcsine variable and a
score has P(score > z) <= exp(-z^2 / 2): thresholds follow from the number of scores tried.
Repetitions of a period reuse its dithers, so whole-file scores are also divided by their spread
over all alignments when it exceeds 1 (a stationary host would otherwise add up).
Blind, the known bits are the 54 sync bits; with a claimed payload (the manifest's job id) they
are its 100 coded bits, a far stronger test.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.ndimage as ndi
from numpy.lib.stride_tricks import sliding_window_view

from dubkit.cpu import default_threads
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
# weight 1/2 at 33 dB under the local loudest tile: speech's upper bands (20-30 dB under its
# formants) then carry the mark too, which spreads each move over more, cheaper tiles
_STRONG_NATS, _SOFT_NATS = 7.5, 0.7
_LOUDEST_FRAMES = 63  # ~1 s: the neighbourhood in which "loudest" is taken
_MIN_RELIABILITY = 1.0  # a projection whose tiles weigh less than this is not embedded
_RANGE_Z = 3.5  # in a found file, 2.8 s windows scoring this much are reported as ranges
_FLOOR = 1e-10  # power floor (about -100 dBFS per band)
# Marking over a cover: cells where the speech has under 5 % of the power get no more gain than
# that, and no cell is attenuated below a tenth of its power in one iteration.
_MIN_SHARE, _MIN_FACTOR = 0.05, 0.1
_MAX_SCANS = 4  # alignments scanned at once


class SpreadSpectrumWatermarker:
    """The payload-carrying ``Watermarker`` (no model, numpy only); ``layered`` puts it over a
    band-energy presence layer by default.

    ``step`` is the lattice step in log-power units: larger is more robust and more audible
    (0.8 gives a signal-to-watermark ratio of 29-38 dB on speech); ``min_swr_db`` caps the
    mark's power per segment (it is scaled down where the step would exceed it); ``iterations``
    refine the embedding against the analysis; ``false_alarm`` bounds the chance per file that
    unmarked audio is flagged (blind or for a claimed payload); ``offsets`` is how many sample
    shifts within one 16 ms hop the detector tries before refining (the features need
    alignment to about 0.5 ms).
    """

    def __init__(
        self,
        key: str | None = None,
        step: float = 0.8,
        iterations: int = 3,
        false_alarm: float = 1e-4,
        offsets: int = 16,
        min_swr_db: float = 30.5,
        name: str = "spread-spectrum",
    ) -> None:
        if step <= 0 or iterations < 1 or offsets < 1 or not 0 < false_alarm < 1 \
                or min_swr_db < 0:
            raise InputError(
                "step must be > 0, iterations and offsets >= 1, false_alarm in (0, 1) and "
                "min_swr_db >= 0"
            )
        self.name = name
        self.period = PERIOD_FRAMES * HOP / RATE  # 2.816 s
        key = DEFAULT_KEY if key is None else key
        if not key:
            raise InputError("the watermark key must not be empty; omit it to use the default")
        self.key_id = key_id(key)
        self.step = step
        self.iterations = iterations
        self.false_alarm = false_alarm
        self.offsets = offsets
        self.min_swr_db = min_swr_db
        rng = np.random.default_rng(key_seed(key, "spread-spectrum-layout"))
        # per chunk type: which tile (column, band) feeds each of its projections, and the sign
        tiles = np.stack([rng.permutation(CHUNK_COLS * N_BANDS)[: PROJ_PER_CHUNK * TILES_PER_PROJ]
                          for _ in range(PERIOD_CHUNKS)]).reshape(N_PROJ, TILES_PER_PROJ)
        self._col = tiles // N_BANDS  # (projections, tiles)
        self._band = tiles % N_BANDS
        self._sign = rng.choice([-1.0, 1.0], size=tiles.shape)
        self._chunk = np.repeat(np.arange(PERIOD_CHUNKS), PROJ_PER_CHUNK)  # (projections,)
        # the same layout as a signed matrix from a chunk's tiles (column-major) to projections
        self._matrix = np.zeros((CHUNK_COLS * N_BANDS, N_PROJ))
        rows = self._col * N_BANDS + self._band
        self._matrix[rows, np.arange(N_PROJ)[:, None]] = self._sign
        self._dither = rng.uniform(0.0, 1.0, N_PROJ)  # in steps
        roles = rng.permutation(N_PROJ)
        self._sync_idx = np.sort(roles[:N_SYNC])
        self._data_idx = roles[N_SYNC:]  # coded bit i travels in projection _data_idx[i]
        self._sync_bits = rng.integers(0, 2, N_SYNC)

    # ---- embedding -------------------------------------------------------------------------
    def embed(self, audio: Audio, payload: Payload, cover: Audio | None = None) -> Audio:
        """``audio`` (mono, any rate) with ``payload`` hidden in it; same rate and length.

        ``cover`` (mono, ``audio``'s rate and length) is what will be mixed under ``audio``
        afterwards, such as a dub's background bed. The mark is then placed so that the *mix*
        carries it: the bed is part of the known host instead of noise to the detector, and
        only ``audio`` is changed, most where it dominates the mix."""
        if audio.channels != 1:
            raise InputError("embed a watermark in mono speech segments, before mixing")
        if cover is not None and (cover.channels != 1 or cover.rate != audio.rate
                                  or cover.num_samples != audio.num_samples):
            raise InputError("the watermark's cover must be mono, at the speech's rate and length")
        bits = np.zeros(N_PROJ, np.int64)
        bits[self._sync_idx] = self._sync_bits
        bits[self._data_idx] = code.encode(payload)
        host = resample(audio, RATE).samples.astype(np.float64)  # 16 kHz mono
        if host.size < N_FFT + CHUNK_FRAMES * HOP:
            return audio  # under ~0.15 s: too short to carry anything
        bed = None if cover is None else resample(cover, RATE).samples.astype(np.float64)
        marked = host.copy()
        hi = _BIN_LO + _BAND_BINS * N_BANDS
        for _ in range(self.iterations):
            spec, level, resid = _analyse(marked if bed is None else marked + bed)
            if bed is None:
                share, own = None, spec
            else:
                own = _stft(marked)
                share = _band_power(own) / np.exp(level)  # (frames, bands): the speech's part
            change = self._tile_changes(level, resid, bits, share)  # (frames, bands) log power
            # the speech's power factor that moves the mix's band power by exp(change)
            factor = np.exp(change) if share is None else np.maximum(
                1.0 + np.expm1(change) / np.maximum(share, _MIN_SHARE), _MIN_FACTOR)
            gain = np.zeros(own.shape)  # (frames, bins): amplitude factor minus one
            gain[:, _BIN_LO:hi] = np.repeat(np.sqrt(factor) - 1.0, _BAND_BINS, axis=1)
            marked += _istft(own * gain, marked.size)
        mark = Audio((marked - host).astype(np.float32), RATE)
        mark = resample(mark, audio.rate).samples[: audio.num_samples]  # band-limited < 4 kHz
        # Loud hosts take the full step; where the mark would exceed the SWR floor it is scaled
        # down (each projection then stops short of its lattice point: weaker, never audible).
        power = float(np.sum(audio.samples.astype(np.float64) ** 2))
        excess = float(np.sum(mark.astype(np.float64) ** 2)) * 10 ** (self.min_swr_db / 10)
        if excess > power > 0:
            mark = mark * math.sqrt(power / excess)
        out = audio.samples + mark
        return Audio(np.clip(out, -1.0, 1.0), audio.rate)

    def _tile_changes(self, level: np.ndarray, resid: np.ndarray, bits: np.ndarray,
                      share: np.ndarray | None = None) -> np.ndarray:
        """Per-frame log-power changes that put every projection of every whole chunk on its
        bit's lattice, ``(frames, bands)``. With ``share`` (the marked signal's part of each
        cell's power, when it is mixed over a cover) a projection's move goes mostly to the
        tiles the marked signal dominates: a cell's cost grows as 1 / share^2."""
        weight = _weights(level)
        n_chunks = (resid.shape[0] - TILE_FRAMES + 1) // CHUNK_FRAMES
        change = np.zeros_like(resid)
        feat, w = _tiles(resid), _tiles(weight) / TILE_FRAMES
        ease = None if share is None else (_tiles(np.minimum(share, 1.0)) / TILE_FRAMES) ** 2
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
            # the least-cost tile changes whose weighted sum makes the move
            spread = wt if ease is None else wt * ease[frames, self._band[rows]]
            reach = (wt * spread).sum(axis=1)
            ok = reach > 1e-3 * np.sqrt(norm2 + 1e-12)  # a cover-dominated projection is left
            scale = np.where(ok, move * np.sqrt(norm2 + 1e-12) / np.where(ok, reach, 1.0), 0.0)
            delta = scale[:, None] * spread  # per tile, both frames
            for i in range(TILE_FRAMES):
                np.add.at(change, (frames + i, self._band[rows]), delta / TILE_FRAMES)
        return change

    # ---- detection -------------------------------------------------------------------------
    def detect(self, audio: Audio, expected: Payload | None = None) -> Detection:
        """Search ``audio`` (any rate, any channels) for this key's mark.

        Blind (``expected`` None): the sync projections are tested per 2.8 s window and over the
        whole file at each alignment of the period, and the payload is decoded from every chunk
        at the best alignment. Claimed (``expected`` given, e.g. from the provenance manifest):
        the data projections of ``expected``'s coded bits are known too, and the presence test
        sums them over the whole file; ``found`` then means "carries ``expected``"."""
        mono = resample(audio.mono(), RATE).samples.astype(np.float64)
        signs = np.zeros(N_PROJ)  # +1 / -1 where the bit is known (0 -> +1), 0 where not
        if expected is None:
            signs[self._sync_idx] = 1.0 - 2.0 * self._sync_bits
        else:  # data only: a wrong claim then scores ~0 whatever the sync projections say
            signs[self._data_idx] = 1.0 - 2.0 * code.encode(expected)
        shifts = [k * HOP // self.offsets for k in range(self.offsets)]  # samples
        # The alignments are independent: scanned side by side on the usable cores (numpy
        # releases the GIL), at most _MAX_SCANS at once to bound memory on long files. Only
        # the best alignment's soft bits are kept (154 values per 16 ms of audio each).
        best_soft: list = [-np.inf, None]  # best whole-file z so far, its soft bits
        pool = ThreadPoolExecutor(max_workers=min(default_threads(), _MAX_SCANS))
        try:
            def scan(shifts: list[int]) -> list[tuple]:
                out = []
                for whole, z, phase, soft in pool.map(
                        lambda sh: self._scan(_shifted(mono, sh), signs), shifts):
                    top = float(np.max(whole[np.isfinite(whole)], initial=-np.inf))
                    if best_soft[1] is None or top > best_soft[0]:
                        best_soft[:] = [top, soft]
                    out.append((whole, z, phase))
                return out

            trials = scan(shifts)
            if not any(np.isfinite(t[0]).any() for t in trials):
                return Detection(False, None, 0.0, [], self.key_id)
            # then half and a quarter of a step either side of the best shift: codec delays are
            # arbitrary, and the features lose half the mark 0.5 ms off (thresholds count a
            # grid twice as fine; scores a quarter step apart are nearly the same test)
            grid = HOP // self.offsets
            for fraction in (2, 4):
                best = shifts[int(np.argmax([t[0].max() for t in trials]))]
                more = [sh for sh in (best - grid // fraction, best + grid // fraction)
                        if sh not in shifts]
                shifts += more
                trials += scan(more)
        finally:  # Ctrl-C waits for the scans running, not for every one queued
            pool.shutdown(wait=True, cancel_futures=True)
        zg = np.stack([t[0] for t in trials])  # (shifts, PERIOD_FRAMES) whole-file z
        # Dithers repeat every period, so on a stationary host the repetitions add coherently:
        # measure the spread over all alignments and never trust a z-score narrower than it.
        finite = zg[np.isfinite(zg)]
        zg = zg / max(1.0, 1.4826 * float(np.median(np.abs(finite))))
        k, align = np.unravel_index(np.nanargmax(np.where(np.isfinite(zg), zg, -np.inf)),
                                    zg.shape)
        score = float(zg[k, align])
        soft_all = best_soft[1]
        tests = 2 * self.offsets  # the shifts a grid twice as fine would try
        strong_g = _threshold(tests * PERIOD_FRAMES * 2, self.false_alarm)  # half: whole file
        n_windows = max(t[1].size for t in trials)
        strong_w = _threshold(max(1, n_windows) * PERIOD_CHUNKS * tests * 2, self.false_alarm)
        blind = code.decode(self._payload_soft(soft_all, align))
        if expected is not None:  # a payload read outright overrules the claim
            found = score >= strong_g
            payload = (expected if blind in (None, expected) else blind) if found else None
        else:
            z_best = float(max(t[1].max(initial=-np.inf) for t in trials))
            weak = strong_g - 1.5  # a payload that passes its CRC lowers the bar this much
            found = score >= strong_g or z_best >= strong_w or (
                blind is not None and score >= weak)
            payload = blind if found else None
        ranges: list[tuple[float, float]] = []
        if found:
            for sh, t in zip(shifts, trials):
                shift = sh / RATE
                # a negative shift analyses zeros before the file: ranges start at 0 at least
                ranges += [(max(0.0, a + shift), min(audio.duration, b + shift))
                           for a, b in _ranges(t[1] >= _RANGE_Z)]
            ranges = _merge(ranges) or [(0.0, round(audio.duration, 3))]
        return Detection(bool(found), payload, score, ranges, self.key_id)

    def _scan(self, mono: np.ndarray, signs: np.ndarray):
        """For 16 kHz ``mono`` analysed from its first sample: the whole-file z-score at each
        alignment of the period ``(PERIOD_FRAMES,)`` (-inf under one chunk), the window z-scores
        and their chunk phase ``(windows,)``, and the reliability-weighted cosines
        ``(starts, projections)``; ``signs`` says which bits are known."""
        empty = (np.full(PERIOD_FRAMES, -np.inf), np.zeros(0), np.zeros(0, np.int64),
                 np.zeros((0, N_PROJ)))
        if mono.size < N_FFT + (CHUNK_FRAMES + 1) * HOP:
            return empty
        level = _band_level(mono)
        resid = level - _local_median(level)
        weight = _tiles(_weights(level)) / TILE_FRAMES
        feat = _tiles(resid)
        starts = feat.shape[0] - (CHUNK_COLS - 1) * TILE_FRAMES  # chunk start frames possible
        if starts <= 0:
            return empty
        cos, rho = self._soft(feat, weight, starts)  # (starts, projections) each
        num = _by_chunk(rho * cos * signs, self._chunk)  # (starts, chunk types)
        den = _by_chunk(rho ** 2 / 2.0 * (signs != 0), self._chunk)
        z, phase = _window_scores(num, den)
        return _whole_file_scores(num, den), z, phase, cos * rho

    def _soft(self, feat: np.ndarray, weight: np.ndarray, starts: int):
        """Cosine of every projection's lattice phase and its reliability, for a chunk starting
        at every frame: ``(starts, projections)`` each."""
        # (starts, chunk tiles): the tiles of a chunk starting at each frame, column by column
        weighted = np.concatenate([(weight * feat)[TILE_FRAMES * c:TILE_FRAMES * c + starts]
                                   for c in range(CHUNK_COLS)], axis=1)
        power = np.concatenate([(weight ** 2)[TILE_FRAMES * c:TILE_FRAMES * c + starts]
                                for c in range(CHUNK_COLS)], axis=1)
        norm2 = power @ np.abs(self._matrix)  # (starts, projections)
        x = (weighted @ self._matrix) / np.sqrt(norm2 + 1e-12)
        cos = np.cos(2.0 * np.pi * (x / self.step - self._dither))
        rho = np.clip(norm2 / (2.0 * _MIN_RELIABILITY), 0.0, 1.0)
        return cos, rho

    def _payload_soft(self, soft_all: np.ndarray, align: int) -> np.ndarray:
        """Soft coded bits ``(CODED_BITS,)`` summed over every chunk of the file, taking chunk
        type 0 to start at frames ``align`` modulo the period."""
        starts = np.arange(align % CHUNK_FRAMES, soft_all.shape[0], CHUNK_FRAMES)
        ctype = ((starts - align) // CHUNK_FRAMES) % PERIOD_CHUNKS
        total = np.zeros(N_PROJ)
        for c in range(PERIOD_CHUNKS):
            total += soft_all[starts[ctype == c]].sum(axis=0) * (self._chunk == c)
        return total[self._data_idx]


def _shifted(x: np.ndarray, shift: int) -> np.ndarray:
    """``x`` analysed from sample ``shift`` (negative: that many zeros first)."""
    return x[shift:] if shift >= 0 else np.concatenate([np.zeros(-shift), x])


def _threshold(tests: int, false_alarm: float) -> float:
    """The z-score that fewer than ``false_alarm`` unmarked files exceed in any of ``tests``
    (each z has P(z > t) <= exp(-t^2 / 2))."""
    return math.sqrt(2.0 * math.log(tests / false_alarm))


def _whole_file_scores(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """z-score of every chunk in the file at each alignment ``a`` of the period (chunk type 0
    starts at frames ``a`` mod ``PERIOD_FRAMES``), from per-start sums ``(starts, chunk types)``:
    ``(PERIOD_FRAMES,)``, -inf where no whole chunk fits."""
    out = np.full(PERIOD_FRAMES, -np.inf)
    q = np.arange(PERIOD_CHUNKS)
    for r in range(min(CHUNK_FRAMES, num.shape[0])):
        i = np.arange(r, num.shape[0], CHUNK_FRAMES) // CHUNK_FRAMES  # chunk index of each row
        ctype = (i[:, None] - q[None, :]) % PERIOD_CHUNKS  # (rows, alignments q)
        rows = np.arange(r, num.shape[0], CHUNK_FRAMES)[:, None]
        total_n = num[rows, ctype].sum(axis=0)
        total_d = den[rows, ctype].sum(axis=0)
        out[r + CHUNK_FRAMES * q] = total_n / np.sqrt(total_d + 1e-9)
    return out


def _analyse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """STFT ``(frames, bins)``, band log power ``(frames, bands)`` and its residual after the
    local median ``(frames, bands)``."""
    spec = _stft(x)
    level = np.log(_band_power(spec) + _FLOOR)
    return spec, level, level - _local_median(level)


def _local_median(level: np.ndarray) -> np.ndarray:
    """The median of each cell's 5 frames x 5 bands: the slow envelope the features remove."""
    return ndi.median_filter(level, size=(5, 5), mode="nearest")


def _stft(x: np.ndarray) -> np.ndarray:
    return np.fft.rfft(_frames(x) * _WINDOW, axis=1)


def _frames(x: np.ndarray) -> np.ndarray:
    """``x``'s analysis frames ``(frames, N_FFT)``: a strided view, not a gathered copy (on a
    10 min file the gather cost 10x the FFT)."""
    n = 1 + (x.size - N_FFT) // HOP
    return sliding_window_view(x, N_FFT)[::HOP][:n]


def _band_level(x: np.ndarray, block: int = 4096) -> np.ndarray:
    """Band log power ``(frames, bands)``, as ``_analyse`` gives it, computed ``block`` frames
    at a time: detection never holds a whole film's spectrum."""
    frames = _frames(x)
    power = np.concatenate([_band_power(np.fft.rfft(frames[i:i + block] * _WINDOW, axis=1))
                            for i in range(0, frames.shape[0], block)])
    return np.log(power + _FLOOR)


def _band_power(spec: np.ndarray) -> np.ndarray:
    """Power of each marked band, ``(frames, bands)``."""
    power = np.abs(spec[:, _BIN_LO:_BIN_LO + _BAND_BINS * N_BANDS]) ** 2
    return power.reshape(spec.shape[0], N_BANDS, _BAND_BINS).sum(axis=2)


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
    return values @ (chunk_of[:, None] == np.arange(PERIOD_CHUNKS)[None, :]).astype(float)


def _window_scores(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sync z-score of the 2.8 s window starting at each frame, maximised over which chunk type
    comes first, and that chunk type: ``(windows,)`` each."""
    windows = num.shape[0] - PERIOD_FRAMES + CHUNK_FRAMES
    if windows <= 0:
        return np.zeros(0), np.zeros(0, np.int64)
    z = np.full((PERIOD_CHUNKS, windows), -np.inf)
    num, den = np.ascontiguousarray(num.T), np.ascontiguousarray(den.T)  # (chunk types, starts)
    for first in range(PERIOD_CHUNKS):
        total_n = np.zeros(windows)
        total_d = np.zeros(windows)
        for i in range(PERIOD_CHUNKS):
            rows = slice(i * CHUNK_FRAMES, i * CHUNK_FRAMES + windows)
            ctype = (first + i) % PERIOD_CHUNKS
            total_n += num[ctype, rows]
            total_d += den[ctype, rows]
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
