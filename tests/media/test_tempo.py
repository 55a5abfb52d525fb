"""change_tempo: exact lengths, unchanged pitch."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dubkit.media import change_tempo
from dubkit.media.tempo import atempo_stages
from dubkit.types import Audio


@pytest.mark.parametrize("factor", [1.25, 0.8, 1.07, 3.0, 0.3])
def test_length_is_exact(factor, make_sine):
    audio = make_sine(440, 16000, 1.0)
    out = change_tempo(audio, factor)
    assert out.samples.shape == (round(16000 / factor),)
    assert out.rate == 16000 and out.samples.dtype == np.float32


def test_pitch_is_preserved(make_sine, peak_hz):
    out = change_tempo(make_sine(440, 16000, 2.0), 1.25)
    assert out.duration == pytest.approx(1.6)
    assert peak_hz(out.samples, out.rate) == pytest.approx(440, abs=2)
    # and the level stays: WSOLA moves whole waveform pieces, it does not fade them
    core = out.samples[1000:-1000]
    assert np.sqrt(np.mean(core**2)) == pytest.approx(0.3 / math.sqrt(2), rel=0.1)


def test_multichannel(make_sine, peak_hz):
    left, right = make_sine(440, 22050, 1.0).samples, make_sine(880, 22050, 1.0).samples
    stereo = Audio(np.stack([left, right]), 22050)
    out = change_tempo(stereo, 0.75)
    assert out.samples.shape == (2, round(22050 / 0.75))
    assert peak_hz(out.samples[0], 22050) == pytest.approx(440, abs=2)
    assert peak_hz(out.samples[1], 22050) == pytest.approx(880, abs=2)


def test_identity_and_empty(make_sine):
    audio = make_sine(440, 16000, 0.5)
    assert change_tempo(audio, 1.0) is audio
    empty = Audio(np.zeros(0, dtype=np.float32), 16000)
    assert change_tempo(empty, 1.5).num_samples == 0


def test_bad_factor(make_sine):
    for factor in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="tempo factor"):
            change_tempo(make_sine(440, 16000, 0.1), factor)


@pytest.mark.parametrize("factor", [0.1, 0.3, 0.5, 1.3, 2.0, 5.0, 100.0])
def test_atempo_chain(factor):
    stages = atempo_stages(factor)
    assert math.prod(stages) == pytest.approx(factor)
    assert all(0.5 <= s <= 2.0 for s in stages)
