"""SileroVad: real speech against references, quiet recordings, exact streaming, edge cases."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit import dsp
from dubkit.analysis.rttm import read_rttm
from dubkit.errors import InputError, ModelUnavailable
from dubkit.models import model_status, resolve_model
from dubkit.types import Audio, SpeechRegion

pytest.importorskip("onnxruntime", reason="SileroVad runs on onnxruntime")
from dubkit.analysis.silero_vad import SileroVad  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RATE = 16_000


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    status = model_status("silero-vad")
    if not status.available:
        pytest.skip(f"silero-vad model not available: {status.detail}")
    return SileroVad(resolve_model("silero-vad").path)


def load(relative: str) -> Audio:
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"shared recordings not found at {DATA.resolve()}")
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    return dsp.resample(Audio(x.T, rate).mono(), RATE)


def covered(regions: list[SpeechRegion], start: float, end: float) -> float:
    """Seconds of [start, end] inside the regions."""
    return sum(max(0.0, min(end, r.end) - max(start, r.start)) for r in regions)


def feed_in_chunks(vad: SileroVad, audio: Audio, sizes: list[int]) -> list[SpeechRegion]:
    stream = vad.stream()
    out, i, k = [], 0, 0
    while i < audio.num_samples:
        n = sizes[k % len(sizes)]
        out += stream.feed(Audio(audio.samples[i:i + n], audio.rate))
        i, k = i + n, k + 1
    return out + stream.flush()


@pytest.mark.parametrize("folder, name", [("diar_pyannote_sample", "sample"),
                                          ("diar_picovoice_falcon", "test")])
def test_real_speech_against_reference(vad: SileroVad, folder: str, name: str) -> None:
    audio = load(f"{folder}/{name}.wav")
    reference = read_rttm(DATA / folder / f"{name}.rttm")[name]
    regions = vad.detect(audio)
    assert all(a.end <= b.start for a, b in zip(regions, regions[1:]))
    speech = sum(t.duration for t in reference)
    missed = sum(t.duration - covered(regions, t.start, t.end) for t in reference)
    found = sum(r.duration for r in regions)
    assert missed / speech < 0.02  # measured 0.03 s and 0 s
    assert found - (speech - missed) < 1.0  # measured below 0.5 s (the pyannote one overlaps)


def test_chunked_equals_whole_real_speech(vad: SileroVad) -> None:
    audio = load("diar_picovoice_falcon/test.wav")
    whole = feed_in_chunks(vad, audio, [audio.num_samples])
    assert len(whole) == 3
    for sizes in ([512], [1600], [16_000], [7, 4000, 333, 16_001, 1]):
        assert feed_in_chunks(vad, audio, sizes) == whole


def test_chunked_equals_whole_quiet_speech(vad: SileroVad) -> None:
    audio = load("fleurs_asr/fleurs-en-004.ogg")  # peak -49 dBFS: the running gain is at work
    whole = feed_in_chunks(vad, audio, [audio.num_samples])
    assert whole
    for sizes in ([5000], [511, 513, 20_000]):
        assert feed_in_chunks(vad, audio, sizes) == whole


@pytest.mark.parametrize("relative", ["fleurs_asr/fleurs-en-002.ogg",  # peak -45 dBFS
                                      "fleurs_asr/fleurs-en-004.ogg",  # peak -49 dBFS, noisy
                                      "fleurs_asr/fleurs-fr-000.ogg"])  # peak -48 dBFS
def test_quiet_recordings(vad: SileroVad, relative: str) -> None:
    audio = load(relative)
    regions = vad.detect(audio)
    assert sum(r.duration for r in regions) > 0.5 * audio.duration
    louder = vad.detect(Audio(dsp.normalize_peak(audio.samples, -1.0), RATE))
    assert sum(r.duration for r in regions) == pytest.approx(
        sum(r.duration for r in louder), rel=0.1)


def test_running_gain_finds_more_of_quiet_speech(vad: SileroVad) -> None:
    audio = load("en_jfk/jfk.flac")
    quiet = Audio(dsp.normalize_peak(audio.samples, -45.0), RATE)
    raw = SileroVad(vad.model_file, normalize=False).detect(quiet)
    gained = vad.detect(quiet)
    loud = vad.detect(audio)
    total = lambda rs: sum(r.duration for r in rs)  # noqa: E731
    assert total(raw) < 0.8 * total(loud)  # without the gain the model loses much of it
    assert total(gained) == pytest.approx(total(loud), rel=0.05)


def test_room_noise_before_the_first_word_is_not_speech(vad: SileroVad) -> None:
    # AMI trn04 opens with 14 s of far-field room noise. A stream lifts it to full scale until
    # speech comes and calls much of it speech; detect gives it the gain of the speech after it.
    audio = load("diar_ami_excerpts/trn04.wav").slice(0.0, 30.0)
    reference = read_rttm(DATA / "diar_ami_excerpts" / "reference.rttm")["trn04"]
    first_word = min(t.start for t in reference)
    assert first_word > 14.0
    streamed = feed_in_chunks(vad, audio, [16_000])
    assert covered(streamed, 0.0, first_word) > 3.0  # measured 6.3 s: what detect avoids
    regions = vad.detect(audio)
    assert covered(regions, 0.0, first_word) < 0.5  # measured 0.06 s
    speech = [t for t in reference if t.end <= 30.0]
    found = sum(covered(regions, t.start, t.end) for t in speech)
    assert found > 0.8 * sum(t.duration for t in speech)  # measured 85 % (overlaps counted twice)


def test_silence_and_noise_give_nothing(vad: SileroVad) -> None:
    assert vad.detect(Audio(np.zeros(3 * RATE, np.float32), RATE)) == []
    assert vad.detect(Audio(np.zeros(0, np.float32), RATE)) == []
    assert vad.detect(Audio(np.zeros(100, np.float32), RATE)) == []  # shorter than a frame
    noise = np.random.default_rng(0).standard_normal(3 * RATE).astype(np.float32) * 0.001
    assert vad.detect(Audio(noise, RATE)) == []  # raised to -6 dBFS peak by the gain, still noise


def test_stream_reports_before_flush_and_resets(vad: SileroVad) -> None:
    audio = load("diar_picovoice_falcon/test.wav")
    whole = feed_in_chunks(vad, audio, [audio.num_samples])
    stream = vad.stream()
    early = stream.feed(audio.slice(0.0, 6.0))
    assert early == whole[:1]  # the first region closed long before 6 s
    rest = stream.feed(audio.slice(6.0, audio.duration)) + stream.flush()
    assert early + rest == whole
    with pytest.raises(InputError):
        stream.feed(audio)  # flushed
    assert stream.flush() == []
    stream.reset()
    assert stream.feed(audio) + stream.flush() == whole
    with pytest.raises(InputError):
        stream.feed_whole(audio.samples)  # the whole recording needs a fresh stream
    stream.reset()
    assert stream.feed_whole(audio.samples) == vad.detect(audio)


def test_rates_channels_and_options(vad: SileroVad) -> None:
    audio = load("diar_picovoice_falcon/test.wav").slice(0.0, 5.0)
    at_48k = dsp.resample(Audio(np.stack([audio.samples, audio.samples]), RATE), 48_000)
    resampled, direct = vad.detect(at_48k), vad.detect(audio)
    assert len(resampled) == len(direct) == 1
    assert resampled[0].start == pytest.approx(direct[0].start, abs=0.1)  # 2 frames
    assert resampled[0].end == pytest.approx(direct[0].end, abs=0.1)
    with pytest.raises(InputError):
        vad.stream().feed(at_48k)  # the stream takes 16 kHz only
    for bad in (dict(threshold=0.0), dict(threshold=1.0), dict(min_speech=-1),
                dict(min_silence=-0.1), dict(padding=-1)):
        with pytest.raises(InputError):
            SileroVad(vad.model_file, **bad)
    with pytest.raises(ModelUnavailable):
        SileroVad(Path("/nonexistent/silero"))
    assert SileroVad(vad.model_file.parent).name == "silero"
    wide = SileroVad(vad.model_file, min_silence=2.0).detect(load("diar_picovoice_falcon/test.wav"))
    assert len(wide) < 3  # longer pauses needed to split
