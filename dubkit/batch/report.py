"""What a batch did, job by job: ``batch-report.json``, rewritten (atomically) as each job ends
so that an interrupted batch leaves an accurate report too."""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dubkit.jobs.atomic import write_text

REPORT_FORMAT = 1
PENDING, RUNNING, DONE, FAILED, INTERRUPTED = "pending", "running", "done", "failed", "interrupted"


@dataclass
class JobRecord:
    """One input into one language."""

    input: str
    language: str
    output: str
    status: str = PENDING
    error: str | None = None
    attempts: int = 0
    seconds: float = 0.0  # wall time of its last attempt
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds (its last run)
    work: dict[str, dict[str, int]] = field(default_factory=dict)  # step -> computed/reused
    qa: dict[str, Any] = field(default_factory=dict)  # the QA summary's overall figures
    result: dict[str, Any] | None = None  # DubResult.to_dict() when it succeeded


@dataclass
class AnalysisRecord:
    """A source analysed once for its languages."""

    input: str
    status: str = PENDING
    error: str | None = None
    attempts: int = 0
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    work: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class BatchReport:
    jobs: list[JobRecord]
    analyses: list[AnalysisRecord]
    store: str
    executor: str
    workers: int
    started: float = field(default_factory=time.time)
    seconds: float = 0.0

    @property
    def failed(self) -> list[JobRecord]:
        return [j for j in self.jobs if j.status == FAILED]

    @property
    def ok(self) -> bool:
        return all(j.status == DONE for j in self.jobs)

    def counts(self, language: str | None = None) -> Counter[str]:
        return Counter(j.status for j in self.jobs
                       if language is None or j.language == language)

    def computed(self) -> dict[str, int]:
        """Results computed by models, per step, over the whole batch (analyses included):
        what the store saved shows as a step computed once per source, not once per job."""
        total: Counter[str] = Counter()
        for record in [*self.jobs, *self.analyses]:
            for step, work in record.work.items():
                total[step] += work.get("computed", 0)
        return dict(sorted(total.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"format": REPORT_FORMAT, "executor": self.executor, "workers": self.workers,
                "store": self.store, "started": self.started, "seconds": round(self.seconds, 3),
                "counts": dict(self.counts()), "computed": self.computed(),
                "jobs": [asdict(j) for j in self.jobs],
                "analyses": [asdict(a) for a in self.analyses]}

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")
