"""Where a batch's tasks run: in the batch's own process, one at a time
(``InProcessExecutor``), or on Ray actors, each a ``BatchWorker`` that keeps its models loaded
(``RayExecutor``: a local Ray instance, or a cluster joined by address).

Both hand out tasks only to an idle worker and report each task as it finishes, so the runner
decides what runs next (a long file never holds back a short one). A Ray worker that dies (a
crash, the OOM killer, a lost node) is replaced, and its task is reported as ``WorkerLost`` for
the runner to retry.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dubkit.batch.worker import BatchWorker, Task, TaskOutcome
from dubkit.config import Preset
from dubkit.errors import BackendUnavailable, InputError, first_line

if TYPE_CHECKING:
    from dubkit.api import Dubber

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerLost:
    """The worker running a task died before answering."""

    worker: int
    why: str


class InProcessExecutor:
    """One worker, this process, with the caller's ``Dubber`` (its models, its progress hook):
    a task runs when the runner waits for it."""

    def __init__(self, dubber: Dubber, store: Path) -> None:
        self._worker = BatchWorker(dubber.preset, store, dubber=dubber)
        self._queue: list[Task] = []
        self.workers = 1

    def idle(self) -> int:
        return 0 if self._queue else 1

    def submit(self, task: Task) -> int:
        """Start ``task`` on an idle worker; returns the worker's process id."""
        self._queue.append(task)
        return self._worker.pid()

    def wait(self) -> tuple[Task, TaskOutcome | WorkerLost]:
        """The next task to finish, and how."""
        task = self._queue.pop(0)
        return task, self._worker.run(task)

    def close(self) -> None:
        self._queue.clear()


@dataclass(frozen=True)
class _Actor:
    handle: Any
    pid: int
    cores: tuple[int, ...] | None  # the CPUs it is pinned to (a local Ray instance)


class RayExecutor:
    """``workers`` Ray actors, each a ``BatchWorker`` with ``cpus`` and ``gpus`` of the cluster
    reserved for it (Ray places GPU workers on GPU nodes and gives each its own devices).
    ``address`` None starts a local Ray instance with ``workers`` CPUs; "auto" or
    ``host:port`` joins a running cluster, whose nodes must have dubkit installed and reach
    the store.

    On a local instance each worker is pinned to its own share of this machine's cores: the
    models size their thread pools by the cores a process may use, and two workers that each
    take every core only slow each other down (measured in BENCHMARKS.md "Batch")."""

    def __init__(self, preset: Preset, store: Path, workers: int,
                 address: str | None = None, cpus: float = 1, gpus: float = 0) -> None:
        try:
            import ray
        except ImportError:
            raise BackendUnavailable("running a batch on Ray needs the ray package: pip "
                                     "install 'dubkit[batch]'") from None
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            init: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                    "configure_logging": False}
            try:
                if address is None:
                    ray.init(num_cpus=max(workers * cpus, 1), num_gpus=workers * gpus or None,
                             **init)
                else:
                    ray.init(address=address, **init)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise InputError(f"cannot {'start' if address is None else 'join'} Ray"
                                 f"{'' if address is None else f' at {address}'}: "
                                 f"{first_line(exc)}") from None
        self._actor_class = ray.remote(BatchWorker).options(num_cpus=cpus, num_gpus=gpus,
                                                            max_restarts=0)
        self._args = (preset, str(store))
        self.workers = workers
        self._running: dict[Any, tuple[Task, _Actor]] = {}  # ref -> its task and actor
        self._idle = self._start_actors(_shares(workers, cpus) if address is None
                                        else [None] * workers)

    def _start_actors(self, shares: list[tuple[int, ...] | None]) -> list[_Actor]:
        """One actor per share of cores, started together (each loads dubkit at its start)."""
        handles = [self._actor_class.remote(*self._args, cores=cores) for cores in shares]
        pids = self._ray.get([handle.pid.remote() for handle in handles])
        return [_Actor(h, pid, cores) for h, pid, cores in zip(handles, pids, shares)]

    def idle(self) -> int:
        return len(self._idle)

    def submit(self, task: Task) -> int:
        actor = self._idle.pop(0)
        self._running[actor.handle.run.remote(task)] = (task, actor)
        return actor.pid

    def wait(self) -> tuple[Task, TaskOutcome | WorkerLost]:
        ray = self._ray
        [ref], _ = ray.wait(list(self._running), num_returns=1)
        task, actor = self._running.pop(ref)
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            log.warning("batch worker %d died running %s: %s", actor.pid, task.id, exc)
            self._idle += self._start_actors([actor.cores])
            return task, WorkerLost(actor.pid, "its worker died")
        self._idle.append(actor)
        return task, outcome

    def close(self) -> None:
        ray = self._ray
        for actor in [*(a for _, a in self._running.values()), *self._idle]:
            ray.kill(actor.handle)
        self._running.clear()
        self._idle.clear()
        if self._owns_ray:
            ray.shutdown()


def _shares(workers: int, cpus: float) -> list[tuple[int, ...] | None]:
    """Each local worker's cores: the cores this process may use, shared out evenly (at least
    ``cpus`` each); None (no pinning) for one worker, or fewer cores than that."""
    available = sorted(os.sched_getaffinity(0))
    each = len(available) // workers
    if workers == 1 or each < max(1, int(cpus)):
        return [None] * workers
    return [tuple(available[i * each:(i + 1) * each]) for i in range(workers)]
