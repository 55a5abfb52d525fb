"""``dubkit models list|verify``: each model's status and source; re-check assembled weights."""
from __future__ import annotations

import click

from dubkit.models import MODELS, cache_dir, model_status
from dubkit.models.sources import InstalledPackages


@click.group()
def models() -> None:
    """Models dubkit knows: where each comes from, and checks of their files."""


@models.command("list")
def list_models() -> None:
    """Each model's status, source and license."""
    for name, entry in MODELS.items():
        status = model_status(name)
        state = click.style("ok", fg="green") if status.available else click.style("missing",
                                                                                   fg="red")
        click.echo(f"{name:<24} {entry.kind:<18} {state:<7} {entry.license}")
        where = f"{status.source}: {status.detail}" if status.available else status.detail
        click.echo(f"{'':<24} {where}")


@models.command()
def verify() -> None:
    """Re-check the checksums of every assembled model folder."""
    problems = 0
    for name, entry in MODELS.items():
        for source in entry.sources:
            if not isinstance(source, InstalledPackages):
                continue
            if not (source.folder(name, cache_dir()) / ".complete").exists():
                click.echo(f"{name:<24} not assembled yet (assembled on first use)")
                continue
            found = source.verify(name, cache_dir())
            problems += len(found)
            click.echo(f"{name:<24} " + ("ok" if not found else "; ".join(found)))
    if problems:
        click.echo(f"{problems} problem(s) under {cache_dir() / 'models'}: the next run that "
                   "needs those models assembles them again", err=True)
        raise click.exceptions.Exit(1)
