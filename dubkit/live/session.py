"""One live session: a source's chunks into the interpreter, its events out to a player or
recording, captions and a display, until the source ends or Ctrl-C.

Echo: while the translation plays, the input is heard as silence (``gate``), so the
interpreter never translates its own voice coming back through the microphone.
"""
from __future__ import annotations

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
    """What happened: every event in order, and where each phrase's speech was played."""

    events: list[Event] = field(default_factory=list)
    played: list[tuple[int, Seconds, Seconds]] = field(default_factory=list)  # index, start, end
    interrupted: bool = False
    duration: Seconds = 0.0  # seconds of input heard

    @property
    def latencies(self) -> list[Seconds]:
        """Each phrase's: until its first piece of speech was ready."""
        return [e.latency for e in self.events if isinstance(e, Speech) and e.part == 0]

    @property
    def notices(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Notice)]


def run_session(interpreter: Interpreter, chunks: Iterable[np.ndarray], player: Player | None,
                captions: CaptionFile | None = None, gate: bool = True,
                on_event: Callable[[Event], None] = lambda event: None) -> SessionReport:
    """Feed ``chunks`` (16 kHz mono) until they end or Ctrl-C; returns the report. Files are
    complete and valid either way."""
    report = SessionReport()

    def handle(events: list[Event]) -> None:
        for event in events:
            report.events.append(event)
            if isinstance(event, Speech) and player is not None:
                start = player.play(event.audio, event.start)
                report.played.append((event.index, start, start + event.audio.duration))
            elif isinstance(event, Caption) and captions is not None and event.target_text:
                captions.add(event.start, event.end, event.target_text)
            on_event(event)

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
