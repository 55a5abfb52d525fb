"""``dubkit presets``: the presets, one line each."""
from __future__ import annotations

import click

from dubkit.config import available_presets, load_preset
from dubkit.errors import DubkitError


@click.command()
def presets() -> None:
    """List presets with one line each."""
    for name in available_presets():
        try:
            description = load_preset(name).description
        except DubkitError as exc:
            description = f"(invalid: {exc})"
        click.echo(f"{name:<14} {description}")
