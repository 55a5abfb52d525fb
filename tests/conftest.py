"""Fixtures shared by the step tests: the tiny-test preset's backends and a real-signal
conversation of two synthetic voices."""
from __future__ import annotations

import pytest

from dubkit.backends import StageBackends
from dubkit.config import load_preset
from dubkit.testing.signals import two_voices
from dubkit.types import Audio


@pytest.fixture(scope="module")
def backends() -> StageBackends:
    """The tiny-test preset's backends (a module may define its own ``backends``)."""
    return StageBackends(load_preset("tiny-test"))


@pytest.fixture(scope="module")
def voices() -> Audio:
    return two_voices()[0]
