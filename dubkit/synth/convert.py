"""Voice conversion of synthesized speech toward the source speaker, with prosody transfer.

``WorldVoiceConverter`` works in WORLD's vocoder domain (pyworld: DIO + StoneMask F0,
CheapTrick envelope, D4C aperiodicity), keeping the aperiodicity as it is:

1. pauses: each interior pause of the source line is matched to the dub's nearest gap (by
   relative position) and the gap is lengthened to the pause's length; the matched pauses, with
   the ends of speech, anchor a piecewise-linear time map from dub frames to source frames;
2. F0: the dub's log F0 is mapped onto the speaker's log-F0 mean and spread; its slow part is
   then replaced by the source line's smoothed contour, read through the time map, so a rising
   question stays rising and emphasis stays where it was, while the dub keeps its own
   syllable-level detail (which fits its words). Unvoiced frames stay unvoiced (no buzz);
3. envelope: a frequency warp (vocal-tract length) found by matching the dub's long-term
   envelope to the profile's, then long-term equalisation to the profile (bounded);
4. frame matching (``frame_match`` > 0): each voiced frame's envelope shape (its dB less their
   mean: level is left to step 5) is moved that share of the way toward the mean shape of its
   ``neighbours`` nearest voiced frames of the speaker's own speech (``SpeakerProfile.speech``),
   the move bounded by ``max_eq_db`` and smoothed over ``MATCH_SMOOTH`` frames, so the dub takes
   on the speaker's spectral detail frame by frame, which the long-term equalisation alone
   cannot give;
5. energy: the dub's slow energy envelope is nudged toward the source's (bounded);
6. output at the input's rate, loudness-normalised to the source line (BS.1770 through
   pyloudnorm, see ``prosody.loudness``), peaks kept under ``PEAK``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.ndimage import uniform_filter1d

from dubkit.analysis.pitch import F0_CEIL, F0_FLOOR, _pyworld
from dubkit.analysis.prosody import QUIET_DB, SegmentProsody, energy_envelope, loudness
from dubkit.analysis.speaker_profile import (
    ENVELOPE_GRID,
    SpeakerProfile,
    analyse,
    envelope_on_grid,
)
from dubkit.errors import InputError
from dubkit.synth.reference_cache import ReferenceCache
from dubkit.types import Audio, Seconds

FRAME_PERIOD = 5.0  # ms
PEAK = 0.95  # output peaks are kept below this (about -0.45 dBFS)
SHAPE_SMOOTH: Seconds = 0.25  # Hann window splitting an F0 contour into slow shape and detail
_WARPS = np.round(np.arange(0.82, 1.2201, 0.01), 2)  # candidate frequency-warp factors
_FIT_BAND = (ENVELOPE_GRID >= 200) & (ENVELOPE_GRID <= 5000)  # where formants decide the warp
MATCH_REFERENCE: Seconds = 120.0  # of the speaker's speech frames are matched against, at most
_BANK_FRAMES = 6000  # speaker frames kept for matching (evenly thinned): bounds time and memory
_BANK_SPEAKERS = 64  # speakers' frame banks kept in memory (3 MB each at most)
_MATCH_ROWS = 512  # dub frames compared at once
MATCH_SMOOTH = 5  # frames (25 ms) a frame-matching move is averaged over: no frame-rate jitter


class VoiceConverter(Protocol):
    name: str

    def convert(self, speech: Audio, target: SpeakerProfile,
                prosody: SegmentProsody | None = None) -> Audio:
        """``speech`` (one synthesized line) in ``target``'s voice; with the source line's
        ``prosody`` its intonation, energy and pauses too. Mono at ``speech``'s rate."""


class WorldVoiceConverter:
    """A ``VoiceConverter`` over WORLD analysis and synthesis; needs no model.

    ``prosody_weight`` (0..1) is how much of the slow F0 shape comes from the source line;
    ``energy_weight`` likewise for the energy envelope; ``warp`` turns the formant warp on;
    ``equalize`` (0..1) scales the long-term equalisation, bounded by ``max_eq_db``;
    ``max_pause`` caps a transferred pause (s); ``frame_match`` (0..1) is the share of the way
    each voiced frame's envelope moves toward its ``neighbours`` nearest frames of the speaker
    (0: off; on, the profile must carry the speaker's ``speech``).
    """

    name = "world"
    max_reference = MATCH_REFERENCE  # the speaker's speech a job hands over, when it is needed

    def __init__(self, model_path: str | Path | None = None, prosody_weight: float = 0.8,
                 energy_weight: float = 0.5, warp: bool = True, equalize: float = 1.0,
                 max_eq_db: float = 12.0, transfer_pauses: bool = True,
                 max_pause: Seconds = 1.0, frame_match: float = 0.0,
                 neighbours: int = 8) -> None:
        for label, v in (("prosody_weight", prosody_weight), ("energy_weight", energy_weight),
                         ("equalize", equalize), ("frame_match", frame_match)):
            if not 0.0 <= v <= 1.0:
                raise InputError(f"{label} must be in 0..1, not {v}")
        if max_eq_db < 0 or max_pause < 0 or neighbours < 1:
            raise InputError("max_eq_db and max_pause must be >= 0, neighbours >= 1")
        self.prosody_weight, self.energy_weight = prosody_weight, energy_weight
        self.warp, self.equalize, self.max_eq_db = warp, equalize, max_eq_db
        self.transfer_pauses, self.max_pause = transfer_pauses, max_pause
        self.frame_match, self.neighbours = frame_match, int(neighbours)
        self.last_warp = 1.0  # the frequency warp the last conversion used (for reports)
        self._banks: ReferenceCache[np.ndarray] = ReferenceCache(_BANK_SPEAKERS)

    @property
    def needs_speaker_speech(self) -> bool:
        """Whether ``convert`` reads the profile's ``speech`` (frame matching does)."""
        return self.frame_match > 0

    def convert(self, speech: Audio, target: SpeakerProfile,
                prosody: SegmentProsody | None = None) -> Audio:
        """See ``VoiceConverter.convert``."""
        pw, rate = _pyworld(), speech.rate
        x = np.ascontiguousarray(speech.mono().samples, np.float64)
        if x.shape[0] < rate * 0.05 or not np.any(x):
            return Audio(np.zeros_like(x, np.float32), rate)
        f0, t = pw.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD)
        f0 = pw.stonemask(x, f0, t, rate)
        sp = pw.cheaptrick(x, f0, t, rate)  # (frames, bins) power envelope
        ap = pw.d4c(x, f0, t, rate)  # (frames, bins) aperiodicity, kept
        energy = _frames(energy_envelope(x, rate, FRAME_PERIOD / 1000), f0.shape[0])
        f0 = clean_f0(np.where(energy > QUIET_DB, f0, 0.0))
        src_time = None  # (frames,) source-line seconds each dub frame stands for
        if prosody is not None and prosody.f0.shape[0] > 1:
            if self.transfer_pauses:
                f0, sp, ap, energy = self._pauses(f0, sp, ap, energy, prosody)
            src_time = time_map(energy, prosody)
        hop = FRAME_PERIOD / 1000
        new_f0 = map_f0(f0, target, prosody, src_time, self.prosody_weight, hop)
        sp = self._envelope(sp, f0 > 0, target, rate)
        if self.frame_match > 0:
            sp = self._match_frames(sp, f0 > 0, target, rate)
        if src_time is not None and self.energy_weight > 0:
            src_energy = np.interp(src_time, prosody.times, prosody.energy)
            gain_db = _energy_gain(energy, src_energy, hop) * self.energy_weight
            sp = sp * 10 ** (gain_db[:, None] / 10)
        y = pw.synthesize(new_f0, np.ascontiguousarray(sp), np.ascontiguousarray(ap), rate,
                          FRAME_PERIOD)
        goal = prosody.loudness if prosody is not None else loudness(speech)
        return Audio(match_level(y, rate, goal), rate)

    def _envelope(self, sp: np.ndarray, voiced: np.ndarray, target: SpeakerProfile,
                  rate: int) -> np.ndarray:
        """``sp`` warped in frequency and equalised toward ``target``'s long-term envelope."""
        if not voiced.any():
            return sp
        mean_env = envelope_on_grid(sp[voiced], rate).mean(axis=0)  # (64,) dB
        alpha = best_warp(mean_env, target.envelope) if self.warp else 1.0
        self.last_warp = alpha
        freqs = np.linspace(0, rate / 2, sp.shape[1])
        if alpha != 1.0:  # a formant at f moves to alpha * f
            idx = np.interp(freqs / alpha, freqs, np.arange(sp.shape[1]))
            lo = np.floor(idx).astype(int)
            hi, w = np.minimum(lo + 1, sp.shape[1] - 1), idx - lo
            log_sp = np.log(np.maximum(sp, 1e-16))
            sp = np.exp(log_sp[:, lo] * (1 - w) + log_sp[:, hi] * w)
            mean_env = envelope_on_grid(sp[voiced], rate).mean(axis=0)
        if self.equalize > 0:
            diff = np.convolve(target.envelope - mean_env, np.ones(5) / 5, mode="same")
            diff[:2], diff[-2:] = diff[2], diff[-3]  # the edges of the moving average
            diff = np.clip(self.equalize * (diff - diff[_FIT_BAND].mean()),
                           -self.max_eq_db, self.max_eq_db)
            eq_db = np.interp(freqs, ENVELOPE_GRID, diff)  # flat beyond the grid's ends
            sp = sp * 10 ** (eq_db[None, :] / 10)
        return sp

    def _match_frames(self, sp: np.ndarray, voiced: np.ndarray, target: SpeakerProfile,
                      rate: int) -> np.ndarray:
        """Each voiced frame of ``sp`` moved ``frame_match`` of the way (in dB, on the envelope
        grid) toward the mean shape of its ``neighbours`` nearest voiced frames of the speaker,
        compared and moved by shape alone (each frame's mean dB removed)."""
        if target.speech is None:
            raise InputError(f"frame matching needs speaker {target.speaker or '?'}'s own "
                             "speech (SpeakerProfile.speech)")
        bank = self._bank(target.speech)
        if not voiced.any() or bank.shape[0] == 0:
            return sp
        env = envelope_on_grid(sp[voiced], rate).astype(np.float64)  # (voiced, 64) dB
        shape = env - env.mean(axis=1, keepdims=True)
        k = min(self.neighbours, bank.shape[0])
        squared = (bank**2).sum(axis=1)
        goal = np.empty_like(shape)
        for a in range(0, shape.shape[0], _MATCH_ROWS):
            rows = shape[a:a + _MATCH_ROWS]
            dist = squared[None, :] - 2 * rows @ bank.T  # + |row|^2, the same for every column
            nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
            goal[a:a + _MATCH_ROWS] = bank[nearest].mean(axis=1)
        move = np.clip(self.frame_match * (goal - shape), -self.max_eq_db, self.max_eq_db)
        move = uniform_filter1d(move, MATCH_SMOOTH, axis=0, mode="nearest")  # edges held
        freqs = np.linspace(0, rate / 2, sp.shape[1])
        gain_db = np.stack([np.interp(freqs, ENVELOPE_GRID, row) for row in move])
        out = sp.copy()
        out[voiced] = sp[voiced] * 10 ** (gain_db / 10)
        return out

    def _bank(self, speech: Audio) -> np.ndarray:
        """The shapes of the speaker's voiced frames' envelopes (dB less each frame's mean),
        ``(frames, 64)``, analysed once."""
        def analysed(x: np.ndarray) -> np.ndarray:
            f0, env = analyse(x, speech.rate)
            env = env[f0 > 0].astype(np.float64)
            keep = np.linspace(0, env.shape[0] - 1, min(env.shape[0], _BANK_FRAMES))
            env = env[keep.astype(int)]
            return env - env.mean(axis=1, keepdims=True)

        return self._banks.get(speech.mono().samples[: int(MATCH_REFERENCE * speech.rate)],
                               analysed)

    def _pauses(self, f0, sp, ap, energy, prosody: SegmentProsody):
        """The dub's gaps matched to the source's pauses lengthened to them (up to
        ``max_pause``); returns the four frame arrays with silent frames inserted."""
        hop = FRAME_PERIOD / 1000
        gaps = _gaps(energy)
        span = _span(energy)
        src_span = _span(prosody.energy, prosody.hop)
        if not gaps or span is None or src_span is None:
            return f0, sp, ap, energy
        inserts: dict[int, int] = {}  # frame index -> frames to insert there
        free = list(gaps)
        for p in prosody.pauses:
            rel = ((p.start + p.end) / 2 - src_span[0]) / max(1e-3, src_span[1] - src_span[0])
            pos = [((a + b) / 2 * hop - span[0]) / max(1e-3, span[1] - span[0]) for a, b in free]
            if not free:
                break
            k = int(np.argmin([abs(r - rel) for r in pos]))
            if abs(pos[k] - rel) > 0.15:
                continue
            a, b = free.pop(k)
            extra = int(round(min(p.duration, self.max_pause) / hop)) - (b - a)
            if extra > 0:
                inserts[(a + b) // 2] = extra
        if not inserts:
            return f0, sp, ap, energy
        at = np.repeat(np.array(sorted(inserts)), [inserts[i] for i in sorted(inserts)])
        quiet = energy.min()
        return (np.insert(f0, at, 0.0), np.insert(sp, at, sp[at], axis=0),
                np.insert(ap, at, ap[at], axis=0), np.insert(energy, at, quiet))


def clean_f0(f0: np.ndarray, min_run: int = 6) -> np.ndarray:
    """``f0`` without voiced islands shorter than ``min_run`` frames (tracker slips that buzz)
    and with single-frame octave jumps removed by a 3-frame median inside voiced runs."""
    out = f0.copy()
    edges = np.diff(np.concatenate([[0], (f0 > 0).astype(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if b - a < min_run:
            out[a:b] = 0.0
        elif b - a >= 3:
            seg = out[a:b]
            med = np.median(np.stack([np.r_[seg[0], seg[:-1]], seg, np.r_[seg[1:], seg[-1]]]), 0)
            out[a:b] = med
    return out


def map_f0(f0: np.ndarray, target: SpeakerProfile, prosody: SegmentProsody | None,
           src_time: np.ndarray | None, prosody_weight: float, hop: Seconds) -> np.ndarray:
    """The dub's F0 ``(frames,)`` Hz moved to ``target``'s log-F0 statistics, its slow shape
    blended with the source line's (``prosody`` read at ``src_time``); 0 stays unvoiced."""
    voiced = f0 > 0
    if voiced.sum() < 5:
        return np.zeros_like(f0)
    lf = np.log(f0[voiced])
    lo, hi = np.percentile(lf, [5, 95])
    core = lf[(lf >= lo) & (lf <= hi)]
    mu, sd = float(core.mean()), float(max(core.std(), 0.02))
    ratio = float(np.clip(target.log_f0_std / sd, 0.5, 2.0))
    mapped = _fill(np.where(voiced, target.log_f0_mean + (np.log(np.maximum(f0, 1)) - mu)
                            * ratio, 0.0), voiced)  # (frames,) continuous log Hz
    slow = _smooth(mapped, SHAPE_SMOOTH / hop)
    shape = slow
    if prosody is not None and src_time is not None and prosody_weight > 0:
        src_voiced = prosody.f0 > 0
        if src_voiced.sum() >= 5:
            src = _fill(np.log(np.maximum(prosody.f0, 1)), src_voiced)  # (src frames,)
            src = _smooth(src, SHAPE_SMOOTH / prosody.hop)
            shape = prosody_weight * np.interp(src_time, prosody.times, src) \
                + (1 - prosody_weight) * slow
    out = np.exp(mapped - slow + shape)
    return np.where(voiced, np.clip(out, F0_FLOOR, F0_CEIL), 0.0)


def time_map(energy: np.ndarray, prosody: SegmentProsody,
             hop: Seconds = FRAME_PERIOD / 1000) -> np.ndarray:
    """Source-line seconds for each dub frame ``(frames,)``: speech start to speech start,
    end to end, and the dub's long gaps to the source's pauses, linear in between."""
    span, src_span = _span(energy, hop), _span(prosody.energy, prosody.hop)
    t = np.arange(energy.shape[0]) * hop
    if span is None or src_span is None:
        return t * (prosody.duration / max(hop, t[-1] if t.shape[0] else hop))
    anchors = [(span[0], src_span[0])]
    gaps = [(a * hop, b * hop) for a, b in _gaps(energy, min_frames=int(0.12 / hop))]
    for p in prosody.pauses:  # in order; a pause finds the next unused gap nearby
        rel = (p.start - src_span[0]) / max(1e-3, src_span[1] - src_span[0])
        for a, b in gaps:
            if a > anchors[-1][0] and abs((a - span[0]) / max(1e-3, span[1] - span[0]) - rel) \
                    < 0.15 and p.start > anchors[-1][1]:
                anchors += [(a, p.start), (b, p.end)]
                break
    anchors.append((span[1], src_span[1]))
    at, src = np.array(anchors).T
    return np.interp(t, at, src)


def best_warp(env: np.ndarray, target: np.ndarray) -> float:
    """The factor ``alpha`` (0.82..1.22) for which ``env`` read at ``f / alpha`` best matches
    ``target`` in shape over 200-5000 Hz (both dB on ``ENVELOPE_GRID``), tilt removed."""
    x = np.arange(_FIT_BAND.sum())
    best, best_err = 1.0, np.inf
    for alpha in _WARPS:
        warped = np.interp(ENVELOPE_GRID / alpha, ENVELOPE_GRID, env)
        diff = (target - warped)[_FIT_BAND]
        resid = diff - np.polyval(np.polyfit(x, diff, 1), x)
        err = float(np.mean(resid ** 2)) + 2.0 * float(np.log(alpha)) ** 2  # mild pull to 1
        if err < best_err:
            best, best_err = float(alpha), err
    return best


def _energy_gain(energy: np.ndarray, src_energy: np.ndarray, hop: Seconds) -> np.ndarray:
    """dB per dub frame moving its slow energy envelope toward the source's, within +-6 dB."""
    speech = energy > QUIET_DB
    if speech.sum() < 5:
        return np.zeros_like(energy)
    e_t = _smooth(energy, 0.1 / hop)
    e_s = _smooth(np.maximum(src_energy, QUIET_DB), 0.1 / hop)
    gain = (e_s - e_s[speech].mean()) - (e_t - e_t[speech].mean())
    return np.clip(_smooth(np.where(speech, gain, 0.0), 0.05 / hop), -6.0, 6.0)


def match_level(y: np.ndarray, rate: int, lufs: float) -> np.ndarray:
    """``y`` at ``lufs`` integrated loudness, scaled down further if a peak passes ``PEAK``."""
    y = np.nan_to_num(y)
    now = loudness(Audio(y, rate))
    if now > -70.0 and lufs > -70.0:
        y = y * 10 ** ((lufs - now) / 20)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > PEAK:
        y = y * (PEAK / peak)
    return y.astype(np.float32)


def _fill(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``values`` with the frames not ``known`` linearly interpolated (held at the ends)."""
    idx = np.flatnonzero(known)
    return np.interp(np.arange(values.shape[0]), idx, values[idx])


def _smooth(x: np.ndarray, width: float) -> np.ndarray:
    """``x`` smoothed by a Hann window ``width`` frames wide (edges padded by reflection)."""
    n = int(width) | 1
    if n < 3 or x.shape[0] < 2:
        return x.astype(np.float64)
    w = np.hanning(n + 2)[1:-1]
    pad = min(n // 2, x.shape[0] - 1)
    xp = np.pad(x.astype(np.float64), pad, mode="reflect")
    return np.convolve(xp, w / w.sum(), mode="same")[pad:pad + x.shape[0]]


def _frames(values: np.ndarray, n: int) -> np.ndarray:
    return values[np.minimum(np.arange(n), values.shape[0] - 1)]


def _span(energy: np.ndarray, hop: Seconds = FRAME_PERIOD / 1000) -> tuple[float, float] | None:
    loud = np.flatnonzero(energy > QUIET_DB)
    return (loud[0] * hop, (loud[-1] + 1) * hop) if loud.shape[0] >= 2 else None


def _gaps(energy: np.ndarray, min_frames: int = 6) -> list[tuple[int, int]]:
    """Interior quiet runs of at least ``min_frames`` frames, as ``(start, end)`` indices."""
    loud = np.flatnonzero(energy > QUIET_DB)
    if loud.shape[0] < 2:
        return []
    quiet = energy[loud[0]:loud[-1] + 1] <= QUIET_DB
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    return [(loud[0] + a, loud[0] + b) for a, b in
            zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)) if b - a >= min_frames]
