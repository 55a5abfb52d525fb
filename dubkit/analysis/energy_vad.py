"""Energy voice activity detection against an adaptive noise floor, streamable chunk by chunk.

Each 30 ms frame (10 ms hop) gets its speech-band level in dBFS. The noise floor at a frame is
the lowest level of any 50 ms stretch in the ``floor_window`` seconds before it and the
``lookahead`` seconds after it (minimum statistics): it follows the recording's own noise, so
a clip peaking at -45 dBFS and one peaking at -1 dBFS are judged alike. Speech starts ``on_db``
above the floor and continues while the level stays ``off_db`` above it (hysteresis); an
absolute gate (``gate_dbfs``) keeps dither and near-silence from ever counting as speech.
Digital silence of 0.4 s or more is a floor like any other, so clean speech with silence
between its lines (TTS, a gated studio take) is judged against the gate; shorter stretches (a
codec's fade-in, an edit) are ignored. The price: loud ambience right after a long digital
silence reads as speech until the silence leaves the floor window.

Frames lie on a fixed grid from the start of the stream, and each decision is a function of
the frames up to a fixed index (``lookahead`` ahead; 1.5 s for the first ones, which have no
pause behind them yet), so feeding a signal in chunks of any size gives exactly the regions
that feeding it whole gives. A region comes out once ``min_silence`` has followed it and the
look-ahead has passed its padded end.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from dubkit.analysis.regions import RegionTracker
from dubkit.errors import InputError
from dubkit.types import Audio, Seconds, SpeechRegion

_FRAME = 0.030  # seconds
_HOP = 0.010  # seconds
_BAND = (80.0, 5000.0)  # Hz: where voiced speech carries its energy; drops hum and hiss
_SILENCE_DB = -120.0  # level of a digitally silent frame
_DIP_FRAMES = 5  # the floor follows quiet stretches of at least this many frames (50 ms)
_DIGITAL_SILENCE_DB = -100.0  # below: (near-)digital silence, not a noise floor
_LONG_SILENCE: Seconds = 0.4  # digital silence this long is a pause, not a codec or edit gap
_STARTUP: Seconds = 1.5  # the first decisions wait this long, to find a floor under speech


class EnergyVad:
    """Model-free voice activity detector (``VoiceActivityDetector``) named ``"energy"``."""

    name = "energy"

    def __init__(
        self,
        min_speech: Seconds = 0.25,
        min_silence: Seconds = 0.3,
        padding: Seconds = 0.1,
        on_db: float = 12.0,
        off_db: float = 7.0,
        gate_dbfs: float = -72.0,
        floor_window: Seconds = 3.0,
        lookahead: Seconds = 0.3,
    ) -> None:
        for label, value in (
            ("min_speech", min_speech),
            ("min_silence", min_silence),
            ("padding", padding),
            ("lookahead", lookahead),
        ):
            if value < 0:
                raise InputError(f"EnergyVad {label} must be >= 0 s, got {value}")
        if floor_window <= 0:
            raise InputError(f"EnergyVad floor_window must be > 0 s, got {floor_window}")
        if off_db > on_db:
            raise InputError(f"EnergyVad off_db ({off_db}) must not exceed on_db ({on_db})")
        self.min_speech = min_speech
        self.min_silence = min_silence
        self.padding = padding
        self.on_db = on_db
        self.off_db = off_db
        self.gate_dbfs = gate_dbfs
        self.floor_window = floor_window
        self.lookahead = lookahead

    def stream(self) -> EnergyVadStream:
        """A fresh streaming state."""
        return EnergyVadStream(self)

    def detect(self, audio: Audio) -> list[SpeechRegion]:
        """All speech regions of ``audio`` (any rate; channels are averaged)."""
        s = self.stream()
        return s.feed(audio) + s.flush()


class EnergyVadStream:
    """Per-session state of an ``EnergyVad`` (``VadStream``): feed chunks, then flush."""

    def __init__(self, vad: EnergyVad) -> None:
        self._vad = vad
        self.reset()

    def reset(self) -> None:
        """Forget everything; the next ``feed`` starts at time 0."""
        self._rate: int | None = None
        self._buf = np.zeros(0, dtype=np.float32)  # samples not yet framed
        self._total = 0  # samples fed so far
        self._next_frame = 0  # index of the next frame to measure
        self._next_decision = 0  # index of the next frame to classify
        self._levels: deque[float] = deque()  # dBFS of the frames measured but not yet classified
        self._recent: deque[float] = deque(maxlen=_DIP_FRAMES)  # dBFS of the latest frames
        self._zero_run = 0  # digitally silent frames in a row, up to the latest
        self._minima: deque[tuple[int, float]] = deque()  # (frame, dBFS), rising: sliding minimum
        self._in_speech = False
        self._regions: RegionTracker | None = None  # made once the sample rate is known
        self._flushed = False

    # ---- input --------------------------------------------------------------------------------
    def feed(self, chunk: Audio) -> list[SpeechRegion]:
        """Consume ``chunk``; return the regions that are complete now."""
        if self._flushed:
            raise InputError("VAD stream was flushed; call reset() before feeding it again")
        if self._rate is None:
            self._setup(chunk.rate)
        elif chunk.rate != self._rate:
            raise InputError(
                f"VAD stream runs at {self._rate} Hz but a chunk came at {chunk.rate} Hz"
            )
        samples = chunk.mono().samples  # (samples,)
        self._total += samples.shape[0]
        self._buf = np.concatenate([self._buf, samples])
        self._measure()
        return self._regions.release(self._next_decision * self._hop / self._rate)

    def flush(self) -> list[SpeechRegion]:
        """End of input: measure the tail, close the open region, return what is left."""
        if self._flushed or self._rate is None:
            self._flushed = True
            return []
        while self._levels:  # the last frames, with what look-ahead there is
            self._decide_next()
        self._flushed = True
        return self._regions.finish(self._total / self._rate)

    # ---- stages -------------------------------------------------------------------------------
    def _setup(self, rate: int) -> None:
        if rate <= 0:
            raise InputError(f"sample rate must be positive, got {rate}")
        v = self._vad
        self._rate = rate
        self._win = int(round(_FRAME * rate))
        self._hop = int(round(_HOP * rate))
        self._nfft = 1 << (self._win - 1).bit_length()
        freqs = np.fft.rfftfreq(self._nfft, 1.0 / rate)
        self._band = (freqs >= _BAND[0]) & (freqs <= min(_BAND[1], rate / 2))
        self._window = np.hanning(self._win + 2)[1:-1]  # (win,), no zero end points
        # Parseval: scale band power so a level reads like the frame's RMS in dBFS.
        self._scale = 2.0 / (self._nfft * float(np.sum(self._window**2)))
        hop_s = self._hop / rate
        self._past = int(round(v.floor_window / hop_s))  # frames behind the floor looks
        self._ahead = int(round(v.lookahead / hop_s))  # frames ahead of a decision
        self._startup = int(round(_STARTUP / hop_s))
        self._long_zero = int(round(_LONG_SILENCE / hop_s))
        self._regions = RegionTracker(self._hop, self._win, rate, v.min_speech, v.min_silence,
                                      v.padding)

    def _measure(self) -> None:
        """Level of every frame whose samples have all arrived; decide what that makes ready."""
        win, hop = self._win, self._hop
        avail = self._buf.shape[0]
        n = (avail - win) // hop + 1 if avail >= win else 0
        if n == 0:
            return
        frames = np.lib.stride_tricks.sliding_window_view(self._buf, win)[::hop][:n]
        for level in self._levels_of(frames).tolist():
            self._push(level)
        self._buf = self._buf[n * hop:]

    def _levels_of(self, frames: np.ndarray) -> np.ndarray:
        """Speech-band level of each frame in dBFS, ``(frames,)``."""
        spec = np.fft.rfft(frames.astype(np.float64) * self._window, n=self._nfft, axis=-1)
        power = np.sum(np.abs(spec[:, self._band]) ** 2, axis=-1) * self._scale
        with np.errstate(divide="ignore"):
            return np.maximum(_SILENCE_DB, 10.0 * np.log10(power))

    def _push(self, level: float) -> None:
        """Take the next frame's level; classify the frame ``lookahead`` behind it."""
        j = self._next_frame
        self._next_frame += 1
        self._levels.append(level)
        # Decisions depend on frame indices alone, never on how the frames arrived in chunks.
        # The floor takes the loudest of the last few frames, so a single quiet frame cannot
        # drag it down. Short digital silence (a codec's fade-in, an edit) is no floor either,
        # or the ambience after it would pass as speech; a long one is a real pause in clean
        # speech (TTS, a gated studio take), where the gate alone should judge.
        self._recent.append(level)
        self._zero_run = self._zero_run + 1 if level <= _DIGITAL_SILENCE_DB else 0
        quiet = None
        if self._zero_run >= self._long_zero:
            quiet = level
        elif len(self._recent) == _DIP_FRAMES and min(self._recent) > _DIGITAL_SILENCE_DB:
            quiet = max(self._recent)
        if quiet is not None:
            while self._minima and self._minima[-1][1] >= quiet:
                self._minima.pop()
            self._minima.append((j, quiet))
        # Speech right at the start has no pause behind it to learn the floor from, so the
        # first frames wait for _STARTUP seconds of look-ahead (once, at a fixed frame).
        if j + 1 >= self._startup:
            while self._next_decision <= j - self._ahead:
                self._decide_next()

    def _decide_next(self) -> None:
        v = self._vad
        i = self._next_decision
        while self._minima and self._minima[0][0] < i - self._past:
            self._minima.popleft()
        floor = self._minima[0][1] if self._minima else _SILENCE_DB
        level = self._levels.popleft()
        threshold = floor + (v.off_db if self._in_speech else v.on_db)
        self._in_speech = level > max(threshold, v.gate_dbfs)
        self._regions.step(i, self._in_speech)
        self._next_decision += 1
