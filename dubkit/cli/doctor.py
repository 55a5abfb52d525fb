"""``dubkit doctor``: ffmpeg, Python packages and each preset's models, with what is missing and
how to get it."""
from __future__ import annotations

import importlib.util

import click

from dubkit.api import DEFAULT_PRESET
from dubkit.config import available_presets, load_preset
from dubkit.errors import DubkitError
from dubkit.models import model_status
from dubkit.registry import get_spec, model_names


def _gpu() -> str:
    """Which CUDA GPU torch sees (the ``gpu`` preset's device), without failing when torch is
    not installed. A missing GPU is no problem for the other presets."""
    if importlib.util.find_spec("torch") is None:
        return "unknown (torch is not installed: pip install 'dubkit[hf]')"
    import torch

    if not torch.cuda.is_available():
        return "none (the gpu preset would run on the CPU, slowly)"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return click.style("ok", fg="green") + "  " + ", ".join(names)


def _ok(flag: bool) -> str:
    return click.style("ok", fg="green") if flag else click.style("missing", fg="red")


@click.command()
@click.option("--preset", "asked", default=None, metavar="NAME",
              help="The preset that must be ready (default: the default preset, "
                   f"{DEFAULT_PRESET!r}); the others are reported, not required.")
def doctor(asked: str | None) -> None:
    """Check ffmpeg, Python packages and the models each preset needs. Exits 1 only when
    ffmpeg or something the asked-for preset needs is missing."""
    from dubkit.media.ffmpeg_bin import ffmpeg_path, ffprobe_path

    asked = asked or DEFAULT_PRESET
    presets = available_presets()
    if asked not in presets:
        load_preset(asked)  # a .toml path, or an error naming the presets there are
        presets = {**presets, asked: asked}
    ffmpeg_ok = True
    try:
        click.echo(f"ffmpeg       {_ok(True)}  {ffmpeg_path()}")
    except DubkitError as exc:
        ffmpeg_ok = False
        click.echo(f"ffmpeg       {_ok(False)}  {exc}")
    probe = ffprobe_path()
    click.echo(f"ffprobe      {'ok' if probe else 'not found (ffmpeg is used to probe)'}"
               f"{'  ' + probe if probe else ''}")
    click.echo(f"gpu          {_gpu()}")
    ready = {name: _report(name) for name in presets}
    click.echo("\nready: " + (", ".join(n for n, ok in ready.items() if ok) or "none")
               + "; not ready: " + (", ".join(n for n, ok in ready.items() if not ok) or "none"))
    if not ffmpeg_ok or not ready[asked]:
        why = "ffmpeg is missing" if not ffmpeg_ok else f"preset {asked!r} is not ready"
        click.echo(f"{why} (see above)", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"preset {asked!r} has everything it needs")


def _report(preset_name: str) -> bool:
    """Print what ``preset_name`` needs and whether it is there; True when all of it is."""
    try:
        preset = load_preset(preset_name)
    except DubkitError as exc:
        click.echo(f"\npreset {preset_name}: {exc}")
        return False
    click.echo(f"\npreset {preset_name}")
    ready = True
    for stage, config in preset.stages.items():
        spec = get_spec(stage, config.backend)
        importable = all(importlib.util.find_spec(m) is not None for m in spec.requires)
        line = f"  {stage:<19}{config.backend:<16}"
        if not importable:
            ready = False
            click.echo(f"{line}{_ok(False)}  pip install 'dubkit[{spec.extra}]'")
            continue
        names = model_names(config)
        if not names:
            click.echo(f"{line}{_ok(True)}")
        for name in names:
            status = model_status(name)
            ready = ready and status.available
            where = status.source if status.available else status.detail
            click.echo(f"{line}{_ok(status.available)}  {name}: {where}")
    return ready
