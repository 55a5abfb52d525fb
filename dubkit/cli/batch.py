"""``dubkit batch``: many inputs into many languages, each source analysed once, in this process
or on Ray."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dubkit.api import DEFAULT_PRESET, Dubber
from dubkit.batch.report import DONE, FAILED, RUNNING, BatchReport, JobRecord
from dubkit.batch.runner import DEFAULT_RETRIES, BatchEvent
from dubkit.cli.options import consent_from, consent_options, dub_options
from dubkit.request import DubOptions
from dubkit.types import ProgressEvent


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--to", "target", default="", metavar="LANG[,LANG...]",
              help="Target languages, comma-separated (a manifest row may name its own).")
@click.option("--out", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder for the dubs (default: beside each input).")
@click.option("--preset", default=DEFAULT_PRESET, show_default=True,
              help="Preset name (see `dubkit presets`) or a .toml file.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Jobs at once; more than 1 starts a local Ray instance.")
@click.option("--ray", "ray_address", default=None, metavar="auto|ADDRESS",
              help="Run on a Ray cluster (auto: the one this machine belongs to).")
@click.option("--gpus-per-worker", type=click.FloatRange(min=0), default=0.0,
              help="GPUs Ray reserves for each worker (with a GPU preset).")
@click.option("--store", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder of the shared analysis, reachable by every worker (default: "
                   "dubkit's cache folder).")
@click.option("--retries", type=click.IntRange(min=0), default=DEFAULT_RETRIES,
              show_default=True, help="Tries again for a job whose worker died.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Where to write batch-report.json (default: in --out, else here).")
@dub_options("source_language", "resume", "force", "keep_original", "num_speakers", "voice",
             "allow_unintelligible_voice", "background", "mode", "watermark_key")
@consent_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
def batch(inputs: tuple[str, ...], target: str, out: str | None, preset: str, workers: int,
          ray_address: str | None, gpus_per_worker: float, store: str | None, retries: int,
          report: str | None, as_json: bool, **values: Any) -> None:
    """Dub INPUTS (media files, folders, or .csv/.jsonl manifests) into every --to language.

    Exits 1 when any job failed (the others are finished and listed)."""
    import json

    options = DubOptions(consent=consent_from(values), **values)
    languages = [t.strip() for t in target.split(",")] if target else []
    if not all(languages):
        raise click.UsageError(f"--to {target!r}: give languages separated by commas")
    console = Console(stderr=True)
    with BatchProgress(console) as progress:
        result = Dubber(preset=preset, progress=progress).batch(
            inputs, languages, out=out, store=store, workers=workers,
            executor="ray" if ray_address else "local", ray_address=ray_address,
            gpus_per_worker=gpus_per_worker, retries=retries, report=report, hook=progress,
            options=options)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        summary(Console(), result)
    if not result.ok:
        raise click.exceptions.Exit(1)


class BatchProgress:
    """One bar for the whole batch and one per language (done of total, failed, running); in
    this process, a line for the step the running job is in. A hook for both ``BatchEvent``s
    and the jobs' ``ProgressEvent``s."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(TextColumn("{task.description:<8}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
                                  TimeElapsedColumn(), console=console)
        self._tasks: dict[str, Any] = {}
        self._job = ""  # what the step line is about: "talk.mp4 -> ja"

    def __enter__(self) -> BatchProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, event: BatchEvent | ProgressEvent) -> None:
        if isinstance(event, ProgressEvent):
            self._step(event)
            return
        if event.kind == "started":
            request = event.task.request
            self._job = (f"{request.input.name} (analysis)" if event.task.kind == "analyse"
                         else f"{request.input.name} -> {request.target_language}")
        report = event.report
        for language in ["all", *sorted({j.language for j in report.jobs})]:
            jobs = [j for j in report.jobs if language == "all" or j.language == language]
            counts = _counts(jobs)
            detail = f"{counts[FAILED]} failed, {counts[RUNNING]} running"
            if language == "all":
                analysing = sum(a.status == RUNNING for a in report.analyses)
                detail += f", {analysing} analysing" if analysing else ""
            if language not in self._tasks:
                self._tasks[language] = self._progress.add_task(language, total=len(jobs),
                                                                detail="")
            self._progress.update(self._tasks[language], completed=counts[DONE] + counts[FAILED],
                                  detail=detail)


    def _step(self, event: ProgressEvent) -> None:
        detail = f"{self._job}: {event.stage}"
        if "step" not in self._tasks:
            self._tasks["step"] = self._progress.add_task("step", total=event.total,
                                                          detail=detail)
        self._progress.update(self._tasks["step"], completed=event.done, total=event.total,
                              detail=detail)


def _counts(jobs: list[JobRecord]) -> dict[str, int]:
    counts = {DONE: 0, FAILED: 0, RUNNING: 0}
    for job in jobs:
        if job.status in counts:
            counts[job.status] += 1
    return counts


def summary(console: Console, report: BatchReport) -> None:
    counts = report.counts()
    console.print(f"[bold]Batch[/] ({report.executor}, {report.workers} worker"
                  f"{'s' if report.workers > 1 else ''}): {counts[DONE]} of "
                  f"{len(report.jobs)} jobs done, {counts[FAILED]} failed, "
                  f"{report.seconds:.1f} s")
    table = Table("input", "lang", "status", "seconds", "output", box=None, pad_edge=False)
    for job in report.jobs:
        colour = "green" if job.status == DONE else "red"
        table.add_row(Path(job.input).name, job.language, f"[{colour}]{job.status}[/]",
                      f"{job.seconds:.1f}", Path(job.output).name if job.status == DONE else "")
    console.print(table)
    for job in report.failed:  # whole, on a line of its own: the error is the point
        console.print(f"[red]failed:[/] {escape(job.input)} -> {job.language}: "
                      f"{escape(job.error or '')}", soft_wrap=True, highlight=False)
    computed = report.computed()
    if computed:
        console.print("  computed per step: " + ", ".join(f"{k} {v}" for k, v in computed.items()))
