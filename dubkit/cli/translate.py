"""``dubkit translate``: dub a media file into another language."""
from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from dubkit.api import DEFAULT_PRESET, Dubber, DubResult
from dubkit.cli.progress import RichProgress


@click.command()
@click.argument("input", type=click.Path(dir_okay=True, path_type=str))
@click.option("--to", "target", required=True, metavar="LANG",
              help="Target language, ISO 639-1 (ja, es, fr, de, en, ...).")
@click.option("--from", "source", metavar="LANG", default=None,
              help="Source language; detected when omitted.")
@click.option("-o", "--output", type=click.Path(path_type=str), default=None,
              help="Output file (default: <input stem>.<LANG>.<ext> beside the input).")
@click.option("--preset", default=DEFAULT_PRESET, show_default=True,
              help="Preset name (see `dubkit presets`) or a .toml file.")
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Reuse finished work in the job folder.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--keep-original/--no-keep-original", default=True, show_default=True,
              help="Keep the original audio as a second track (video only).")
@click.option("--num-speakers", type=int, default=None, help="Number of speakers, if known.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def translate(input: str, target: str, source: str | None, output: str | None, preset: str,
              resume: bool, force: bool, keep_original: bool, num_speakers: int | None,
              as_json: bool) -> None:
    """Dub INPUT (video or audio) into language --to."""
    console = Console(stderr=True)
    with RichProgress(console) as progress:
        dubber = Dubber(preset=preset, progress=progress)
        result = dubber.translate(
            input, to=target, source_language=source, output=output, resume=resume,
            force=force, keep_original=keep_original, num_speakers=num_speakers,
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        _summary(Console(), result)


def _summary(console: Console, result: DubResult) -> None:
    console.print(
        f"[bold]Dubbed[/] {result.source_language} -> {result.target_language}: "
        f"{len(result.segments)} lines, {len(result.speakers)} speakers -> {result.output}"
    )
    for lang, path in result.subtitles.items():
        console.print(f"  subtitles ({lang}): {path}")
    console.print(f"  job folder: {result.job_dir}")
    table = Table("stage", "seconds", "computed", "reused", box=None, pad_edge=False)
    for stage, seconds in result.timings.items():
        work = result.work.get(stage, {})
        table.add_row(stage, f"{seconds:.2f}", str(work.get("computed", "")),
                      str(work.get("reused", "")))
    console.print(table)
