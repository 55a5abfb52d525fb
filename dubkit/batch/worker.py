"""The work a batch hands out, and the worker that does it: one preset's models loaded once and
kept for every task it runs, in the batch's process or inside a Ray actor.

A task is a source's analysis (decode, voice activity, speakers, language, separation,
transcription: everything that does not depend on the target language, written into the store)
or one job's dub, which takes that analysis from the store and only translates, synthesizes,
fits and mixes. A task's failure is data (``TaskOutcome``), never an exception that would stop
the batch; only a dead worker is the executor's to report.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dubkit.config import Preset, load_preset
from dubkit.errors import DubkitError, first_line
from dubkit.progress import ProgressHook, ignore_progress
from dubkit.request import DubRequest

if TYPE_CHECKING:
    from dubkit.api import Dubber

ANALYSE, DUB = "analyse", "dub"


@dataclass(frozen=True)
class Task:
    """``kind`` ANALYSE or DUB of ``request``; ``attempt`` counts from 1 (a retry after a
    worker died is the next attempt)."""

    kind: str
    request: DubRequest
    attempt: int = 1

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.request.output}"


@dataclass(frozen=True)
class TaskOutcome:
    """How a task ended on its worker: ``error`` is None when it succeeded. ``result`` is the
    dub's ``DubResult.to_dict()`` (None for an analysis)."""

    error: str | None
    seconds: float
    worker: int  # the process id that ran it
    result: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    work: dict[str, dict[str, int]] = field(default_factory=dict)


def store_cache(store: Path) -> Path:
    """The content-addressed results every job reads and adds to."""
    return store / "cache"


def analysis_output(store: Path, request: DubRequest, input_sha256: str) -> Path:
    """Where a source's analysis job lives in the store (its project.json and decoded track):
    named by the input's content, so every batch that meets the same file finds it."""
    name = f"{request.input.stem}.{request.target_language}{request.input.suffix}"
    return store / "analysis" / input_sha256[:24] / name


class BatchWorker:
    """Runs tasks with one preset; models load on first use and stay for the next task. In
    the batch's own process it works with the caller's ``dubber`` (and its loaded models);
    ``cores``: the CPUs this worker's process keeps to."""

    def __init__(self, preset: str | Path | Preset, store: str | Path,
                 progress: ProgressHook = ignore_progress, dubber: Dubber | None = None,
                 cores: tuple[int, ...] | None = None) -> None:
        from dubkit.api import Dubber

        if cores:  # before any model sizes its thread pool
            os.sched_setaffinity(0, cores)
        self.store = Path(store)
        self.dubber = dubber or Dubber(
            preset if isinstance(preset, Preset) else load_preset(preset), progress=progress)

    def pid(self) -> int:
        return os.getpid()

    def run(self, task: Task) -> TaskOutcome:
        from dubkit.api import dub_result
        from dubkit.pipeline import ANALYSIS_UNTIL

        started = time.perf_counter()
        pipeline = self.dubber.pipeline
        try:
            if task.kind == ANALYSE:  # the store is the batch's own folder
                task.request.output.parent.mkdir(parents=True, exist_ok=True)
            job = pipeline.prepare(task.request)
            until = ANALYSIS_UNTIL if task.kind == ANALYSE else None
            project = pipeline.run(job, store=store_cache(self.store), until=until)
        except DubkitError as exc:
            return TaskOutcome(first_line(exc), time.perf_counter() - started, os.getpid())
        except OSError as exc:  # a folder it cannot write, a file that went away
            where = f" ({exc.filename})" if exc.filename else ""
            return TaskOutcome(f"{exc.strerror or first_line(exc)}{where}",
                               time.perf_counter() - started, os.getpid())
        except Exception as exc:  # noqa: BLE001 - the batch carries on; the job names it
            return TaskOutcome(f"internal error ({type(exc).__name__}: {first_line(exc)}); run "
                               "this input alone with `dubkit --debug translate` for the "
                               "traceback", time.perf_counter() - started, os.getpid())
        result = None
        if task.kind == DUB:
            result = dub_result(project, job.request.output, pipeline.preset.name).to_dict()
        return TaskOutcome(None, time.perf_counter() - started, os.getpid(), result,
                           dict(project.timings), dict(project.work))
