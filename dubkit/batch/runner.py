"""A batch: many inputs into many languages, each source analysed once.

The runner owns the order of the work. Every source with several languages is first analysed
once (everything that does not depend on the target language, into the content-addressed
store); its jobs then only translate, synthesize, fit and mix, taking the analysis from the
store. Tasks go to whichever worker is idle, dubs before new analyses, so finished outputs
appear early and a long file never holds back a short one.

A job that fails (a corrupt input, an error in a step) fails alone with its one-line error and
the batch carries on; a task whose worker died is retried up to ``retries`` times. Every job is
an ordinary job folder with its own cache and lock, so an interrupted batch resumes where it
stopped, a re-run computes nothing, and a ``dubkit translate`` of the same output waits its turn.
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dubkit.batch.executors import WorkerLost
from dubkit.batch.items import BatchJob
from dubkit.batch.report import (
    DONE,
    FAILED,
    INTERRUPTED,
    RUNNING,
    AnalysisRecord,
    BatchReport,
    JobRecord,
)
from dubkit.batch.worker import ANALYSE, DUB, Task, TaskOutcome, analysis_output
from dubkit.hashing import sha256_file
from dubkit.request import DubRequest

DEFAULT_RETRIES = 2


class Executor(Protocol):
    workers: int

    def idle(self) -> int:
        """How many workers could start a task now."""

    def submit(self, task: Task) -> int:
        """Start ``task`` on an idle worker; its process id."""

    def wait(self) -> tuple[Task, TaskOutcome | WorkerLost]:
        """The next task to end, and how."""

    def close(self) -> None:
        """Stop the workers (tasks still running are abandoned)."""


@dataclass(frozen=True)
class BatchEvent:
    """``kind``: "started", "finished" or "retry" of ``record``'s task on worker ``worker``."""

    kind: str
    task: Task
    worker: int
    record: JobRecord | AnalysisRecord
    report: BatchReport


BatchHook = Callable[[BatchEvent], None]


def ignore_events(event: BatchEvent) -> None:
    """The default hook: report nothing."""


class BatchRunner:
    def __init__(self, executor: Executor, store: Path, report_path: Path, *,
                 executor_name: str, hook: BatchHook = ignore_events,
                 retries: int = DEFAULT_RETRIES) -> None:
        self.executor = executor
        self.store = store
        self.report_path = report_path
        self.executor_name = executor_name
        self.hook = hook
        self.retries = retries

    def run(self, jobs: Sequence[BatchJob]) -> BatchReport:
        started = time.perf_counter()
        records = {j.output: JobRecord(str(j.input), j.language, str(j.output)) for j in jobs}
        by_source: dict[Path, list[BatchJob]] = {}
        for job in jobs:
            by_source.setdefault(job.input, []).append(job)
        analyses = {s: AnalysisRecord(str(s)) for s, js in by_source.items() if len(js) > 1}
        report = BatchReport(list(records.values()), list(analyses.values()), str(self.store),
                             self.executor_name, self.executor.workers)
        dubs: deque[Task] = deque()
        waiting: deque[Task] = deque()  # analyses
        held: dict[Path, list[Task]] = {}  # a source's dubs, until its analysis is done
        for source, source_jobs in by_source.items():
            tasks = [Task(DUB, _request(j)) for j in source_jobs]
            if source in analyses:
                first = tasks[0].request
                output = analysis_output(self.store, first, sha256_file(source))
                waiting.append(Task(ANALYSE, DubRequest(source, output, first.target_language,
                                                        first.options)))
                held[source] = tasks
            else:
                dubs.extend(tasks)

        def record_of(task: Task) -> JobRecord | AnalysisRecord:
            return analyses[task.request.input] if task.kind == ANALYSE \
                else records[task.request.output]

        running: dict[str, Task] = {}
        try:
            while dubs or waiting or running:
                while self.executor.idle() and (dubs or waiting):
                    task = dubs.popleft() if dubs else waiting.popleft()
                    record = record_of(task)
                    record.status, record.attempts = RUNNING, task.attempt
                    worker = self.executor.submit(task)
                    running[task.id] = task
                    self._emit("started", task, worker, record, report)
                task, outcome = self.executor.wait()
                del running[task.id]
                record = record_of(task)
                if isinstance(outcome, WorkerLost):
                    if task.attempt <= self.retries:
                        retry = Task(task.kind, task.request, task.attempt + 1)
                        (dubs if task.kind == DUB else waiting).appendleft(retry)
                        self._emit("retry", task, outcome.worker, record, report)
                        continue
                    record.status = FAILED
                    record.error = (f"{outcome.why} on each of {task.attempt} attempts "
                                    "(see the Ray logs)")
                else:
                    _finish(record, outcome)
                if task.kind == ANALYSE:  # its languages go ahead, whether it worked or not
                    dubs.extend(held.pop(task.request.input))
                self._emit("finished", task, outcome.worker, record, report)
        except BaseException:
            for task in running.values():
                record_of(task).status = INTERRUPTED
            raise
        finally:
            report.seconds = time.perf_counter() - started
            self.executor.close()
            report.write(self.report_path)
        return report

    def _emit(self, kind: str, task: Task, worker: int, record: JobRecord | AnalysisRecord,
              report: BatchReport) -> None:
        if kind != "started":
            report.write(self.report_path)
        self.hook(BatchEvent(kind, task, worker, record, report))


def _request(job: BatchJob) -> DubRequest:
    return DubRequest(job.input, job.output, job.language, job.options)


def _finish(record: JobRecord | AnalysisRecord, outcome: TaskOutcome) -> None:
    record.status = FAILED if outcome.error else DONE
    record.error = outcome.error
    record.seconds = round(outcome.seconds, 3)
    record.work = outcome.work
    record.steps = outcome.timings
    if isinstance(record, JobRecord):
        record.result = outcome.result
        qa = (outcome.result or {}).get("options", {}).get("qa") or {}
        record.qa = {**qa.get("overall", {}), "lines_to_review": len(qa.get("review", []))} \
            if qa else {}
