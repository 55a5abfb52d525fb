"""Damaged input: headers that lie about length or rate, samples no recording holds."""
from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit.errors import MediaError
from dubkit.media import decode_audio, iter_audio, mux_dub, probe, real_duration
from dubkit.media.ffmpeg_bin import run_ffmpeg

TEN_HOURS = 36_000.0  # seconds


def _declare_duration(src: Path, dst: Path, seconds: float) -> Path:
    """A copy of the Matroska file ``src`` whose Segment Duration element claims ``seconds``
    (the element is ID 0x4489, an 8-byte float in milliseconds as ffmpeg writes it)."""
    data = bytearray(src.read_bytes())
    at = data.find(b"\x44\x89\x88")
    assert at > 0, "no 8-byte Duration element: the muxer changed"
    data[at + 3:at + 11] = struct.pack(">d", seconds * 1000)
    dst.write_bytes(bytes(data))
    return dst


@pytest.fixture(scope="module")
def ten_hour_mkv(tmp_path_factory) -> Path:
    """A 2 s H.264 + AAC Matroska file (a few KB) whose header declares ten hours."""
    d = tmp_path_factory.mktemp("lying")
    real = d / "real.mkv"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=green:s=64x48:r=10:d=2",
                "-f", "lavfi", "-i", "sine=f=440:r=48000:d=2",
                "-c:v", "libx264", "-c:a", "aac", str(real)])
    return _declare_duration(real, d / "ten_hours.mkv", TEN_HOURS)


def test_declared_duration_is_not_trusted(ten_hour_mkv):
    info = probe(ten_hour_mkv)
    assert info.duration == TEN_HOURS  # the header's claim, as probed
    assert real_duration(info) == pytest.approx(2.0, abs=0.1)  # what the packets hold
    # audio-only files that decode far short of their header are reported (as truncated)


def test_mux_of_a_lying_file_stays_small(ten_hour_mkv, tmp_path):
    """mux_dub in a child limited to 2 GiB of address space: padding the dub to the declared
    ten hours (11.8 GiB of float32 stereo at 48 kHz) cannot even start there."""
    out = tmp_path / "dubbed.mkv"
    script = textwrap.dedent(f"""
        import numpy as np
        from dubkit.media import decode_audio, mux_dub
        from dubkit.types import Audio
        dub = Audio(np.zeros((2, 96000), np.float32), 48000)
        info = mux_dub({str(ten_hour_mkv)!r}, dub, {str(out)!r}, "es", "en")
        print(decode_audio({str(out)!r}).num_samples, info.duration)
    """)
    limit = 2 << 30  # bytes

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, preexec_fn=cap,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    samples, duration = proc.stdout.split()
    # 2 s: the source's real end, plus at most 0.1 s of AAC priming and padding; not 10 h
    assert 96000 <= int(samples) <= 96000 + 4800
    assert float(duration) == pytest.approx(2.0, abs=0.15)
    assert out.stat().st_size < 1_000_000


def test_timestamps_far_beyond_the_bytes_are_refused(tmp_path, make_sine):
    """A tiny silent video whose frames jump ten hours ahead: padding a dub to it would take
    gigabytes, out of all proportion to the file."""
    gap = tmp_path / "gap.mkv"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=red:s=64x48:r=10:d=1",
                "-vf", f"setpts='if(gte(N,5),PTS+{TEN_HOURS}/TB,PTS)'", "-fps_mode", "vfr",
                "-c:v", "libx264", str(gap)])
    assert real_duration(probe(gap)) > TEN_HOURS
    with pytest.raises(MediaError, match=r"gap.mkv claims to last 3600\d s, more than its \d+ "
                                         r"bytes can hold; its timestamps are damaged"):
        mux_dub(gap, make_sine(330, 48000, 1.0), tmp_path / "o.mkv", "es", "en")
    assert not (tmp_path / "o.mkv").exists()


def test_header_sample_rate_of_one_hertz(tmp_path):
    """Resampling a WAV that declares 1 Hz to 16 kHz would multiply it 16,000 times."""
    good = tmp_path / "good.wav"
    sf.write(good, np.zeros(32000, np.float32), 16000, subtype="PCM_16")
    data = bytearray(good.read_bytes())
    data[24:32] = struct.pack("<II", 1, 2)  # fmt chunk: sample rate, byte rate
    bad = tmp_path / "one_hertz.wav"
    bad.write_bytes(bytes(data))
    assert probe(bad).audio_streams[0].sample_rate == 1
    with pytest.raises(MediaError, match=r"one_hertz.wav declares a sample rate of 1 Hz .*damaged"):
        decode_audio(bad, rate=16000, mono=True)
    with pytest.raises(MediaError, match="declares a sample rate of 1 Hz"):
        next(iter_audio(bad, rate=16000, chunk_seconds=1.0))


@pytest.mark.parametrize("value,message", [
    (np.nan, "contains NaN/Inf samples; it is damaged"),
    (np.inf, "contains NaN/Inf samples; it is damaged"),
    (-np.inf, "contains NaN/Inf samples; it is damaged"),
    (3e30, r"contains samples \S+ times full scale; it is damaged"),
])
def test_impossible_samples(tmp_path, value, message):
    samples = (0.1 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    samples[12345] = value
    path = tmp_path / "float.wav"
    sf.write(path, samples, 16000, subtype="FLOAT")
    with pytest.raises(MediaError, match=f"float.wav {message}"):
        decode_audio(path)
    with pytest.raises(MediaError, match=message):
        decode_audio(path, rate=8000, mono=True)  # resampled: still caught
    with pytest.raises(MediaError, match=message):
        list(iter_audio(path, rate=16000, chunk_seconds=0.25))


def test_loud_but_real_float_audio_passes(tmp_path):
    path = tmp_path / "hot.wav"
    sf.write(path, np.full(1600, 4.0, np.float32), 16000, subtype="FLOAT")  # +12 dB over full
    assert decode_audio(path).samples.max() == pytest.approx(4.0)
