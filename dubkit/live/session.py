"""One live session: a source's chunks into the interpreter, its events out to a player or
recording, captions and a display, until the source ends or Ctrl-C.

Echo: while the translation plays, the input is heard as silence (``gate``), so the
interpreter never translates its own voice coming back through the microphone.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from dubkit.live.audio_io import CaptionFile
from dubkit.live.interpreter import Caption, Event, Interpreter, Notice, Speech
from dubkit.types import Audio, Seconds

ECHO_TAIL: Seconds = 0.3  # a room rings on after the loudspeaker stops


class Player(Protocol):
    cursor: Seconds  # when the sound queued so far ends, on the input's clock

    def play(self, audio: Audio, at: Seconds) -> Seconds:
        """Queue ``audio`` to start at ``at`` (or after what plays); returns its start."""

    def close(self, until: Seconds | None = None) -> None:
        """Finish what is queued and let go of the device or file."""


@dataclass
class SessionReport:
    """What happened, without the audio (a session may run for hours): captions, notices, each
    phrase's first piece of speech as timing only, and where each piece was played."""

    captions: list[Caption] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    first_speech: list[Speech] = field(default_factory=list)  # part 0 of each phrase, no audio
    played: list[tuple[int, Seconds, Seconds]] = field(default_factory=list)  # index, start, end
    interrupted: bool = False
    duration: Seconds = 0.0  # seconds of input heard

    @property
    def latencies(self) -> list[Seconds]:
        """Each phrase's: until its first piece of speech was ready."""
        return [e.latency for e in self.first_speech]

    def add(self, event: Event) -> None:
        if isinstance(event, Caption):
            self.captions.append(event)
        elif isinstance(event, Notice):
            self.notices.append(event.text)
        elif isinstance(event, Speech) and event.part == 0:
            self.first_speech.append(dataclasses.replace(event, audio=_NO_AUDIO))


_NO_AUDIO = Audio(np.zeros(0, np.float32), 16_000)


def run_session(interpreter: Interpreter, chunks: Iterable[np.ndarray], player: Player | None,
                captions: CaptionFile | None = None, gate: bool = True,
                on_event: Callable[[Event], None] = lambda event: None) -> SessionReport:
    """Feed ``chunks`` (16 kHz mono) until they end or Ctrl-C; returns the report. Files are
    complete and valid either way."""
    report = SessionReport()

    def handle(events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Speech) and player is not None:
                start = player.play(event.audio, event.start)
                report.played.append((event.index, start, start + event.audio.duration))
            elif isinstance(event, Caption) and captions is not None and event.target_text:
                captions.add(event.index, event.start, event.end, event.target_text,
                             event.revises)
            on_event(event)
            report.add(event)

    try:
        for chunk in chunks:
            playing = player is not None and interpreter.clock < player.cursor + ECHO_TAIL
            interpreter.feed(np.zeros_like(chunk) if gate and playing else chunk)
            handle(interpreter.events())
        handle(interpreter.finish())
    except KeyboardInterrupt:
        report.interrupted = True
        handle(interpreter.stop())
    report.duration = interpreter.clock
    if player is not None:
        player.close(until=report.duration)
    return report
