"""``dubkit diarize``: who spoke when, as RTTM."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from dubkit.analysis.rttm import write_rttm
from dubkit.api import DEFAULT_PRESET, Dubber
from dubkit.errors import InputError, NoSpeech
from dubkit.jobs.atomic import atomic_path


@click.command()
@click.argument("input", type=click.Path(path_type=str))
@click.option("--rttm", "rttm_path", type=click.Path(path_type=Path), default=None,
              help="Write RTTM here (default: stdout).")
@click.option("--num-speakers", type=int, default=None, help="Number of speakers, if known.")
@click.option("--preset", default=DEFAULT_PRESET, show_default=True,
              help="Preset whose VAD and diarization to use.")
def diarize(input: str, rttm_path: Path | None, num_speakers: int | None, preset: str) -> None:
    """Write who spoke when in INPUT as RTTM."""
    result = Dubber(preset=preset).diarize(input, num_speakers=num_speakers)
    if not result.turns:  # as ``translate`` does: an empty RTTM would read as a finding
        raise NoSpeech(f"no speech found in {result.input.name}: nobody to diarize")
    uri = result.input.stem
    if rttm_path is None:
        write_rttm(result.turns, sys.stdout, uri)
        return
    if not rttm_path.parent.is_dir():
        raise InputError(f"folder {rttm_path.parent} does not exist")
    with atomic_path(rttm_path) as tmp:
        write_rttm(result.turns, tmp, uri)
    click.echo(f"{result.num_speakers} speakers, {len(result.turns)} turns -> {rttm_path}",
               err=True)
