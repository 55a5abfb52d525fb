"""The default watermark on real speech: round trip at dubkit's synthesis rates, inaudibility
(signal-to-watermark ratio), keys, gain, stereo mixes, where it was found, and no false alarms."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubkit.dsp import resample
from dubkit.errors import InputError
from dubkit.types import Audio
from dubkit.watermark import DEFAULT_KEY, Payload, SpreadSpectrumWatermarker, key_id

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CLIPS = ["multi_picovoice_leopard/test_es.wav", "multi_picovoice_leopard/test_fr.wav",
         "multi_picovoice_leopard/test_de.wav"]
PAYLOAD = Payload(0xDEADBEEF, 1)


def _speech(name: str) -> Audio:
    """A real clip, 16 kHz mono, peak -6 dBFS."""
    import soundfile as sf

    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (real recordings live in ../shared/data)")
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    return resample(Audio(0.5 * x / np.abs(x).max(), rate), 16_000)


def swr_db(host: np.ndarray, marked: np.ndarray) -> float:
    """Signal-to-watermark ratio in dB."""
    return float(10 * np.log10(np.sum(host**2) / np.sum((marked - host) ** 2)))


@pytest.fixture(scope="module")
def wm():
    return SpreadSpectrumWatermarker()


@pytest.mark.parametrize("rate", [16_000, 22_050, 24_000])
def test_round_trip_at_synthesis_rates(wm, rate):
    host = resample(_speech(CLIPS[0]), rate)
    marked = wm.embed(host, PAYLOAD)
    assert marked.rate == rate and marked.num_samples == host.num_samples
    assert swr_db(host.samples, marked.samples) >= 30.0
    found = wm.detect(marked)
    assert found.found and found.payload == PAYLOAD
    assert found.ranges and found.ranges[0][0] < 1.0 and found.ranges[-1][1] > host.duration - 1
    assert all(0.0 <= a < b <= host.duration for a, b in found.ranges)  # inside the file


@pytest.mark.parametrize("clip", CLIPS)
def test_inaudible_by_signal_to_watermark_ratio(wm, clip):
    host = _speech(clip)
    marked = wm.embed(host, PAYLOAD)
    assert swr_db(host.samples, marked.samples) >= 30.0
    spectrum = np.abs(np.fft.rfft(marked.samples - host.samples))
    freqs = np.fft.rfftfreq(host.num_samples, 1 / host.rate)
    in_band = spectrum[(freqs > 250) & (freqs < 4100)] ** 2
    assert in_band.sum() / (spectrum**2).sum() > 0.97  # confined to the speech band


def test_deterministic_and_keyed(wm):
    host = _speech(CLIPS[1])
    a, b = wm.embed(host, PAYLOAD), wm.embed(host, PAYLOAD)
    np.testing.assert_array_equal(a.samples, b.samples)
    other = SpreadSpectrumWatermarker(key="somebody else's key")
    assert not other.detect(a).found
    assert wm.key_id == key_id(DEFAULT_KEY) and DEFAULT_KEY not in wm.key_id


def test_gain_and_stereo_mixes(wm):
    host = _speech(CLIPS[0])
    marked = wm.embed(host, PAYLOAD)
    for gain in (0.5, 2.0):  # -6 and +6 dB
        assert wm.detect(Audio(np.clip(marked.samples * gain, -1, 1), 16_000)).payload == PAYLOAD
    for rate in (44_100, 48_000):
        up = resample(marked, rate).samples
        stereo = Audio(np.stack([up, 0.8 * up]), rate)
        assert wm.detect(stereo).payload == PAYLOAD


@pytest.mark.parametrize("bed_level", [
    0.0,
    pytest.param(0.003, marks=pytest.mark.xfail(
        reason="known weakness: marks in quiet tiles of pauses are erased by a -50 dB bed",
        strict=False)),
])
def test_long_mix_reports_where(wm, bed_level):
    """Two marked segments in a 30 s track: found, and only around the segments."""
    rng = np.random.default_rng(0)
    seg = [wm.embed(_speech(c), PAYLOAD).samples for c in CLIPS[:2]]
    bed = (bed_level * rng.standard_normal(16_000 * 30)).astype(np.float32)
    bed[16_000 * 2:16_000 * 2 + seg[0].size] += seg[0]
    bed[16_000 * 18:16_000 * 18 + seg[1].size] += seg[1]
    found = wm.detect(Audio(bed, 16_000))
    assert found.found and found.payload == PAYLOAD
    ends = (2 + seg[0].size / 16_000, 18 + seg[1].size / 16_000)  # seconds
    for a, b in found.ranges:
        assert (a < ends[0] and b > 2) or (a < ends[1] and b > 18)
    assert any(a < 12 for a, _ in found.ranges) and any(b > 18 for _, b in found.ranges)


def test_unmarked_speech_and_noise_are_not_flagged(wm):
    rng = np.random.default_rng(3)
    clips = [_speech(c) for c in CLIPS]
    probes = []
    for clip in clips:
        for start in (0.0, 0.7, 1.9):
            probes.append(clip.slice(start, start + 3.5))
    white = rng.standard_normal(16_000 * 4) * 0.1
    pink = np.cumsum(rng.standard_normal(16_000 * 4)) * 0.001
    probes += [Audio(white, 16_000), Audio(pink - pink.mean(), 16_000)]
    scores = [wm.detect(p) for p in probes]
    assert not any(d.found for d in scores)
    assert max(d.score for d in scores) < 5.0


def test_bad_input(wm):
    with pytest.raises(InputError):
        wm.embed(Audio(np.zeros((2, 16_000)), 16_000), PAYLOAD)
    with pytest.raises(InputError):
        SpreadSpectrumWatermarker(key="")
    tiny = Audio(np.zeros(800, np.float32), 16_000)
    assert wm.embed(tiny, PAYLOAD).num_samples == 800
    assert not wm.detect(tiny).found


def test_stationary_hosts_are_not_flagged(wm):
    """Repetitions reuse the period's dithers: a steady host must not add up to a detection."""
    t = np.arange(16_000 * 30) / 16_000
    hum = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((500, 1000, 1500, 2500), 1))
    buzz = np.sign(np.sin(2 * np.pi * 120 * t))  # a harmonic-rich steady buzz
    for x in (0.1 * hum, 0.05 * buzz):
        audio = Audio(x.astype(np.float32), 16_000)
        assert not wm.detect(audio).found
        assert not wm.detect(audio, expected=PAYLOAD).found


def _bus_and_background() -> tuple[np.ndarray, np.ndarray]:
    """A 20 s dub bus (three real lines with pauses) and a noise bed 14 dB under it."""
    rng = np.random.default_rng(1)
    bus = np.zeros(16_000 * 20, np.float32)
    for i, clip in enumerate(CLIPS):
        x = _speech(clip).samples[: 16_000 * 5]
        bus[16_000 * 6 * i + 8_000:16_000 * 6 * i + 8_000 + x.size] += x
    background = np.convolve(rng.standard_normal(bus.size), np.ones(8) / 8, "same")
    background *= 0.2 * np.sqrt(np.mean(bus**2) / np.mean(background**2))  # -14 dB
    return bus, background.astype(np.float32)


def test_dub_marked_over_its_own_background_is_found_in_the_mix(wm):
    """What a dub does: ``mix_dub`` gives the watermark the bed it will go over, and the mark is
    placed so that the finished mix carries it; only the dub bus changes."""
    from dubkit.synth.mix import mix_dub

    bus, background = _bus_and_background()
    lines = [(6.0 * i + 0.5, Audio(bus[16_000 * 6 * i + 8_000:16_000 * 6 * i + 88_000], 16_000))
             for i in range(len(CLIPS))]
    seen = {}

    def mark(dub: Audio, cover: Audio) -> Audio:
        seen["cover"] = cover.samples
        marked = wm.embed(dub, PAYLOAD, cover=cover)
        assert swr_db(dub.samples, marked.samples) >= 30.0
        return marked

    mixed = mix_dub(Audio(background, 16_000), lines, background="drop", mark=mark)
    assert not seen["cover"].any()  # "drop": nothing goes under the dub
    ducked = mix_dub(Audio(background, 16_000), lines, duck_db=-6.0, mark=mark)
    assert seen["cover"].any()
    assert wm.detect(mixed).payload == PAYLOAD
    blind = wm.detect(ducked)
    assert blind.found and blind.payload == PAYLOAD, f"score {blind.score:.1f}"
    assert wm.detect(ducked, expected=PAYLOAD).score > blind.score


def test_cover_must_match_the_speech(wm):
    host = _speech(CLIPS[0])
    with pytest.raises(InputError, match="cover"):
        wm.embed(host, PAYLOAD, cover=Audio(host.samples[:-1], 16_000))


@pytest.mark.xfail(strict=False, reason=(
    "known weakness: noise added after marking, 14 dB under the dub and unknown to the "
    "embedder, leaves the claimed payload at z ~3.6 (threshold ~5.9); a dub's own bed is "
    "handled by marking over it (the test above)"))
def test_noise_added_after_marking(wm):
    """A dub bus marked alone, then noise 14 dB under it: the claimed payload is confirmed over
    the whole file, as ``dubkit verify`` does beside a manifest."""
    bus, background = _bus_and_background()
    marked = wm.embed(Audio(bus, 16_000), PAYLOAD).samples
    found = wm.detect(Audio(marked + background, 16_000), expected=PAYLOAD)
    assert found.found and found.payload == PAYLOAD, f"score {found.score:.1f}"


def test_verify_file_tests_the_manifest_payload(wm, tmp_path):
    import json

    import soundfile as sf

    from dubkit.jobs.provenance import FORMAT, manifest_path
    from dubkit.watermark.verify import verify_file

    host = _speech(CLIPS[0])
    path = tmp_path / "dub.wav"
    sf.write(path, wm.embed(host, PAYLOAD).samples, 16_000)
    record = {"backend": wm.name, "payload": f"{PAYLOAD.job_id:08x}", "format": 1,
              "key_id": wm.key_id}
    manifest_path(path).write_text(json.dumps({"format": FORMAT, "watermark": record}))
    result = verify_file(path, wm)
    assert result.found and result.manifest_checks["payload"] and result.manifest_checks["key"]
    assert result.to_dict()["job_id"] == f"{PAYLOAD.job_id:08x}"
    record["payload"] = "12345678"
    manifest_path(path).write_text(json.dumps({"format": FORMAT, "watermark": record}))
    result = verify_file(path, wm)
    assert result.found and not result.manifest_checks["payload"]
