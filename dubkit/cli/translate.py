"""``dubkit translate``: dub a media file into another language."""
from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from dubkit.api import DEFAULT_PRESET, Dubber, DubResult
from dubkit.cli.options import consent_from, consent_options, dub_options
from dubkit.cli.progress import RichProgress
from dubkit.request import DubOptions


@click.command()
@click.argument("input", type=click.Path(dir_okay=True, path_type=str))
@click.option("--to", "target", required=True, metavar="LANG[,LANG...]",
              help="Target language, ISO 639-1 (ja, es, fr, de, en, ...); several, comma-"
                   "separated, dub each from one analysis of the source.")
@click.option("-o", "--output", type=click.Path(path_type=str), default=None,
              help="Output file (default: <input stem>.<LANG>.<ext> beside the input).")
@click.option("--preset", default=DEFAULT_PRESET, show_default=True,
              help="Preset name (see `dubkit presets`) or a .toml file.")
@dub_options()
@consent_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def translate(input: str, target: str, output: str | None, preset: str, as_json: bool,
              **values: Any) -> None:
    """Dub INPUT (video or audio) into language --to."""
    options = DubOptions(consent=consent_from(values), **values)
    targets = [t.strip() for t in target.split(",")]
    if not all(targets):
        raise click.UsageError(f"--to {target!r}: give languages separated by commas")
    console = Console(stderr=True)
    with RichProgress(console) as progress:
        dubber = Dubber(preset=preset, progress=progress, keep_models=False)  # one file
        results = dubber.translate(input, to=targets if len(targets) > 1 else targets[0],
                                   output=output, options=options)
    results = results if isinstance(results, list) else [results]
    for note in dict.fromkeys(n for r in results for n in r.notes):
        console.print(f"[yellow]note:[/] {note}")
    if as_json:  # one object, or a list of them for several languages
        data = [r.to_dict() for r in results]
        click.echo(json.dumps(data if len(data) > 1 else data[0], ensure_ascii=False))
    else:
        for result in results:
            summary(Console(), result)


def summary(console: Console, result: DubResult) -> None:
    console.print(
        f"[bold]Dubbed[/] {result.source_language} -> {result.target_language}: "
        f"{len(result.segments)} lines, {len(result.speakers)} speakers -> {result.output}"
    )
    for lang, path in result.subtitles.items():
        console.print(f"  subtitles ({lang}): {path}")
    console.print(f"  job folder: {result.job_dir}")
    if result.provenance_file:
        console.print(f"  provenance: {result.provenance_file}")
    _qa_table(console, result)
    table = Table("stage", "seconds", "computed", "reused", box=None, pad_edge=False)
    for stage, seconds in result.timings.items():
        work = result.work.get(stage, {})
        table.add_row(stage, f"{seconds:.2f}", str(work.get("computed", "")),
                      str(work.get("reused", "")))
    console.print(table)


def _qa_table(console: Console, result: DubResult) -> None:
    """The QA summary: how close the dub is to the source, and the lines to review."""
    qa = result.qa
    if not qa:
        return
    overall = qa.get("overall", {})
    console.print(
        f"  quality: speaker similarity {_fmt(overall.get('speaker_similarity'))}"
        f"{_by(overall.get('similarity_model'))}, "
        f"intonation correlation {_fmt(overall.get('f0_correlation'))}, "
        f"lines within 10% of their slot {_fmt(overall.get('within_slot'), pct=True)}, "
        f"heard as written {_fmt(overall.get('heard_as_written'), pct=True)} "
        f"({result.qa_file})"
    )
    if overall.get("voice_note"):
        console.print(f"  voice: {overall['voice_note']}")
    review = qa.get("review", [])
    if review:
        table = Table("line", "speaker", "why", box=None, pad_edge=False,
                      title=f"{len(review)} lines to review", title_justify="left")
        for item in review[:20]:
            table.add_row(item["id"], item.get("speaker", ""), "; ".join(item["reasons"]))
        console.print(table)


def _by(model: str | None) -> str:
    return f" ({model})" if model else ""


def _fmt(value, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.0f}%" if pct else f"{value:.2f}"
