"""mix_dub and duck_envelope: placement, ducking, exact length, no clipping."""
from __future__ import annotations

import numpy as np
import pytest

from dubkit import dsp
from dubkit.errors import InputError
from dubkit.synth.mix import PEAK_CEILING_DBFS, duck_envelope, mix_dub
from dubkit.types import Audio

RATE = 48_000
DUCK = dsp.db_to_gain(-15.0)


def noise(seconds: float, level: float = 0.1, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (int(seconds * RATE),) if channels == 1 else (channels, int(seconds * RATE))
    return (level * rng.uniform(-1, 1, shape)).astype(np.float32)


def click(seconds: float, rate: int, level: float = 0.2) -> Audio:
    """A constant level, so where it was placed reads straight off the mix."""
    x = np.full(int(seconds * rate), level, np.float32)
    return Audio(x, rate)


def test_envelope_levels_and_ramps() -> None:
    gain = duck_envelope(RATE * 4, RATE, [(1.0, 2.0)], duck_db=-15.0, ramp=0.08)
    assert gain.shape == (RATE * 4,) and gain.dtype == np.float32
    assert np.all(gain[: int(0.92 * RATE) - 1] == 1.0)
    assert np.all(gain[int(2.08 * RATE) + 1:] == 1.0)
    assert np.allclose(gain[RATE:2 * RATE], DUCK)  # fully down from the first dubbed sample
    down = gain[int(0.92 * RATE):RATE]
    assert np.all(np.diff(down) <= 0) and np.all(np.diff(gain[2 * RATE:int(2.08 * RATE)]) >= 0)
    assert np.max(np.abs(np.diff(gain))) < 2 * (1 - DUCK) / (0.08 * RATE)  # smooth, no steps


def test_envelope_union_of_spans() -> None:
    overlapping = duck_envelope(RATE * 4, RATE, [(1.0, 2.0), (1.5, 2.5)])
    assert np.allclose(overlapping[RATE:int(2.5 * RATE)], DUCK)
    close = duck_envelope(RATE * 4, RATE, [(1.0, 1.5), (1.6, 2.0)], ramp=0.08)
    saddle = close[int(1.5 * RATE):int(1.6 * RATE)]
    assert saddle.max() < 1.0 and np.max(np.abs(np.diff(close))) < 2 * (1 - DUCK) / (0.08 * RATE)
    edge = duck_envelope(RATE, RATE, [(0.0, 0.5), (0.9, 2.0)])  # spans at both ends
    assert edge[0] == pytest.approx(DUCK) and edge[-1] == pytest.approx(DUCK)
    assert np.all(duck_envelope(100, RATE, []) == 1.0)
    assert np.all(duck_envelope(RATE, RATE, [(0.2, 0.5)], duck_db=0.0) == 1.0)
    hard = duck_envelope(RATE, RATE, [(0.25, 0.5)], ramp=0.0)
    assert hard[int(0.25 * RATE) - 1] == 1.0 and hard[int(0.25 * RATE)] == pytest.approx(DUCK)


def test_mono_mix_places_resampled_clips_and_ducks() -> None:
    original = Audio(noise(3.0), RATE)
    dub = click(0.5, 16_000)  # 16 kHz: resampled to 48 kHz
    out = mix_dub(original, [(1.0, dub)], ramp=0.05)
    assert out.rate == RATE and out.samples.shape == original.samples.shape
    assert out.samples.dtype == np.float32
    diff = out.samples - original.samples
    assert np.allclose(diff[: int(0.94 * RATE)], 0.0)  # before the ramp: untouched
    inside = slice(int(1.1 * RATE), int(1.4 * RATE))
    expected = original.samples[inside] * DUCK + 0.2
    assert np.allclose(out.samples[inside], expected, atol=2e-3)
    assert np.allclose(diff[int(1.56 * RATE):], 0.0)  # after the ramp back up


def test_stereo_gets_the_dub_on_every_channel_and_keeps_its_length() -> None:
    original = Audio(noise(2.0, channels=2), RATE)
    out = mix_dub(original, [(1.5, click(1.0, RATE))])  # runs past the end: cut
    assert out.samples.shape == (2, 2 * RATE)
    tail = out.samples[:, int(1.6 * RATE):]
    assert np.allclose(tail, original.samples[:, int(1.6 * RATE):] * DUCK + 0.2, atol=1e-5)


def test_clips_before_the_start_or_past_the_end() -> None:
    original = Audio(noise(1.0), RATE)
    out = mix_dub(original, [(-0.5, click(1.0, RATE)), (5.0, click(1.0, RATE))])
    assert out.samples.shape == (RATE,)
    assert np.allclose(out.samples[: int(0.4 * RATE)],
                       original.samples[: int(0.4 * RATE)] * DUCK + 0.2, atol=1e-5)
    assert np.allclose(mix_dub(original, []).samples, original.samples)


def test_overlapping_clips_add() -> None:
    original = Audio(np.zeros(RATE, np.float32), RATE)
    out = mix_dub(original, [(0.1, click(0.5, RATE, 0.1)), (0.3, click(0.5, RATE, 0.1))])
    assert out.samples[int(0.4 * RATE)] == pytest.approx(0.2, abs=1e-6)


def test_peaks_are_limited_smoothly_not_clipped() -> None:
    ceiling = dsp.db_to_gain(PEAK_CEILING_DBFS)
    t = np.arange(3 * RATE) / RATE
    original = Audio(np.stack([0.8 * np.sin(2 * np.pi * 200 * t)] * 2).astype(np.float32), RATE)
    speech = dsp.fade(0.9 * np.sin(2 * np.pi * 330 * t[:RATE]), RATE, 0.01, 0.01)
    out = mix_dub(original, [(1.0, Audio(speech, RATE))], duck_db=-3.0)
    assert np.abs(out.samples).max() <= ceiling + 1e-6
    before = original.samples[0] * duck_envelope(3 * RATE, RATE, [(1.0, 2.0)], -3.0)
    before[RATE:2 * RATE] += speech  # the mix as it would be without the limiter
    audible = np.abs(before) > 0.2
    gain = out.samples[0][audible] / before[audible]  # what the limiter applied
    assert gain.max() <= 1.0 + 1e-5 and gain.min() < 0.8
    # It moves slowly (no sample-to-sample jumps as clipping would make) ...
    slope = np.abs(np.diff(gain)) / np.diff(np.flatnonzero(audible))  # per sample
    assert slope.max() < 1 / (0.01 * RATE)  # a full swing takes at least 10 ms
    # ... and leaves the original alone away from the loud part.
    assert np.allclose(out.samples[:, : int(0.5 * RATE)], original.samples[:, : int(0.5 * RATE)])


def test_bad_settings() -> None:
    original = Audio(noise(1.0), RATE)
    with pytest.raises(InputError):
        mix_dub(original, [], duck_db=3.0)
    with pytest.raises(InputError):
        duck_envelope(10, RATE, [], ramp=-1.0)


def test_keep_puts_the_dub_over_the_separated_background_and_passes_the_rest() -> None:
    rng = np.random.default_rng(3)
    music = (0.05 * rng.standard_normal((2, 4 * RATE))).astype(np.float32)
    speech = np.zeros((2, 4 * RATE), np.float32)
    speech[:, int(1.0 * RATE):int(2.5 * RATE)] = 0.2  # the original line, 1.0-2.5 s
    original = Audio(music + speech, RATE)
    out = mix_dub(original, [(1.0, click(1.0, RATE, 0.1))], ramp=0.05, background="keep",
                  separated=Audio(music, RATE), speech_spans=[(1.0, 2.5)])
    assert out.samples.shape == original.samples.shape
    # Where the dub speaks and where the original speech ran on: background only, full level.
    assert np.allclose(out.samples[:, RATE:2 * RATE], music[:, RATE:2 * RATE] + 0.1, atol=1e-6)
    assert np.allclose(out.samples[:, 2 * RATE:int(2.5 * RATE)],
                       music[:, 2 * RATE:int(2.5 * RATE)], atol=1e-6)
    # Away from both (past the crossfades): the original, sample for sample.
    assert np.array_equal(out.samples[:, :int(0.95 * RATE) - 1],
                          original.samples[:, :int(0.95 * RATE) - 1])
    assert np.array_equal(out.samples[:, int(2.55 * RATE) + 1:],
                          original.samples[:, int(2.55 * RATE) + 1:])
    # The switch is a smooth crossfade, not a step.
    fade = out.samples[0, int(0.95 * RATE):RATE] - music[0, int(0.95 * RATE):RATE]
    assert np.all(np.diff(fade) <= 1e-7)  # the 0.2 speech fades out monotonically


def test_drop_leaves_the_dub_alone_and_duck_stays_the_default() -> None:
    original = Audio(noise(2.0, channels=2), RATE)
    out = mix_dub(original, [(0.5, click(0.5, RATE))], background="drop")
    assert out.samples.shape == (2, 2 * RATE)
    assert np.all(out.samples[:, :int(0.5 * RATE)] == 0)
    assert np.allclose(out.samples[:, int(0.5 * RATE):RATE], 0.2)
    assert np.array_equal(mix_dub(original, [(0.5, click(0.5, RATE))]).samples,
                          mix_dub(original, [(0.5, click(0.5, RATE))], background="duck").samples)


def test_background_mode_errors() -> None:
    original = Audio(noise(1.0), RATE)
    with pytest.raises(InputError, match="keep, duck, drop"):
        mix_dub(original, [], background="mute")
    with pytest.raises(InputError, match="separated"):
        mix_dub(original, [], background="keep")
    with pytest.raises(InputError, match="must match"):
        mix_dub(original, [], background="keep", separated=Audio(noise(0.5), RATE))
