"""``dubkit doctor`` reports every preset and fails only for the one asked about."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from dubkit.cli.main import cli
from dubkit.config import load_preset
from dubkit.models import model_status
from dubkit.registry import model_names


def _ready(name: str) -> bool:
    preset = load_preset(name)
    return all(model_status(m).available for c in preset.stages.values() for m in model_names(c))


def test_a_ready_preset_passes_while_another_is_not_ready():
    result = CliRunner().invoke(cli, ["doctor", "--preset", "tiny-test"])
    assert result.exit_code == 0, result.output
    assert "preset tiny-test" in result.stdout and "preset gpu" in result.stdout
    assert "preset 'tiny-test' has everything it needs" in result.stdout


def test_the_asked_preset_not_ready_fails():
    if _ready("gpu"):
        pytest.skip("the gpu preset's models are installed here")
    result = CliRunner().invoke(cli, ["doctor", "--preset", "gpu"])
    assert result.exit_code == 1
    assert "preset 'gpu' is not ready" in result.stderr
    assert "not ready: gpu" in result.stdout


def test_an_unknown_preset_is_one_line():
    result = CliRunner().invoke(cli, ["doctor", "--preset", "nope"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "nope" in result.stderr
