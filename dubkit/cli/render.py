"""``dubkit render``: make a finished dub again after editing its project.json."""
from __future__ import annotations

import click
from rich.console import Console

from dubkit.api import DEFAULT_PRESET, Dubber
from dubkit.cli.progress import RichProgress
from dubkit.cli.translate import summary
from dubkit.pipeline import RENDER_FROM


@click.command()
@click.argument("output", type=click.Path(dir_okay=False, path_type=str))
@click.option("--from-step", "from_step", type=click.Choice(RENDER_FROM), default="synthesize",
              show_default=True,
              help="Redo this step and those after it; the earlier ones are taken from the job "
                   "as it is (translate: the lines are translated again from their source "
                   "text; synthesize: spoken again with their text, speaker and times).")
@click.option("--lines", default=None, metavar="ID[,ID...]",
              help="Only these lines (ids from project.json); default: every line.")
@click.option("--preset", default=DEFAULT_PRESET, show_default=True,
              help="The preset the job was made with.")
@click.option("--watermark-key", envvar="DUBKIT_WATERMARK_KEY", default=None, metavar="KEY",
              help="The job's watermark key, if it was not dubkit's. Env: DUBKIT_WATERMARK_KEY.")
@click.option("--force", is_flag=True, help="Replace outputs that were changed since the job "
                                            "wrote them.")
def render(output: str, from_step: str, lines: str | None, preset: str,
           watermark_key: str | None, force: bool) -> None:
    """Make the dub OUTPUT again from its job folder, after editing project.json."""
    chosen = None
    if lines is not None:
        chosen = [line.strip() for line in lines.split(",")]
        if not all(chosen):
            raise click.UsageError(f"--lines {lines!r}: give line ids separated by commas")
    console = Console(stderr=True)
    with RichProgress(console) as progress:
        result = Dubber(preset=preset, progress=progress).render(
            output, from_step, lines=chosen, watermark_key=watermark_key, force=force)
    summary(Console(), result)
