"""Where live audio comes from and goes to: a recording played at real-time pace or a
microphone; a time-aligned recording of what would be played, a loudspeaker, live captions.

Devices go through sounddevice (PortAudio), imported only when a device is used, so the
interpreter runs on machines without audio hardware or PortAudio.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from dubkit import dsp, media
from dubkit.errors import InputError, MediaError
from dubkit.jobs.atomic import atomic_path
from dubkit.types import ANALYSIS_RATE, Audio, Seconds

CHUNK: Seconds = 0.1  # what a microphone delivers at a time


def sounddevice() -> Any:
    """The sounddevice module, or one clear error saying what is missing."""
    try:
        import sounddevice as sd
    except ImportError:
        raise InputError("audio devices need sounddevice: pip install 'dubkit[live]'") from None
    except OSError:  # the module loads PortAudio when imported
        raise InputError("audio devices need the PortAudio library "
                         "(Debian/Ubuntu: apt-get install libportaudio2)") from None
    return sd


def list_devices() -> list[dict[str, Any]]:
    """Each audio device: index, name, input and output channels, default rate."""
    sd = sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise InputError(f"cannot list audio devices: {exc}") from None
    return [{"index": i, "name": d["name"], "inputs": d["max_input_channels"],
             "outputs": d["max_output_channels"], "rate": d["default_samplerate"]}
            for i, d in enumerate(devices)]


# -- sources ------------------------------------------------------------------------------------


class FileSource:
    """A recording fed as if it were a microphone: 16 kHz mono chunks at real-time pace
    (``realtime`` False: as fast as they are taken), ``loops`` times over."""

    def __init__(self, path: str | os.PathLike[str], realtime: bool = True,
                 loops: int = 1, chunk: Seconds = CHUNK) -> None:
        self.audio = media.decode_audio(path, rate=ANALYSIS_RATE, mono=True)
        if self.audio.num_samples == 0:
            raise MediaError(f"{Path(path).name} holds no audio")
        self.realtime, self.loops = realtime, max(1, loops)
        self.step = max(1, int(chunk * ANALYSIS_RATE))
        self.duration = self.audio.duration * self.loops

    def chunks(self) -> Iterator[np.ndarray]:
        x = self.audio.samples
        started, fed = time.perf_counter(), 0
        for _ in range(self.loops):
            for i in range(0, x.size, self.step):
                piece = x[i:i + self.step]
                if self.realtime:
                    wait = (fed + piece.size) / ANALYSIS_RATE - (time.perf_counter() - started)
                    if wait > 0:
                        time.sleep(wait)
                fed += piece.size
                yield piece


class DeviceSource:
    """A microphone (``device`` index or None for the default), 16 kHz mono chunks as they
    come."""

    def __init__(self, device: int | None = None, chunk: Seconds = CHUNK) -> None:
        self.sd = sounddevice()
        self.device = device
        self.blocksize = int(chunk * ANALYSIS_RATE)
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=100)
        self._stop = threading.Event()

    def _callback(self, indata, frames, when, status) -> None:
        samples = np.asarray(indata, dtype=np.float32).mean(axis=1)
        try:
            self._queue.put_nowait(samples)
        except queue.Full:  # the reader stalled: the oldest audio goes
            pass

    def chunks(self) -> Iterator[np.ndarray]:
        try:
            stream = self.sd.InputStream(device=self.device, channels=1,
                                         samplerate=ANALYSIS_RATE, blocksize=self.blocksize,
                                         dtype="float32", callback=self._callback)
        except (self.sd.PortAudioError, ValueError) as exc:
            raise InputError(f"cannot open the microphone: {exc}") from None
        with stream:
            while not self._stop.is_set():
                try:
                    yield self._queue.get(timeout=0.5)
                except queue.Empty:
                    continue

    def stop(self) -> None:
        self._stop.set()


# -- sinks --------------------------------------------------------------------------------------


class Recorder:
    """What would be played, written to a WAV file on the input's clock: each phrase at the
    moment it was ready, or after the one before it has finished (one voice at a time).
    Written as it goes (bounded memory), moved into place when closed."""

    def __init__(self, path: str | os.PathLike[str], rate: int) -> None:
        self.path, self.rate = Path(path), rate
        if self.path.suffix.lower() != ".wav":
            raise InputError(f"--output records a .wav file, not {self.path.name}")
        self._place = atomic_path(self.path)
        tmp = self._place.__enter__()
        self._file = sf.SoundFile(tmp, "w", samplerate=rate, channels=1, subtype="PCM_16")
        self._written = 0  # samples

    @property
    def cursor(self) -> Seconds:
        """Where the last phrase ends."""
        return self._written / self.rate

    def play(self, audio: Audio, at: Seconds) -> Seconds:
        """Place ``audio`` at ``at`` seconds (or after what is playing); returns its start."""
        start = max(int(round(at * self.rate)), self._written)
        self._file.write(np.zeros(start - self._written, np.float32))
        mono = audio.mono()
        samples = mono.samples if mono.rate == self.rate else dsp.resample(mono, self.rate).samples
        self._file.write(np.clip(samples, -1.0, 1.0))
        self._written = start + samples.size
        return start / self.rate

    def close(self, until: Seconds | None = None) -> None:
        """Pad with silence to ``until`` (the input's length), then move the file in place."""
        if until is not None:
            self._file.write(np.zeros(max(0, int(round(until * self.rate)) - self._written),
                                      np.float32))
        self._file.close()
        self._place.__exit__(None, None, None)

    def abandon(self) -> None:
        """Leave no half-written file behind."""
        self._file.close()
        error = InputError("recording abandoned")
        self._place.__exit__(type(error), error, None)


class DevicePlayer:
    """A loudspeaker: phrases played one after another. ``cursor`` is when the sound queued so
    far ends, on the input's clock (a microphone's clock is the wall's)."""

    def __init__(self, device: int | None = None, rate: int = 24_000) -> None:
        self.sd = sounddevice()
        self.device, self.rate = device, rate
        self._until = 0.0  # wall clock when the queued sound ends
        self.cursor: Seconds = 0.0  # the same on the input's clock
        self._lock = threading.Lock()

    def play(self, audio: Audio, at: Seconds = 0.0) -> Seconds:
        mono = audio.mono()
        samples = mono.samples if mono.rate == self.rate else dsp.resample(mono, self.rate).samples
        with self._lock:
            now = time.monotonic()
            start = max(now, self._until)
            self._until = start + samples.size / self.rate
            begins = max(at, self.cursor)
            self.cursor = begins + samples.size / self.rate
        threading.Thread(target=self._play, args=(samples, start - now), daemon=True).start()
        return begins

    def _play(self, samples: np.ndarray, delay: float) -> None:
        if delay > 0:
            time.sleep(delay)
        try:
            self.sd.play(samples, self.rate, device=self.device, blocking=True)
        except self.sd.PortAudioError:  # a device that went away: the captions carry on
            pass

    def close(self, until: Seconds | None = None) -> None:
        wait = self._until - time.monotonic()
        if wait > 0:
            time.sleep(wait)


class CaptionFile:
    """Live captions as WebVTT (or SRT), rewritten atomically as each phrase arrives, so the
    file is valid whenever it is read or the session stops."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in (".vtt", ".srt"):
            raise InputError(f"--captions writes .vtt or .srt, not {self.path.name}")
        self._cues: dict[int, media.Cue] = {}  # by the first phrase each cue covers

    @property
    def cues(self) -> list[media.Cue]:
        return [self._cues[i] for i in sorted(self._cues)]

    def add(self, index: int, start: Seconds, end: Seconds, text: str,
            replaces: tuple[int, ...] = ()) -> None:
        """The cue of phrase ``index``; a revision ``replaces`` the cues of those phrases
        with this one."""
        for old in replaces:
            self._cues.pop(old, None)
        self._cues[min(replaces, default=index)] = media.Cue(start, max(end, start + 0.5), text)
        media.write_subtitles(self.cues, self.path)
