"""Small media files made with ffmpeg's lavfi sources, once per test session."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from dubkit.media.ffmpeg_bin import run_ffmpeg
from dubkit.types import Audio

DURATION = 2.0  # seconds, of every generated file


def _tone(freq: int, rate: int, layout: str = "mono") -> list[str]:
    """lavfi input args: a sine of ``freq`` Hz, ``DURATION`` long."""
    mix = "" if layout == "mono" else f",aformat=channel_layouts={layout}"
    return ["-f", "lavfi", "-i", f"sine=f={freq}:r={rate}:d={DURATION}{mix}"]


def _picture(size: str = "160x90", rate: int = 10) -> list[str]:
    return ["-f", "lavfi", "-i", f"color=c=0x336699:s={size}:r={rate}:d={DURATION}"]




def _make(path: Path, args: list[str]) -> Path:
    run_ffmpeg(["-y", *args, str(path)])
    return path


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> path of a generated file (see the table in this fixture)."""
    d = tmp_path_factory.mktemp("media")
    # a cover image as a file: from a lavfi input the muxer would stop when the picture ends
    cover = ["-i", str(_make(d / "cover.png", ["-f", "lavfi", "-i", "color=c=red:s=64x64",
                                                "-frames:v", "1"]))]
    files = {
        # audio-only, one per container
        "wav": _make(d / "tone.wav", _tone(440, 16000)),
        "flac": _make(d / "tone.flac", _tone(440, 44100, "stereo")),
        "ogg": _make(d / "tone.ogg", _tone(440, 48000) + ["-c:a", "libvorbis"]),
        # mp3 / m4a with cover art: an MJPEG "video" stream that is an attached picture
        "mp3": _make(d / "tone.mp3", _tone(440, 44100, "stereo") + cover + [
            "-map", "0:a", "-map", "1:v", "-c:v", "mjpeg",
            "-disposition:v", "attached_pic", "-c:a", "libmp3lame", "-b:a", "128k"]),
        "m4a": _make(d / "tone.m4a", _tone(440, 44100) + cover + [
            "-map", "0:a", "-map", "1:v", "-c:v", "mjpeg",
            "-disposition:v", "attached_pic", "-c:a", "aac"]),
        # video: H.264 + two AAC tracks tagged eng / fre (moov at the end, as ffmpeg writes)
        "mp4": _make(d / "video.mp4", _picture() + _tone(440, 44100) + _tone(660, 22050) + [
            "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac",
            "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fre"]),
        # H.264 + stereo AAC (jpn) + a German SRT subtitle stream
        "mkv": _make(d / "video.mkv", _picture() + _tone(440, 48000, "stereo") + [
            "-f", "srt", "-i", str(_write_srt(d / "sub.srt")),
            "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac",
            "-c:s", "srt", "-metadata:s:a:0", "language=jpn", "-metadata:s:s:0", "language=ger"]),
        "webm": _make(d / "video.webm", _picture() + _tone(440, 48000) + [
            "-c:v", "libvpx", "-b:v", "100k", "-c:a", "libopus",
            "-metadata:s:a:0", "language=spa"]),
        "mov": _make(d / "video.mov", _picture() + _tone(440, 48000) + [
            "-c:v", "mpeg4", "-c:a", "aac", "-metadata:s:a:0", "language=eng"]),
        "silent_mp4": _make(d / "silent.mp4", _picture() + ["-c:v", "libx264"]),
        # moov atom first: cutting it leaves a readable header over missing packets
        "faststart_mp4": _make(d / "faststart.mp4", _picture() + _tone(440, 44100) + [
            "-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"]),
    }
    for f in files.values():
        os.chmod(f, 0o444)  # tests must never write their inputs
    return files


def _write_srt(path: Path) -> Path:
    path.write_text("1\n00:00:00,500 --> 00:00:01,500\nHallo\n", encoding="utf-8")
    return path


# Helpers are handed out as fixtures ("factories as fixtures"): importing from a conftest
# module breaks when another test folder has a conftest of its own.


@pytest.fixture(scope="session")
def cut_in_half():
    def cut(src: Path, dst: Path) -> Path:
        """A copy of ``src`` with its second half missing, like an interrupted download."""
        data = src.read_bytes()
        dst.write_bytes(data[: len(data) // 2])
        return dst

    return cut


@pytest.fixture(scope="session")
def file_hash():
    return lambda path: hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def make_sine():
    def make(freq: float, rate: int, seconds: float, channels: int = 1, amp: float = 0.3) -> Audio:
        """A sine ``Audio``: ``(samples,)`` for one channel, else ``(channels, samples)``."""
        t = np.arange(int(round(seconds * rate))) / rate
        tone = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        return Audio(tone if channels == 1 else np.tile(tone, (channels, 1)), rate)

    return make


@pytest.fixture(scope="session")
def peak_hz():
    def peak(samples: np.ndarray, rate: int) -> float:
        """Frequency of the strongest FFT bin (Hann window), channels averaged."""
        x = samples if samples.ndim == 1 else samples.mean(axis=0)
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        return float(np.argmax(spectrum) * rate / len(x))

    return peak


# Samples a lossy codec adds at the start (priming) and may add at the end (padding to a whole
# frame), which builds trim differently: whether the gapless info (MP3's LAME tag, MP4's edit
# list, Opus' pre-skip) is written and read back depends on the ffmpeg version.
CODEC_SLACK_SAMPLES = {
    "aac": 1024 + 1024,  # priming + up to one frame of padding
    "mp3": 576 + 529 + 1152,  # encoder delay + decoder delay + up to one frame of padding
    "opus": 312 + 960,  # pre-skip (at 48 kHz) + up to one 20 ms frame
    "vorbis": 2048,  # up to one long block
}


@pytest.fixture(scope="session")
def codec_slack():
    def slack(codec: str, rate: int) -> float:
        """Seconds a file's duration may differ between ffmpeg builds for ``codec`` at ``rate``
        Hz: the codec's priming and padding, plus the 10 ms to which durations are printed."""
        return CODEC_SLACK_SAMPLES.get(codec, 0) / rate + 0.01

    return slack


@pytest.fixture(scope="session")
def leftovers():
    def find(folder: Path) -> list[str]:
        """Hidden partial files an atomic write would leave behind if it failed to clean up."""
        names = [p.name for p in Path(folder).iterdir()]
        return [n for n in names if n.startswith(".") and ".part" in n]

    return find
