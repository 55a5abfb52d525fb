"""What every step of a job shares: the preset's backends, the job's files, cache and record."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from dubkit.backends import StageBackends
from dubkit.config import Preset
from dubkit.jobs.cache import StageCache
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.project import Project
from dubkit.progress import ProgressHook
from dubkit.runners.cached import CachedRunner
from dubkit.types import Audio, Seconds


@dataclass
class JobContext:
    """A batch job's state: the steps run through ``runner`` (the job's cache), and progress,
    timings and the record written at each checkpoint."""

    preset: Preset
    backends: StageBackends
    progress: ProgressHook
    project: Project
    cache: StageCache
    paths: JobPaths
    # sha256 of the decoded 16 kHz analysis track: results keyed by it stay valid exactly as
    # long as the samples do (another ffmpeg build may decode the same file differently)
    audio_id: str
    # False: each model is let go once the job is past the steps that use it (a lower peak,
    # for one file per process); True: models stay loaded for the next file
    keep_models: bool = True
    runner: CachedRunner = field(init=False)

    def __post_init__(self) -> None:
        self.runner = CachedRunner(self.cache)

    def done_with(self, *stages: str) -> None:
        """The job needs these stages' models no more."""
        if not self.keep_models:
            self.backends.release(*stages)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the wall time of the block to ``project.timings[stage]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            timings = self.project.timings
            timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - start, 4)

    def checkpoint(self) -> None:
        """Record the cache's work counters and write project.json (atomically)."""
        cache = self.cache
        work = {}
        for stage in sorted(set(cache.computed) | set(cache.reused) | set(cache.repaired)):
            work[stage] = {"computed": cache.computed[stage], "reused": cache.reused[stage]}
            if cache.repaired[stage]:  # damaged entries found and recomputed
                work[stage]["repaired"] = cache.repaired[stage]
        self.project.work = work
        self.project.models = self.backends.model_records()
        self.project.save(self.paths.job_dir)


def concat_spans(audio: Audio, spans: list[tuple[Seconds, Seconds]], limit: Seconds) -> Audio:
    """The samples of ``spans`` joined, at most ``limit`` seconds."""
    parts, total = [], 0.0
    for start, end in spans:
        take = min(end - start, limit - total)
        if take <= 0:
            break
        parts.append(audio.slice(start, start + take).samples)
        total += take
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return Audio(samples, audio.rate)
