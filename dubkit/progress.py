"""Progress reporting: stages call a hook with ``ProgressEvent``s; the CLI draws them with rich."""
from __future__ import annotations

from collections.abc import Callable

from dubkit.types import ProgressEvent

ProgressHook = Callable[[ProgressEvent], None]


def ignore_progress(event: ProgressEvent) -> None:
    """The default hook: report nothing."""


class StageProgress:
    """Reports ``done`` of ``total`` for one stage:
    ``with StageProgress(hook, "synthesize", n) as bar: ... bar.advance()``."""

    def __init__(self, hook: ProgressHook, stage: str, total: int | None) -> None:
        self.hook, self.stage, self.total, self.done = hook, stage, total, 0

    def __enter__(self) -> StageProgress:
        self.hook(ProgressEvent(self.stage, 0, self.total))
        return self

    def advance(self, message: str = "") -> None:
        self.done += 1
        self.hook(ProgressEvent(self.stage, self.done, self.total, message))

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            return
        if self.total is None:  # a single step of unknown size: report it as one unit done
            self.hook(ProgressEvent(self.stage, 1, 1))
        elif self.done < self.total:
            self.hook(ProgressEvent(self.stage, self.total, self.total))
