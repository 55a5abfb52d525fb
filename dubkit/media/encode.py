"""Encode float32 audio to a file, the codec chosen by the file's extension.

Writes go to a hidden temporary sibling and are renamed into place when complete, so a reader
never sees half a file and a failure leaves nothing behind.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from dubkit.errors import InputError, MediaError
from dubkit.languages import to_iso639_2
from dubkit.media.ffmpeg_bin import has_encoder, run_ffmpeg
from dubkit.types import Audio

OPUS_RATE = 48_000  # Hz: what Opus runs at (and what every Opus decoder gives back)


@dataclass(frozen=True)
class AudioCodec:
    """An ffmpeg audio encoder and its options, without stream specifiers."""

    encoder: str
    options: dict[str, str] = field(default_factory=dict)  # e.g. {"b": "192k"} -> -b:a 192k
    rate: int | None = None  # the sample rate the encoder needs, if it needs one
    max_channels: int | None = None

    def args(self, spec: str = "a", channels: int = 1) -> list[str]:
        """ffmpeg output options for the audio stream(s) selected by ``spec`` ("a", "a:0")."""
        out = [f"-c:{spec}", self.encoder]
        for key, value in self.options.items():
            out += [f"-{key}:{spec}", value]
        if self.rate is not None:
            out += [f"-ar:{spec}", str(self.rate)]
        if self.max_channels is not None and channels > self.max_channels:
            out += [f"-ac:{spec}", str(self.max_channels)]
        return out


# Encoders by codec family, best first; the first one this ffmpeg build has is used.
_CANDIDATES: dict[str, tuple[AudioCodec, ...]] = {
    "pcm": (AudioCodec("pcm_s16le"),),
    "flac": (AudioCodec("flac"),),
    "mp3": (AudioCodec("libmp3lame", {"b": "192k"}, max_channels=2),),
    "aac": (AudioCodec("aac", {"b": "192k"}), AudioCodec("libfdk_aac", {"b": "192k"})),
    "opus": (
        AudioCodec("libopus", {"b": "128k"}, rate=OPUS_RATE),
        # ffmpeg's own Opus encoder is flagged experimental and does stereo at most
        AudioCodec("opus", {"b": "128k", "strict": "-2"}, rate=OPUS_RATE, max_channels=2),
    ),
    "vorbis": (
        AudioCodec("libvorbis", {"q": "5"}),
        AudioCodec("vorbis", {"strict": "-2"}, max_channels=2),
    ),
}

# extension -> (ffmpeg muxer, codec families in order of preference)
AUDIO_FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    ".wav": ("wav", ("pcm",)),
    ".flac": ("flac", ("flac",)),
    ".mp3": ("mp3", ("mp3",)),
    ".ogg": ("ogg", ("opus", "vorbis")),
    ".opus": ("opus", ("opus",)),
    ".m4a": ("ipod", ("aac",)),
}


def choose_codec(*families: str) -> AudioCodec:
    """The first encoder of ``families`` (e.g. "opus", "vorbis") that this ffmpeg has."""
    for family in families:
        for codec in _CANDIDATES[family]:
            if has_encoder(codec.encoder):
                return codec
    raise MediaError(
        f"this ffmpeg has no {' or '.join(families)} encoder; install a full ffmpeg build "
        "and point DUBKIT_FFMPEG at it, or choose another output format"
    )


def audio_format(path: str | os.PathLike[str]) -> tuple[str, AudioCodec]:
    """The muxer and codec ``write_audio`` uses for ``path``'s extension."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in AUDIO_FORMATS:
        choices = ", ".join(AUDIO_FORMATS)
        raise InputError(
            f"cannot write audio as {ext or 'a file without extension'}; use one of {choices}"
        )
    muxer, families = AUDIO_FORMATS[ext]
    return muxer, choose_codec(*families)


def write_audio(audio: Audio, path: str | os.PathLike[str], language: str | None = None) -> None:
    """Encode ``audio`` to ``path`` (.wav 16-bit, .flac, .mp3 192k, .ogg/.opus Opus 128k at 48 kHz,
    .m4a AAC 192k), replacing it atomically. ``language`` (ISO 639-1) tags the audio stream."""
    muxer, codec = audio_format(path)
    args = raw_input_args(audio) + ["-map", "0:a:0"] + codec.args("a", audio.channels)
    if language:
        args += ["-metadata:s:a:0", f"language={to_iso639_2(language)}"]
    with temporary_sibling(path) as tmp:
        run_ffmpeg(["-y", *args, "-f", muxer, tmp], input=interleaved_bytes(audio))


def raw_input_args(audio: Audio) -> list[str]:
    """ffmpeg input options that read ``interleaved_bytes(audio)`` from stdin."""
    return ["-f", "f32le", "-ar", str(audio.rate), "-ac", str(audio.channels), "-i", "pipe:0"]


def interleaved_bytes(audio: Audio) -> bytes:
    """Samples as interleaved little-endian float32, the layout of ffmpeg's f32le."""
    samples = audio.samples if audio.samples.ndim == 1 else audio.samples.T  # (samples, channels)
    return np.ascontiguousarray(samples, dtype="<f4").tobytes()


@contextlib.contextmanager
def temporary_sibling(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a hidden temporary name beside ``path`` (same extension); on success rename it to
    ``path``, on any error remove it."""
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    if not os.path.isdir(folder):
        raise InputError(f"folder {folder} does not exist; create it first")
    if os.path.isdir(target):
        raise InputError(f"{target} is a folder; give a file name")
    ext = os.path.splitext(name)[1]
    # not mkstemp: its 0600 mode would stick to the output; the writer creates this name
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.part{ext}")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
