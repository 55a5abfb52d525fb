"""The default watermark after what happens to a dub: codecs, resampling, gain, mixing under
noise, excerpts, and dubkit's own muxing into MP4. Attacks run through dubkit.media.transcode.

Attacks the current design does not survive at >= 30 dB signal-to-watermark ratio are marked
xfail (not strict) with the reason, so the suite records them without hiding them. Each attack is
checked blind (payload read from the audio) and for the claimed payload (the manifest's job id).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubkit.dsp import resample
from dubkit.testing.signals import chord_with_beat, mixed_under
from dubkit.types import Audio
from dubkit.watermark import Payload, SpreadSpectrumWatermarker

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CLIP = DATA / "multi_picovoice_leopard" / "test_es.wav"  # 8.7 s of dense read speech
PAYLOAD = Payload(0x0BADF00D, 1)


def _ffmpeg_or_skip() -> None:
    from dubkit.errors import MediaError
    from dubkit.media.ffmpeg_bin import ffmpeg_path

    try:
        ffmpeg_path()
    except MediaError as e:
        pytest.skip(f"no ffmpeg: {e}")


@pytest.fixture(scope="module")
def marked():
    """(watermarker, host, marked) at 24 kHz, as Kokoro synthesizes."""
    import soundfile as sf

    if not CLIP.is_file():
        pytest.skip(f"{CLIP} is absent (real recordings live in ../shared/data)")
    x, rate = sf.read(CLIP, dtype="float32")
    host = resample(Audio(0.5 * x / np.abs(x).max(), rate), 24_000)
    wm = SpreadSpectrumWatermarker()
    return wm, host, wm.embed(host, PAYLOAD)


def _weak(reason: str):
    return pytest.mark.xfail(reason=reason, strict=False)


ATTACKS = [
    pytest.param("resample 48k-16k-48k", id="resample"),
    pytest.param("gain -6 dB", id="gain-6"),
    pytest.param("gain +6 dB", id="gain+6"),
    pytest.param("aac in mp4 (mux_dub)", id="video"),
    pytest.param("mp3 64k", id="mp3"),
    pytest.param("aac 64k", id="aac64", marks=_weak(
        "AAC 64k on a clip this short (8.7 s, 3 periods): z ~3-5 for 54 sync bits; a 30 s "
        "file passes (test_a_dub_length_file_survives_64k)")),
    pytest.param("opus 24k", id="opus", marks=_weak(
        "Opus 24k reshapes band energies: scores at the null level")),
    pytest.param("white noise -10 dB", id="noise",
                 marks=_weak("noise at -10 dB swamps the tiles the mark lives in")),
    pytest.param("music -10 dB", id="music",
                 marks=_weak("music at -10 dB swamps the tiles the mark lives in")),
]
CLAIMED = [
    pytest.param("mp3 64k", id="mp3"),
    pytest.param("aac 64k", id="aac64", marks=_weak(
        "AAC 64k: claimed payload confirmed on 6/12 benchmark clips, not on this one")),
    pytest.param("opus 24k", id="opus", marks=_weak(
        "Opus 24k: even the claimed payload's 100 known bits score at the null level")),
    pytest.param("white noise -10 dB", id="noise", marks=_weak(
        "noise at -10 dB: the claimed payload scores at the null level")),
    pytest.param("music -10 dB", id="music", marks=_weak(
        "music at -10 dB: the claimed payload scores at the null level")),
]


def _attack(audio: Audio, attack: str) -> Audio:
    from dubkit.media import transcode

    rng = np.random.default_rng(0)
    if attack.startswith(("aac", "mp3", "opus", "resample")):
        _ffmpeg_or_skip()
    if attack == "resample 48k-16k-48k":
        out = transcode.resample_chain(resample(audio, 48_000), [16_000, 48_000])
    elif attack.startswith("gain"):
        out = Audio(np.clip(audio.samples * (0.5 if "-" in attack else 2.0), -1, 1), audio.rate)
    elif attack == "aac in mp4 (mux_dub)":
        _ffmpeg_or_skip()
        out = transcode.video_round_trip(audio)
    elif attack.endswith("k"):
        codec, rate = attack.split()
        out = transcode.codec_round_trip(audio, codec, int(rate[:-1]))
    elif attack.startswith("white"):
        out = mixed_under(audio, rng.standard_normal(audio.num_samples), 10)
    else:
        out = mixed_under(audio, chord_with_beat(audio.num_samples, audio.rate), 10)
    return out


@pytest.mark.parametrize("attack", ATTACKS)
def test_survives(marked, attack):
    wm, _, audio = marked
    found = wm.detect(_attack(audio, attack))
    assert found.found and found.payload == PAYLOAD, f"{attack}: score {found.score:.1f}"


@pytest.mark.parametrize("attack", CLAIMED)
def test_claimed_payload_survives(marked, attack):
    wm, _, audio = marked
    found = wm.detect(_attack(audio, attack), expected=PAYLOAD)
    assert found.found and found.payload == PAYLOAD, f"{attack}: score {found.score:.1f}"


def test_a_wrong_claim_is_not_confirmed(marked):
    wm, host, audio = marked
    for other in (Payload(0x0BADF00C, 1), Payload(0x12345678, 1)):
        found = wm.detect(audio, expected=other)
        assert found.payload != other
    assert not wm.detect(host, expected=PAYLOAD).found


@pytest.mark.parametrize("start", [0.4, 2.5, 5.1])
def test_any_3s_excerpt(marked, start):
    wm, _, audio = marked
    excerpt = audio.slice(start, start + 3.0)
    found = wm.detect(excerpt)
    assert found.found and found.payload in (PAYLOAD, None), f"score {found.score:.1f}"
    claimed = wm.detect(excerpt, expected=PAYLOAD)
    assert claimed.found and claimed.payload == PAYLOAD, f"claimed: score {claimed.score:.1f}"


def test_unmarked_after_the_same_attacks_is_not_flagged(marked):
    from dubkit.media import transcode

    _ffmpeg_or_skip()
    wm, host, _ = marked
    for out in (transcode.codec_round_trip(host, "aac", 64), transcode.video_round_trip(host),
                transcode.codec_round_trip(host, "mp3", 64)):
        assert not wm.detect(out).found
        assert not wm.detect(out, expected=PAYLOAD).found


@pytest.fixture(scope="module")
def long_marked():
    """(watermarker, marked) for 30 s of the Leopard clips joined, as long as a short dub: a
    dub bus is one long mark, and the detector adds up its evidence over the whole file."""
    import soundfile as sf

    clips = sorted((DATA / "multi_picovoice_leopard").glob("*.wav"))
    if len(clips) < 4:
        pytest.skip(f"{DATA / 'multi_picovoice_leopard'} is absent (real recordings live in "
                    "../shared/data)")
    parts = []
    for path in clips:
        x, rate = sf.read(path, dtype="float32", always_2d=True)
        x = resample(Audio(x.mean(axis=1), rate), 24_000).samples
        parts += [0.5 * x / np.abs(x).max(), np.zeros(7_200, np.float32)]
    host = Audio(np.concatenate(parts)[: 30 * 24_000], 24_000)
    wm = SpreadSpectrumWatermarker()
    return wm, wm.embed(host, PAYLOAD)


@pytest.mark.parametrize("codec", ["mp3", "aac"])
def test_a_dub_length_file_survives_64k(long_marked, codec):
    from dubkit.media import transcode

    _ffmpeg_or_skip()
    wm, audio = long_marked
    found = wm.detect(transcode.codec_round_trip(audio, codec, 64))
    assert found.found and found.payload == PAYLOAD, f"{codec} 64k: score {found.score:.1f}"
