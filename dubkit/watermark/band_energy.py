"""A presence mark in what low-bitrate codecs keep: keyed, slow modulation of band energies.

Opus (CELT) and other perceptual codecs code each band's energy explicitly and quantise only the
shape within it, so a mark that lives in the fine structure (``spread_spectrum``) is lost at
24 kbit/s, while a mark in the band energies themselves is carried through. This layer carries
no payload: only "this key's mark is here", which is what survives; the job id travels in the
spread-spectrum layer (``layered`` puts the two together).

Where the mark lives: 16 kHz, the 14 CELT bands between 400 and 6800 Hz, frames of 16 ms. A
keyed sign per frame and band raises or lowers that band's energy by a fraction of a dB, more
where the speech's long-term spectrum is weak (in proportion to the median band's power over
this band's, between a tenth of the base step and six times it): a dB in a loud band costs far
more of the mark's power than in a quiet one, and a mark kept out of the loud low bands scored
higher after every attack tried, noise included. Gains cross-fade over half a frame in time and
100 Hz at band edges, and the whole mark is scaled to ``snr_db`` under the speech. The sign
pattern repeats every 176 frames (2.816 s, the spread-spectrum layer's period), so an excerpt
holds it whatever its start.
Shorter frames give more cells per second: 16 ms frames scored about 1.5x the z of 32 ms ones
and 2x that of 64 ms ones on the same clips (8 ms frames did no better after Opus, whose own
frames are 20 ms).

Detection: band energies per frame (the 8 ms hops of a 32 ms STFT, each given to the frame
whose centre is nearest), in dB, minus the frame's mean over bands (gain, the spectral tilt of
the moment) minus the mean of the two neighbouring frames (the slow envelope); cells are
weighted by how much of their energy is over the band's noise floor, normalised by the band's
spread and clipped at 3 sigma, weighted by the step the embedder gave the band (estimated from
the long-term spectrum heard, the embedder's own rule) over its spread, folded onto the period
and centred per band. Without the step weight every band counted alike, and the loud low
bands, which carry a tenth of the step, diluted the rest (BENCHMARKS.md: 5 s files score about
1.4x higher with it). The score is ``z = sum(s * R) / sqrt(sum(R^2))``
with ``R`` the folded residuals and ``s`` the keyed signs: given the host, a sum of keyed random
signs, so about standard normal on unmarked audio whatever it is. Three searches share the
false-alarm budget: the pattern anchored at the file's start, 48 ms early to 60 ms late (a
whole dub after a codec), anywhere in the period (an excerpt), and anchored at the start with
the time scale searched over +-6 % in the first 30 s (speed changes; run only when the first
two found nothing); each threshold is the normal quantile of its share over its number of
tests (an approximation: the score is a weighted sum of signs, close to normal when no cell
dominates, which the clipping ensures).
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
from scipy.stats import norm

from dubkit.dsp import resample
from dubkit.errors import InputError
from dubkit.types import Audio
from dubkit.watermark.base import DEFAULT_KEY, Detection, key_id, key_seed
from dubkit.watermark.payload import Payload

RATE = 16_000  # Hz: where the mark is computed
BAND_EDGES = (400, 600, 800, 1000, 1200, 1400, 1600, 2000, 2400, 2800, 3200, 4000, 4800, 5600,
              6800)  # Hz: CELT's band edges, so each band's energy is one the codec codes
N_BANDS = len(BAND_EDGES) - 1
FRAME = 256  # samples at 16 kHz: 16 ms
PERIOD_FRAMES = 176  # 2.816 s
EDGE_RAMP = 100.0  # Hz over which neighbouring bands' gains cross-fade
# embedding STFT (fine in time: the gain steps every 16 ms) and detection STFT
EMBED_FFT, EMBED_HOP = 256, 64
DETECT_FFT, DETECT_HOP = 512, 128
_EMBED_WINDOW = np.sqrt(np.hanning(EMBED_FFT + 1)[:-1])  # sqrt-Hann, overlap-adds to 2 at hop/4
_DETECT_WINDOW = np.hanning(DETECT_FFT + 1)[:-1]
_MIN_FACTOR, _MAX_FACTOR = 0.1, 6.0  # per-band step, relative to the base step
_MAX_STEP_DB = 4.0  # no cell is changed by more (about 2 dB at most on speech at 33 dB)
_FLOOR = 1e-12  # power floor
_CLIP = 3.0  # residuals are clipped at this many sigma: a transient never dominates the score
_START_FRAMES = 3  # whole frames searched either side of the file's start (48 ms)
_SUBSHIFT = 64  # samples (4 ms): alignments tried within a frame
_TEMPO_RANGE, _TEMPO_DRIFT = 0.06, 192  # +-6 %; scales so the end drifts <= 12 ms between tries
_TEMPO_SPAN = 30  # seconds from the start searched for a speed change
_SHARES = {"start": 0.5, "anywhere": 0.3, "tempo": 0.2}  # of the false-alarm budget
_SUBSHIFTS = range(0, FRAME, _SUBSHIFT)
# the phases of the anchored searches: the pattern's frame 0 within _START_FRAMES of the start
_NEAR = np.r_[0:_START_FRAMES + 1, PERIOD_FRAMES - _START_FRAMES:PERIOD_FRAMES]


class BandEnergyWatermarker:
    """Presence-only ``Watermarker``: the payload is not carried (``detect`` returns none).

    ``snr_db`` is the mark's level under the speech (lower: more robust, less transparent);
    ``false_alarm`` is the chance per file that unmarked audio is flagged, split over the
    searches' tests with the normal approximation of the score (not a strict bound, as the
    spread-spectrum layer's is; BENCHMARKS.md measures the tail); ``tempo`` turns on the
    time-scale search over the first 30 s (it runs only when the other two found nothing).
    """

    def __init__(self, key: str | None = None, snr_db: float = 32.0,
                 false_alarm: float = 1e-4, tempo: bool = True,
                 name: str = "band-energy") -> None:
        if snr_db <= 0 or not 0 < false_alarm < 1:
            raise InputError("snr_db must be > 0 and false_alarm in (0, 1)")
        key = DEFAULT_KEY if key is None else key
        if not key:
            raise InputError("the watermark key must not be empty; omit it to use the default")
        self.name = name
        self.key_id = key_id(key)
        self.period = PERIOD_FRAMES * FRAME / RATE  # 2.816 s
        self.snr_db = snr_db
        self.false_alarm = false_alarm
        self.tempo = tempo
        rng = np.random.default_rng(key_seed(key, "band-energy-pattern"))
        self._signs = rng.choice([-1.0, 1.0], size=(PERIOD_FRAMES, N_BANDS))
        self._memo: tuple[tuple, Detection] | None = None

    # ---- embedding -------------------------------------------------------------------------
    def embed(self, audio: Audio, payload: Payload | None = None,
              cover: Audio | None = None) -> Audio:
        """``audio`` (mono speech, any rate) with this key's band-energy pattern in it, same
        rate and length; the pattern's frame 0 is the first sample. ``payload`` and ``cover``
        are accepted for the ``Watermarker`` protocol and not used."""
        if audio.channels != 1:
            raise InputError("embed a watermark in mono speech segments, before mixing")
        host = resample(audio, RATE).samples.astype(np.float64)
        power = float(np.sum(host ** 2))
        if host.size < 4 * FRAME or not 0 < power < math.inf:  # silent, or not finite
            return audio
        factor = _band_factor(host)
        if factor is None:
            return audio
        mark = self._mark(host, factor)
        mark_at_rate = resample(Audio(mark.astype(np.float32), RATE),
                                audio.rate).samples[: audio.num_samples]
        if mark_at_rate.size < audio.num_samples:
            mark_at_rate = np.pad(mark_at_rate, (0, audio.num_samples - mark_at_rate.size))
        return Audio(np.clip(audio.samples + mark_at_rate, -1.0, 1.0).astype(np.float32),
                     audio.rate)

    def _mark(self, host: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """The additive mark (16 kHz samples) for per-band steps ``factor``, scaled so that it
        lies ``snr_db`` under ``host``."""
        power = float(np.sum(host ** 2))
        largest = _MAX_STEP_DB / float(factor.max())  # speech with little in the bands
        base, mark = min(0.5, largest), np.zeros_like(host)
        for _ in range(3):  # the mark's power is nearly quadratic in the step: settle the level
            mark = self._mark_at(host, factor, base)
            snr = 10.0 * math.log10(power / max(float(np.sum(mark ** 2)), 1e-30))
            base = min(largest, base * 10.0 ** ((snr - self.snr_db) / 20.0))
        return mark

    def _mark_at(self, host: np.ndarray, factor: np.ndarray, base: float) -> np.ndarray:
        """The mark for a base step of ``base`` dB: the host's STFT times the pattern's gains,
        minus the host, overlap-added block by block (memory stays flat on long dubs)."""
        mark = np.zeros(host.size + EMBED_FFT)
        for first, spec in _stft_blocks(host, EMBED_FFT, EMBED_HOP, _EMBED_WINDOW):
            centres = (first + np.arange(spec.shape[0])) * EMBED_HOP + EMBED_FFT / 2
            shape = (_crossfaded(self._signs, centres) * factor) @ _EMBED_BANDS  # (frames, bins)
            gain = 10.0 ** (base * shape / 20.0) - 1.0
            frames = np.fft.irfft(spec * gain, EMBED_FFT, axis=1) * _EMBED_WINDOW
            for i, frame in enumerate(frames):
                start = (first + i) * EMBED_HOP
                mark[start:start + EMBED_FFT] += frame
        # sqrt-Hann pairs overlap-add to EMBED_FFT / (2 EMBED_HOP)
        return mark[: host.size] * (2.0 * EMBED_HOP / EMBED_FFT)

    # ---- detection -------------------------------------------------------------------------
    def detect(self, audio: Audio, expected: Payload | None = None) -> Detection:
        """Search ``audio`` (any rate, any channels) for this key's pattern. ``expected`` is
        accepted for the protocol: this layer says only whether the key's mark is present."""
        mono = np.ascontiguousarray(resample(audio.mono(), RATE).samples, dtype=np.float64)
        # the layered detector asks twice (blind, then for the manifest's claim): search once
        key = (hashlib.sha1(mono.data).hexdigest(), self.tempo, self.false_alarm)
        memo = self._memo  # one read: another thread may replace it
        if memo is not None and memo[0] == key:
            return memo[1]
        found = self._search(mono, audio.duration)
        self._memo = (key, found)
        return found

    def _search(self, mono: np.ndarray, duration: float) -> Detection:
        if mono.size < DETECT_FFT + 4 * FRAME:
            return Detection(False, None, 0.0, [], self.key_id)
        energy, centres = _detector_energy(mono)
        norms = _norms(energy, centres)
        if norms is None:
            return Detection(False, None, 0.0, [], self.key_id)
        phases = self.phase_grid(energy, centres, norms)
        tests = search_tests(mono.size)
        found = self._decide([("start", phases[:, _NEAR].max(), tests["start"]),
                              ("anywhere", phases[::2].max(), tests["anywhere"])])
        if found is not None or not self.tempo:
            return self._detection(found, duration, phases.max())
        # a speed change: the pattern's start stays at the file's start, its frames stretch.
        # Only the first _TEMPO_SPAN is searched: the scales needed grow with the length
        # searched, so a whole film would cost its length squared.
        span = centres < _TEMPO_SPAN * RATE
        tempo = max(self._phase_scores(energy[span], centres[span] * scale - s, norms)[_NEAR].max()
                    for scale in _tempo_scales(mono.size) for s in _SUBSHIFTS[::2])
        found = self._decide([("tempo", tempo, tests["tempo"])])
        return self._detection(found, duration, max(tempo, phases.max()))

    def phase_grid(self, energy: np.ndarray, centres: np.ndarray, norms: tuple) -> np.ndarray:
        """z-scores at every sub-frame shift and every phase of the period, ``(shifts,
        PERIOD_FRAMES)``; the anchored search reads the phases ``_NEAR``, the anywhere search
        every other shift (half a frame apart is enough)."""
        return np.stack([self._phase_scores(energy, centres - s, norms) for s in _SUBSHIFTS])

    def _decide(self, searches: list[tuple[str, float, int]]) -> float | None:
        """The score of the first search over its threshold (its share of the false-alarm
        budget over its number of tests), or None."""
        for name, score, tests in searches:
            if score >= _threshold(self.false_alarm * _SHARES[name], tests):
                return float(score)
        return None

    def _detection(self, found: float | None, duration: float, best: float) -> Detection:
        if found is None:
            return Detection(False, None, float(best), [], self.key_id)
        return Detection(True, None, found, [(0.0, round(duration, 3))], self.key_id)

    def _phase_scores(self, energy: np.ndarray, positions: np.ndarray,
                      norms: tuple) -> np.ndarray:
        """z-score at every phase of the period ``(PERIOD_FRAMES,)``: frame ``p`` of the
        timeline ``positions`` puts the hops on taken as pattern frame ``p + phase``."""
        folded = _folded_residuals(energy, positions, norms)
        norm2 = float(np.sum(folded ** 2))
        if norm2 <= 0:
            return np.zeros(PERIOD_FRAMES)
        # circular cross-correlation over frames, summed over bands
        corr = np.fft.irfft(np.conj(np.fft.rfft(folded, axis=0))
                            * np.fft.rfft(self._signs, axis=0), PERIOD_FRAMES, axis=0)
        return corr.sum(axis=1) / math.sqrt(norm2)


def search_tests(samples: int) -> dict[str, int]:
    """How many scores each search of a file of ``samples`` (16 kHz) tries: what its threshold
    is set for."""
    return {"start": len(_SUBSHIFTS) * _NEAR.size,
            "anywhere": len(_SUBSHIFTS[::2]) * PERIOD_FRAMES,
            "tempo": len(_tempo_scales(samples)) * len(_SUBSHIFTS[::2]) * _NEAR.size}


def _tempo_scales(samples: int) -> np.ndarray:
    """Time scales tried for a speed change: +-_TEMPO_RANGE, spaced so that the end of the
    searched span (at most _TEMPO_SPAN) drifts by _TEMPO_DRIFT samples between tries; the
    coarse shifts (8 ms apart) are enough once the scale is searched too."""
    step = _TEMPO_DRIFT / min(samples, _TEMPO_SPAN * RATE)
    return np.arange(1.0 - _TEMPO_RANGE, 1.0 + _TEMPO_RANGE + step / 2, step)


def _band_factor(host: np.ndarray) -> np.ndarray | None:
    """Each band's step relative to the base step ``(bands,)``: larger where the speech's
    long-term band power is weak (between a tenth and six times), None for silence."""
    band_power = np.concatenate([(np.abs(spec) ** 2) @ _EMBED_BANDS.T for _, spec in
                                 _stft_blocks(host, EMBED_FFT, EMBED_HOP, _EMBED_WINDOW)])
    loud = band_power.sum(axis=1)
    active = loud > 1e-4 * max(float(np.percentile(loud, 95)), _FLOOR)
    if not active.any() or loud.max() <= _FLOOR:
        return None
    return _step_shape(band_power[active].mean(axis=0))


def _step_shape(long_term: np.ndarray) -> np.ndarray:
    """Each band's step relative to the base step ``(bands,)`` for long-term band powers
    ``(bands,)``: the median band's power over this band's, between a tenth and six times."""
    long_term = long_term + _FLOOR
    return np.clip(np.median(long_term) / long_term, _MIN_FACTOR, _MAX_FACTOR)


def _detector_energy(mono: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Band energies of 16 kHz ``mono`` per detection hop ``(hops, bands)``, and the hops'
    centres (samples)."""
    energy = np.concatenate([(np.abs(spec) ** 2) @ _DETECT_BANDS.T for _, spec in
                             _stft_blocks(mono, DETECT_FFT, DETECT_HOP, _DETECT_WINDOW)])
    return energy, np.arange(energy.shape[0]) * DETECT_HOP + DETECT_FFT / 2.0


def _threshold(false_alarm: float, tests: int) -> float:
    """The z-score that a standard normal score exceeds in any of ``tests`` with probability
    ``false_alarm`` at most (Bonferroni)."""
    return float(norm.isf(false_alarm / max(1, tests)))


def _folded_residuals(energy: np.ndarray, positions: np.ndarray, norms: tuple) -> np.ndarray:
    """The detector's residuals summed over the file's repetitions of the period,
    ``(PERIOD_FRAMES, bands)``, each band's mean over the period removed; see
    ``_frame_residuals``. A band's mean residual is the host's, not the mark's (steady noise
    leaves one, through the floor weighting), and it would add to the score in proportion to
    the key's sign sum in that band: on 8 min of white, pink or blue noise the scores sat at
    -0.6, +1.0 or -1.7 with a spread of 0.2 instead of 0 and 1."""
    resid = _frame_residuals(energy, positions, norms)
    frame_of = np.arange(resid.shape[0]) % PERIOD_FRAMES
    index = (frame_of[:, None] * N_BANDS + np.arange(N_BANDS)).ravel()
    folded = np.bincount(index, resid.ravel(), PERIOD_FRAMES * N_BANDS).reshape(
        PERIOD_FRAMES, N_BANDS)
    return folded - folded.mean(axis=0)


def _norms(energy: np.ndarray, positions: np.ndarray) -> tuple | None:
    """What the residuals are measured against, taken once per file on one alignment: each
    band's noise floor (its quietest tenth of frames), the level under which a frame is not
    heard (35 dB under the loud ones), each band's residual spread, and the step the embedder
    gave each band, estimated from the long-term spectrum heard (``_step_shape``). None for
    silence."""
    cells, seen = _cells(energy, positions)
    if not seen.any():
        return None
    floor = np.percentile(cells[seen], 10, axis=0)
    loud = cells.sum(axis=1)
    audible = 10 ** -3.5 * max(float(np.percentile(loud[seen], 95)), _FLOOR)
    resid, valid = _raw_residuals(cells, seen, floor, audible)
    if not valid.any():
        return None
    sigma = 1.4826 * np.median(np.abs(resid[valid]), axis=0) + 1e-9  # per band
    step = _step_shape(cells[seen & (loud > audible)].mean(axis=0))
    return floor, audible, sigma, step


def _frame_residuals(energy: np.ndarray, positions: np.ndarray, norms: tuple) -> np.ndarray:
    """The detector's weighted residual of every frame and band, ``(frames, bands)``, frame 0
    starting at sample 0 of ``positions``' timeline (zeros where nothing was heard): normalised
    by the band's spread, clipped, and weighted by the band's step over its spread (a matched
    filter: the mark is strongest in the bands the speech leaves quiet)."""
    floor, audible, sigma, step = norms
    cells, seen = _cells(energy, positions)
    resid, _ = _raw_residuals(cells, seen, floor, audible)
    return np.clip(resid / sigma, -_CLIP, _CLIP) * (step / sigma)


def _cells(energy: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Band energy per frame ``(frames, bands)``, each hop given to the frame whose centre is
    nearest (weighted down as it nears the frame's edge), and which frames got any."""
    pos = positions / FRAME - 0.5  # frame k's centre at k
    nearest = np.rint(pos).astype(np.int64)
    weight = np.clip(1.0 - 2.0 * np.abs(pos - nearest), 0.0, 1.0)
    keep = (nearest >= 0) & (weight > 0)
    if not keep.any():
        return np.zeros((1, N_BANDS)), np.zeros(1, bool)
    nearest, weight = nearest[keep], weight[keep]
    frames = int(nearest.max()) + 1
    index = (nearest[:, None] * N_BANDS + np.arange(N_BANDS)).ravel()
    cells = np.bincount(index, (energy[keep] * weight[:, None]).ravel(), frames * N_BANDS)
    seen = np.bincount(nearest, weight, frames) > 0
    return cells.reshape(frames, N_BANDS), seen


def _raw_residuals(cells: np.ndarray, seen: np.ndarray, floor: np.ndarray,
                   audible: float) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's level (dB) minus its frame's mean over bands minus the mean of its two
    neighbouring frames, weighted by the share of the cell over the band's noise floor, and
    the frames where that is defined (heard, with heard neighbours)."""
    level = 10.0 * np.log10(cells + _FLOOR)
    share = np.clip(1.0 - floor / (cells + _FLOOR), 0.0, 1.0)
    heard = seen & (cells.sum(axis=1) > audible)
    resid = level - level.mean(axis=1, keepdims=True)
    valid = heard.copy()
    valid[1:-1] &= heard[:-2] & heard[2:]
    valid[[0, -1]] = False
    resid[1:-1] -= 0.5 * (resid[:-2] + resid[2:])
    return np.where(valid[:, None], resid * share, 0.0), valid


def _crossfaded(signs: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The periodic sign pattern ``(PERIOD_FRAMES, bands)`` at sample positions ``centres``,
    changing through raised-cosine cross-fades half a frame wide at frame boundaries."""
    boundary = np.rint(centres / FRAME)  # nearest frame boundary
    offset = centres - boundary * FRAME  # samples from it, [-FRAME/2, FRAME/2)
    right = signs[boundary.astype(np.int64) % PERIOD_FRAMES]
    left = signs[(boundary.astype(np.int64) - 1) % PERIOD_FRAMES]
    mix = np.clip(0.5 + 0.5 * np.sin(np.pi * np.clip(offset / (FRAME / 2), -0.5, 0.5)), 0, 1)
    return left + mix[:, None] * (right - left)


def _band_membership(freqs: np.ndarray, ramp: float = EDGE_RAMP) -> np.ndarray:
    """How much of each bin belongs to each band, ``(bands, bins)``; neighbouring bands share
    a bin within ``ramp / 2`` of their edge (weights sum to 1 inside the marked range)."""
    lo = np.asarray(BAND_EDGES[:-1], float)[:, None]
    hi = np.asarray(BAND_EDGES[1:], float)[:, None]
    if ramp <= 0:
        return ((freqs >= lo) & (freqs < hi)).astype(float)
    rise = np.clip((freqs - (lo - ramp / 2)) / ramp, 0.0, 1.0)
    fall = np.clip(((hi + ramp / 2) - freqs) / ramp, 0.0, 1.0)
    return rise * fall


def _stft_blocks(x: np.ndarray, n_fft: int, hop: int, window: np.ndarray,
                 block: int = 4096):
    """The STFT of ``x`` (zero-padded to one frame at least) ``block`` frames at a time:
    ``(index of the block's first frame, (frames, bins))`` pairs."""
    padded = np.pad(x, (0, max(0, n_fft - x.size)))
    total = 1 + (padded.size - n_fft) // hop
    for first in range(0, total, block):
        count = min(block, total - first)
        idx = np.arange(n_fft)[None, :] + hop * (first + np.arange(count))[:, None]
        yield first, np.fft.rfft(padded[idx] * window, axis=1)


# which STFT bins make each band, (bands, bins): soft edges where the gains are applied, hard
# ones where energies are measured
_EMBED_BANDS = _band_membership(np.fft.rfftfreq(EMBED_FFT, 1.0 / RATE))
_DETECT_BANDS = _band_membership(np.fft.rfftfreq(DETECT_FFT, 1.0 / RATE), ramp=0.0)
