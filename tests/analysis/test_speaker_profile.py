"""Speaker profiles: log-F0 statistics, long-term envelope, embedding, stored form."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dubkit.analysis.speaker_profile import (
    ENVELOPE_BANDS,
    ENVELOPE_GRID,
    SpeakerProfile,
    build_speaker_profile,
)
from dubkit.errors import InputError
from dubkit.models import model_status, resolve_model
from dubkit.testing.signals import high_voice, low_voice
from dubkit.types import Audio

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000


def test_statistics_of_a_low_and_a_high_voice() -> None:
    low = build_speaker_profile([Audio(low_voice(3.0, seed=s), RATE) for s in (1, 2)], "A")
    high = build_speaker_profile([Audio(high_voice(3.0, seed=3), RATE)], "B")
    assert low.median_f0 == pytest.approx(110, rel=0.08)
    assert high.median_f0 == pytest.approx(220, rel=0.08)
    assert 0.02 <= low.log_f0_std < 0.15  # +-8 % intonation
    assert low.envelope.shape == (ENVELOPE_BANDS,) and ENVELOPE_GRID[-1] < RATE / 2
    assert low.speech_seconds == pytest.approx(6.0) and low.speech.rate == RATE
    assert low.embedding is None
    # Formants 20 % higher: B's envelope is A's read at f / 1.2, near enough.
    from dubkit.synth.convert import best_warp

    assert best_warp(low.envelope, high.envelope) == pytest.approx(1.2, abs=0.06)


def test_round_trip_leaves_out_the_speech() -> None:
    p = build_speaker_profile([Audio(low_voice(2.0, seed=4), RATE)], "A",
                              embedder=_FakeEmbedder())
    d = json.loads(json.dumps(p.to_dict()))
    assert "speech" not in d
    q = SpeakerProfile.from_dict(d)
    assert q.speech is None and q.speaker == "A"
    np.testing.assert_allclose(q.envelope, p.envelope, atol=0.006)
    np.testing.assert_allclose(q.embedding, p.embedding, atol=1e-5)
    assert q.log_f0_mean == pytest.approx(p.log_f0_mean, abs=1e-5)
    with pytest.raises(InputError, match="bands"):
        SpeakerProfile.from_dict({**d, "envelope": [0.0] * 10})


def test_too_little_speech_is_an_input_error() -> None:
    with pytest.raises(InputError, match="at least"):
        build_speaker_profile([Audio(low_voice(0.5, seed=5), RATE)], "A")
    with pytest.raises(InputError, match="voiced"):
        build_speaker_profile([Audio.silence(2.0, RATE)], "A")


def test_real_speakers_differ() -> None:
    path = DATA / "diar_pyannote_sample" / "sample.stm"
    if not path.is_file():
        pytest.skip(f"shared recordings not found at {path.parent}")
    if not model_status("resemblyzer").available:
        pytest.skip("model resemblyzer not available: pip install resemblyzer==0.1.4")
    import soundfile as sf

    from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder

    x, rate = sf.read(path.with_suffix(".wav"), dtype="float32")
    audio = Audio(x, rate)
    lines: dict[str, list[Audio]] = {}
    for row in path.read_text().splitlines():
        _, _, who, a, b, _ = row.split(maxsplit=5)
        lines.setdefault(who, []).append(audio.slice(float(a), float(b)))
    embedder = ResemblyzerEmbedder(resolve_model("resemblyzer").path)
    diane = build_speaker_profile(lines["Diane"], "Diane", embedder)
    sheila = build_speaker_profile(lines["Sheila"], "Sheila", embedder)
    assert 120 < diane.median_f0 < 300 and 120 < sheila.median_f0 < 300  # two women
    held_out = embedder.embed(lines["Sheila"][-1])
    assert float(held_out @ sheila.embedding) > float(held_out @ diane.embedding)


class _FakeEmbedder:
    name, dim = "fake", 4

    def embed(self, audio: Audio) -> np.ndarray:
        v = np.array([audio.duration, 1.0, 0.5, 0.25], np.float32)
        return v / np.linalg.norm(v)
