"""Voice conversion toward a speaker profile, with prosody transfer: WORLD and kNN backends."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubkit.analysis.pitch import f0_contour
from dubkit.analysis.prosody import extract_prosody, loudness
from dubkit.analysis.speaker_profile import build_speaker_profile
from dubkit.errors import InputError
from dubkit.models import model_status, resolve_model
from dubkit.synth.convert import PEAK, VoiceConverter, WorldVoiceConverter, clean_f0
from dubkit.testing.signals import high_voice, low_voice
from dubkit.types import Audio

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000
DUB_RATE = 22_050


@pytest.fixture(scope="module")
def high_profile():
    return build_speaker_profile([Audio(high_voice(4.0, seed=s), RATE) for s in (1, 2)], "B")


@pytest.fixture(scope="module")
def dub() -> Audio:
    return Audio(low_voice(2.0, seed=7, rate=DUB_RATE), DUB_RATE)


def voiced_f0(audio: Audio) -> np.ndarray:
    _, f0 = f0_contour(audio)
    return f0[f0 > 0]


def test_world_moves_pitch_and_formants_and_keeps_length_and_level(high_profile, dub) -> None:
    conv: VoiceConverter = WorldVoiceConverter()
    out = conv.convert(dub, high_profile)
    assert out.rate == DUB_RATE and abs(out.num_samples - dub.num_samples) < DUB_RATE * 0.01
    assert np.median(voiced_f0(out)) == pytest.approx(220, rel=0.1)
    assert conv.last_warp == pytest.approx(1.2, abs=0.06)
    assert np.abs(out.samples).max() <= PEAK
    assert loudness(out) == pytest.approx(loudness(dub), abs=1.0)


def test_world_transfers_a_rising_contour_loudness_and_a_pause(high_profile, dub) -> None:
    src = Audio(_pitch_glide(2.9, 170.0, 300.0, pause=(1.0, 0.5)), RATE)  # rises, pauses
    prosody = extract_prosody(src)
    assert len(prosody.pauses) == 1
    gap = Audio(np.concatenate([dub.samples[: DUB_RATE], np.zeros(int(0.06 * DUB_RATE)),
                                dub.samples[DUB_RATE:]]), DUB_RATE)
    out = WorldVoiceConverter().convert(gap, high_profile, prosody)
    assert out.duration > gap.duration + 0.15  # the gap grew...
    pauses = extract_prosody(out).pauses
    assert max(p.duration for p in pauses) == pytest.approx(0.5, abs=0.1)  # ...to the pause
    _, f0 = f0_contour(out)
    v = f0[f0 > 0]
    third = v.shape[0] // 3
    assert v[-third:].mean() > 1.3 * v[:third].mean()  # the source rose, the dub rises
    assert loudness(out) == pytest.approx(prosody.loudness, abs=1.0)
    flat = WorldVoiceConverter(prosody_weight=0.0, transfer_pauses=False)
    _, f0_flat = f0_contour(flat.convert(gap, high_profile, prosody))
    w = f0_flat[f0_flat > 0]
    assert w[-third:].mean() < 1.15 * w[:third].mean()


def test_world_leaves_unvoiced_input_unvoiced(high_profile) -> None:
    noise = np.random.default_rng(0).standard_normal(DUB_RATE).astype(np.float32) * 0.05
    out = WorldVoiceConverter().convert(Audio(noise, DUB_RATE), high_profile)
    assert (f0_contour(out)[1] > 0).mean() < 0.1  # no buzz from noise
    silent = WorldVoiceConverter().convert(Audio.silence(0.5, DUB_RATE), high_profile)
    assert not silent.samples.any() and silent.num_samples == int(0.5 * DUB_RATE)
    with pytest.raises(InputError):
        WorldVoiceConverter(prosody_weight=1.5)


def test_clean_f0_drops_short_islands_and_single_frame_jumps() -> None:
    f0 = np.array([0, 0, 200, 0, 0] + [100] * 4 + [200] + [100] * 4 + [0], float)
    out = clean_f0(f0)
    assert out[2] == 0 and out[9] == 100 and (out[5:14] == 100).all()


def test_world_brings_a_stock_voice_closer_to_a_real_speaker() -> None:
    stm = DATA / "diar_pyannote_sample" / "sample.stm"
    if not stm.is_file():
        pytest.skip(f"shared recordings not found at {stm.parent}")
    for name in ("resemblyzer", "piper-en-us-joe"):
        if not model_status(name).available:
            pytest.skip(f"model {name} not available: {model_status(name).detail}")
    import soundfile as sf

    from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder
    from dubkit.synth.piper import PiperSynthesizer

    x, rate = sf.read(stm.with_suffix(".wav"), dtype="float32")
    rows = [r.split(maxsplit=5) for r in stm.read_text().splitlines()]
    lines = [(Audio(x, rate).slice(float(r[3]), float(r[4])), r[5]) for r in rows
             if r[2] == "Sheila"]
    embedder = ResemblyzerEmbedder(resolve_model("resemblyzer").path)
    profile = build_speaker_profile([a for a, _ in lines], "Sheila", embedder)
    piper = PiperSynthesizer(resolve_model("piper-en-us-joe").path)
    source, text = max(lines, key=lambda line: line[0].duration)
    stock = piper.synthesize(text, "en", piper.voices[0])
    out = WorldVoiceConverter().convert(stock, profile, extract_prosody(source))
    before = float(embedder.embed(stock) @ profile.embedding)
    after = float(embedder.embed(out) @ profile.embedding)
    assert after > before + 0.05, (before, after)


def _pitch_glide(seconds: float, start_hz: float, end_hz: float,
                 pause: tuple[float, float]) -> np.ndarray:
    """A vowel-like tone gliding up, with a silent ``pause`` (start, length) cut into it."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(start_hz + (end_hz - start_hz) * t / seconds) / RATE
    x = sum(np.sin(k * phase) / k ** 1.2 for k in range(1, 20))
    x *= 0.3 + 0.7 * np.sin(np.pi * 3 * t) ** 2
    a, b = int(pause[0] * RATE), int((pause[0] + pause[1]) * RATE)
    x[a:b] = 0.0
    return (0.3 * x / np.abs(x).max()).astype(np.float32)
