"""The Python API: ``Dubber`` for files. Results are data that also record what made them."""
from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubkit.batch.report import BatchReport
from dubkit.batch.runner import DEFAULT_RETRIES, BatchHook, ignore_events
from dubkit.config import Preset, load_preset
from dubkit.errors import InputError
from dubkit.inputs import check_input_file
from dubkit.jobs.paths import JobPaths, default_output
from dubkit.jobs.project import Project
from dubkit.pipeline import DubbingPipeline
from dubkit.progress import ProgressHook, ignore_progress
from dubkit.request import DubOptions, DubRequest
from dubkit.types import Segment, Speaker, Turn

DEFAULT_PRESET = "cpu"


@dataclass(frozen=True)
class DubResult:
    """What ``Dubber.translate`` made: the files, the lines, the time each stage took, and the
    options and preset that made them."""

    output: Path
    subtitles: dict[str, Path]  # "ja" / "ja-vtt" / source language -> file
    job_dir: Path
    project_file: Path
    source_language: str
    target_language: str
    segments: tuple[Segment, ...]
    speakers: tuple[Speaker, ...]
    timings: dict[str, float]  # stage -> wall seconds in this run
    work: dict[str, dict[str, int]]  # stage -> {"computed": n, "reused": n}
    preset: str
    options: dict[str, Any] = field(default_factory=dict)
    qa_file: Path | None = None  # per-line quality report (qa.json)
    provenance_file: Path | None = None  # <output>.provenance.json

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user should know about how the dub was made (e.g. why stock voices)."""
        return tuple(self.options.get("notes", ()))

    @property
    def qa(self) -> dict[str, Any]:
        """The QA summary: means, and the lines to review."""
        return dict(self.options.get("qa", {}))

    @property
    def model_work(self) -> int:
        """Results computed by models in this run (0 when everything came from the cache)."""
        return sum(v.get("computed", 0) for k, v in self.work.items() if k not in ("fit",))

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "subtitles": {k: str(v) for k, v in self.subtitles.items()},
            "job_dir": str(self.job_dir),
            "project": str(self.project_file),
            "source_language": self.source_language,
            "target_language": self.target_language,
            "segments": len(self.segments),
            "speakers": len(self.speakers),
            "timings": self.timings,
            "work": self.work,
            "preset": self.preset,
            "options": self.options,
            "qa": str(self.qa_file) if self.qa_file else None,
            "provenance": str(self.provenance_file) if self.provenance_file else None,
        }


@dataclass(frozen=True)
class DiarizationResult:
    input: Path
    turns: tuple[Turn, ...]
    num_speakers: int
    timings: dict[str, float]


class Dubber:
    """Dubs media files with the backends of one preset.

    >>> result = Dubber(preset="cpu").translate("talk.mp4", to="ja")   # doctest: +SKIP
    >>> result.output                                                    # doctest: +SKIP
    PosixPath('talk.ja.mp4')

    ``progress`` receives a ``ProgressEvent`` as each stage advances. Models are loaded on first
    use and kept for the next file; ``keep_models=False`` lets each go as soon as a job is past
    its stages (a lower peak of memory, for one file per process, as the CLI does).
    """

    def __init__(self, preset: str | os.PathLike[str] | Preset = DEFAULT_PRESET, *,
                 progress: ProgressHook = ignore_progress, keep_models: bool = True) -> None:
        self.preset = preset if isinstance(preset, Preset) else load_preset(preset)
        self.progress = progress
        self.keep_models = keep_models
        self._pipeline: DubbingPipeline | None = None

    @property
    def pipeline(self) -> DubbingPipeline:
        if self._pipeline is None:
            self._pipeline = DubbingPipeline(self.preset, self.progress, self.keep_models)
        return self._pipeline

    def translate(self, input: str | os.PathLike[str], to: str | Sequence[str], *,
                  output: str | os.PathLike[str] | None = None,
                  options: DubOptions | None = None,
                  **option_values: Any) -> DubResult | list[DubResult]:
        """Dub ``input`` into language ``to`` (ISO 639-1). See the README for the files written.

        The options are ``DubOptions``' fields, given as ``options`` or as keywords (keywords
        win): ``source_language``, ``resume``, ``force``, ``keep_original``,
        ``num_speakers``, ``voice``, ``background``, ``consent``, ``watermark_key``, ``mode``,
        ``audio_track``. An unknown keyword is an ``InputError`` naming the known ones.

        ``to`` may be a list of languages: then a list of results, one per language, each
        output beside the input (``output`` must not be given); the source is analysed once
        (voice activity, speakers, language, transcription and voice profiles are computed for
        the first language and reused by the others), and every language is checked before the
        first job starts.

        ``voice`` "keep" (the default where the preset can) moves each line to its speaker's
        voice, which needs ``consent``: a ``Consent`` or the path of a statement file; without
        it stock voices are used and ``DubResult.notes`` says so. ``background`` is "keep",
        "duck" or "drop"; ``mode`` "cascade", "direct" or "text-then-tts" (default: the
        preset's). ``audio_track`` picks which audio track to dub (0-based; default: the
        track marked default, else the first). Every synthesized line carries a watermark
        keyed by ``watermark_key`` (default: dubkit's public key).
        """
        options = _options(options, option_values)
        targets = [to] if isinstance(to, str) else list(to)
        if not targets or len(set(targets)) != len(targets):
            raise InputError("give each target language once")
        if len(targets) > 1 and output is not None:
            raise InputError("with several target languages the outputs go beside the input: "
                             "leave out the output path")
        source = Path(input).expanduser()
        requests = [DubRequest(source, Path(output) if output else default_output(source, t),
                               t, options) for t in targets]
        # a wrong third language fails before the first job starts
        jobs = [self.pipeline.prepare(request) for request in requests]
        results, caches = [], []
        for job in jobs:
            project = self.pipeline.run(job, shared_caches=caches)
            results.append(self._result(project, job.request.output))
            caches.append(JobPaths.for_output(job.request.output).cache_dir)
        return results[0] if isinstance(to, str) else results

    def render(self, output: str | os.PathLike[str], from_step: str = "synthesize", *,
               lines: Sequence[str] | None = None, watermark_key: str | None = None,
               force: bool = False) -> DubResult:
        """Make the dub ``output`` again from one of its job's steps (``transcribe``,
        ``translate``, ``synthesize`` or ``mix``) for ``lines`` (line ids; default: every
        line), after editing project.json: a line redone from ``translate`` is translated
        again from its (possibly edited) source text; from ``synthesize``, spoken again with
        its text, speaker and times as they are now. Nothing before that step is computed
        again, and the input is read only for the mix."""
        path = Path(output).expanduser()
        path = path.parent.resolve() / path.name  # as the job recorded it
        project = self.pipeline.render(path, from_step, lines, watermark_key, force)
        return self._result(project, path)

    def diarize(self, input: str | os.PathLike[str],
                num_speakers: int | None = None) -> DiarizationResult:
        """Who spoke when in ``input``."""
        from dubkit import media
        from dubkit.types import ANALYSIS_RATE

        path = check_input_file(input)
        if num_speakers is not None and num_speakers < 1:
            raise InputError("--num-speakers must be at least 1")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        audio = media.decode_audio(path, rate=ANALYSIS_RATE, mono=True)
        t1 = time.perf_counter()
        regions = self.pipeline.backends.get("vad").detect(audio)
        t2 = time.perf_counter()
        turns = self.pipeline.backends.get("diarization").diarize(audio, regions, num_speakers) \
            if regions else []
        t3 = time.perf_counter()
        timings.update(decode=t1 - t0, vad=t2 - t1, diarize=t3 - t2)
        return DiarizationResult(path, tuple(turns), len({t.speaker for t in turns}), timings)

    def batch(self, inputs: Sequence[str | os.PathLike[str]], to: Sequence[str] = (), *,
              out: str | os.PathLike[str] | None = None,
              store: str | os.PathLike[str] | None = None,
              executor: str = "local", workers: int = 1, ray_address: str | None = None,
              gpus_per_worker: float = 0, retries: int = DEFAULT_RETRIES,
              report: str | os.PathLike[str] | None = None, hook: BatchHook = ignore_events,
              options: DubOptions | None = None, **option_values: Any) -> BatchReport:
        """Dub every input into every language of ``to``; returns the ``BatchReport`` (also
        written as ``report``, default ``<out or the current folder>/batch-report.json``).

        ``inputs`` are media files, folders (walked for media) or manifests (``.csv`` or
        ``.jsonl``, a row per input with optional ``languages``, ``output``, ``from``,
        ``speakers``, ``voice``, ``background`` and ``consent``). Outputs go to ``out``
        (default: beside each input) as ``<name>.<lang><ext>``. Each source with several
        languages is analysed once into ``store`` (default: dubkit's cache folder), a folder
        every worker must reach. ``executor`` "local" runs in this process (``workers`` 1) or
        on a local Ray instance (``workers`` > 1); "ray" runs ``workers`` Ray actors, on the
        cluster at ``ray_address`` ("auto" or host:port) when given. A job that fails does
        not stop the others; one whose worker died is retried up to ``retries`` times.
        In this process, each job's steps are reported to this ``Dubber``'s ``progress``.
        Options are ``translate``'s, applied to every job (a manifest row's own win)."""
        from dubkit.batch.executors import InProcessExecutor, RayExecutor
        from dubkit.batch.items import collect_items, plan_jobs
        from dubkit.batch.runner import BatchRunner

        options = _options(options, option_values)
        if executor not in ("local", "ray"):
            raise InputError(f"executor {executor!r} is not one of: local, ray")
        if workers < 1 or retries < 0 or gpus_per_worker < 0:
            raise InputError("workers must be at least 1, retries and GPUs per worker at "
                             "least 0")
        if ray_address is not None and executor != "ray":
            raise InputError("a Ray address needs executor=\"ray\"")
        out_dir = Path(out).expanduser().absolute() if out is not None else None
        jobs = plan_jobs(collect_items(list(inputs), list(to), options), out_dir)
        if not jobs:
            raise InputError("nothing to dub: no inputs given")
        made_out = out_dir is not None and not out_dir.exists()
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
        try:  # every file and language checked before the first job starts
            for job in jobs:
                self.pipeline.prepare(DubRequest(job.input, job.output, job.language,
                                                 job.options))
        except BaseException:
            if made_out:
                out_dir.rmdir()
            raise
        store_dir = Path(store).expanduser().absolute() if store is not None \
            else default_store()
        report_path = Path(report).expanduser() if report is not None \
            else (out_dir or Path.cwd()) / "batch-report.json"
        use_ray = executor == "ray" or workers > 1
        runner_executor = (RayExecutor(self.preset, store_dir, workers, ray_address,
                                       gpus=gpus_per_worker)
                           if use_ray else InProcessExecutor(self, store_dir))
        name = f"ray ({ray_address})" if ray_address else "ray (local)" if use_ray \
            else "in-process"
        return BatchRunner(runner_executor, store_dir, report_path, executor_name=name,
                           hook=hook, retries=retries).run(jobs)

    def _result(self, project: Project, output: Path) -> DubResult:
        return dub_result(project, output, self.preset.name)


def dub_result(project: Project, output: Path, preset_name: str) -> DubResult:
    """The ``DubResult`` of a finished job's project."""
    paths = JobPaths.for_output(output, project.source_language)
    subtitles = {k: Path(v) for k, v in project.outputs.get("subtitles", {}).items()}
    return DubResult(
        output=Path(project.outputs["media"]),
        subtitles=subtitles,
        job_dir=paths.job_dir,
        project_file=paths.job_dir / "project.json",
        source_language=project.source_language or "",
        target_language=project.target_language,
        segments=tuple(project.segments),
        speakers=tuple(project.speakers),
        timings=dict(project.timings),
        work=dict(project.work),
        preset=preset_name,
        options=dict(project.options),
        qa_file=Path(project.outputs["qa"]) if project.outputs.get("qa") else None,
        provenance_file=Path(project.outputs["provenance"])
        if project.outputs.get("provenance") else None,
    )


def default_store() -> Path:
    """Where batches keep their shared analysis unless told: dubkit's cache folder."""
    from dubkit.models import cache_dir

    return cache_dir() / "store"


def _options(options: DubOptions | None, values: dict[str, Any]) -> DubOptions:
    """``options`` with ``values`` (``DubOptions``' fields as keywords) over them."""
    if options is None:
        return DubOptions.build(**values)
    if not values:
        return options
    fields = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    return DubOptions.build(**{**fields, **values})
