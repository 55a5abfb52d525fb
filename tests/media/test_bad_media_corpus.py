"""A corpus of over 200 odd and broken media files, made once per session: probe and decode
give a result or one of dubkit's own errors on each (never another exception, never a hang,
never unbounded memory), and a whole tiny-test dub of a sample of them does the same."""
from __future__ import annotations

import multiprocessing
import os
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit.errors import MediaError
from dubkit.media.ffmpeg_bin import has_encoder, run_ffmpeg
from dubkit.testing import workers
from dubkit.testing.signals import low_voice

SEED = 20240613
RATE = 16_000  # Hz, of the base voice
VOICE_SECONDS = 1.6
DECODE_TIMEOUT = 60  # seconds per file: ffmpeg never needs this long on files this small
DUB_TIMEOUT = 300  # seconds per dub: a hang, not a slow machine (a dub takes ~3 s alone)
MEMORY_LIMIT = 3 << 30  # bytes of address space for a probe/decode worker
DUB_MEMORY_LIMIT = 8 << 30  # torch maps large libraries


@dataclass(frozen=True)
class Item:
    path: Path
    kind: str  # class of oddity, e.g. "codec", "truncated", "bitflip"


# --- generation --------------------------------------------------------------------------------


class _Corpus:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.items: list[Item] = []
        self.rng = random.Random(SEED)
        self.base = folder / "base.wav"
        sf.write(self.base, low_voice(VOICE_SECONDS, seed=7), RATE, subtype="PCM_16")
        self.voice = ["-i", str(self.base)]

    def ffmpeg(
        self, kind: str, name: str, args: list[str], encoder: str | None = None
    ) -> Path | None:
        """Make ``name`` with ffmpeg ``args`` (skipped when this build lacks ``encoder``)."""
        if encoder is not None and not has_encoder(encoder):
            return None
        path = self.folder / name
        try:
            run_ffmpeg(["-y", *args, str(path)])
        except MediaError:  # an oddity this build refuses to make (ffmpeg 9: FLAC of 1 sample)
            return None
        return self.add(kind, path)

    def write(self, kind: str, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return self.add(kind, path)

    def add(self, kind: str, path: Path) -> Path:
        self.items.append(Item(path, kind))
        return path


def _make_corpus(folder: Path) -> list[Item]:
    c = _Corpus(folder)
    v = c.voice
    pic = ["-f", "lavfi", "-i", f"color=c=0x446688:s=64x48:r=10:d={VOICE_SECONDS}"]
    # codecs: (file name, encoder, options)
    for name, encoder, opts in [
        ("s16.wav", "pcm_s16le", []), ("u8.wav", "pcm_u8", []), ("s24.wav", "pcm_s24le", []),
        ("f32.wav", "pcm_f32le", []), ("f64.wav", "pcm_f64le", []),
        ("mulaw.wav", "pcm_mulaw", []), ("alaw.wav", "pcm_alaw", []),
        ("adpcm_ms.wav", "adpcm_ms", []), ("adpcm_ima.wav", "adpcm_ima_wav", []),
        ("s16be.aiff", "pcm_s16be", []), ("flac.flac", "flac", []),
        ("mp3.mp3", "libmp3lame", ["-b:a", "64k"]), ("aac.m4a", "aac", []),
        ("adts.aac", "aac", []), ("opus.ogg", "libopus", []), ("vorbis.ogg", "libvorbis", []),
        ("ac3.ac3", "ac3", []), ("eac3.eac3", "eac3", []), ("mp2.mp2", "mp2", []),
        ("wavpack.wv", "wavpack", []), ("alac.m4a", "alac", []), ("tta.tta", "tta", []),
        ("opus.webm", "libopus", []), ("pcm.mka", "pcm_s16le", []),
    ]:
        c.ffmpeg("codec", name, [*v, "-c:a", encoder, *opts], encoder)
    # channel counts 1..8
    for ch in range(1, 9):
        c.ffmpeg("channels", f"ch{ch}.flac", [*v, "-ac", str(ch), "-c:a", "flac"])
    c.ffmpeg("channels", "ch6.m4a", [*v, "-ac", "6", "-c:a", "aac"])
    # sample rates 8 kHz .. 96 kHz
    for rate in (8000, 11025, 22050, 32000, 44100, 48000, 88200, 96000):
        c.ffmpeg("rates", f"r{rate}.wav", [*v, "-ar", str(rate)])
    c.ffmpeg("rates", "r96000.flac", [*v, "-ar", "96000", "-c:a", "flac"])
    # durations: none, one sample, very short, long-ish silence
    for name, args in [
        ("zero.wav", ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0"]),
        ("one_sample.wav", [*v, "-af", "atrim=end_sample=1"]),
        ("one_sample.flac", [*v, "-af", "atrim=end_sample=1", "-c:a", "flac"]),
        ("ms5.m4a", [*v, "-t", "0.005", "-c:a", "aac"]),
        ("ms10.mp3", [*v, "-t", "0.01", "-c:a", "libmp3lame"]),
        ("ms20.ogg", [*v, "-t", "0.02", "-c:a", "libvorbis"]),
        ("silence60.flac", ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "60",
                            "-c:a", "flac"]),
        ("silence30.opus", ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "30",
                            "-c:a", "libopus"]),
    ]:
        c.ffmpeg("duration", name, args)
    sf.write(folder / "empty.wav", np.zeros(0, np.float32), RATE)
    c.add("duration", folder / "empty.wav")
    # video: with voice, video only, video named as audio, several tracks, data streams
    c.ffmpeg("video", "voice.mp4", [*pic, *v, "-c:v", "libx264", "-c:a", "aac"])
    c.ffmpeg("video", "voice.mkv", [*pic, *v, "-c:v", "libx264", "-c:a", "aac"])
    c.ffmpeg("video", "voice.webm", [*pic, *v, "-c:v", "libvpx", "-c:a", "libopus"], "libvpx")
    c.ffmpeg("video", "voice.mov", [*pic, *v, "-c:v", "mpeg4", "-c:a", "aac"])
    c.ffmpeg("video_only", "video_only.mp4", [*pic, "-c:v", "libx264"])
    c.ffmpeg("video_only", "video_only.mkv", [*pic, "-c:v", "mpeg4"])
    mp4 = folder / "voice.mp4"
    c.write("disguised", "video_named.wav", mp4.read_bytes())
    c.write("disguised", "video_named.mp3", mp4.read_bytes())
    c.write("disguised", "audio_named.mp4", (folder / "aac.m4a").read_bytes())
    c.ffmpeg("tracks", "three_tracks.mkv", [
        *pic, *v, "-f", "lavfi", "-i", "sine=f=300:r=16000:d=1.6", *v,
        "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-c:v", "libx264", "-c:a", "aac",
        "-disposition:a:0", "0", "-disposition:a:1", "0", "-disposition:a:2", "default"])
    srt = folder / "sub.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:01,000\nHola\n", encoding="utf-8")
    c.ffmpeg("tracks", "subtitles.mkv", [*pic, *v, "-i", str(srt), "-map", "0", "-map", "1",
                                         "-map", "2", "-c:v", "libx264", "-c:a", "aac"])
    c.ffmpeg("data", "timecode.mov", [*pic, *v, "-c:v", "mpeg4", "-c:a", "aac",
                                      "-timecode", "01:00:00:00"])
    c.ffmpeg("data", "attachment.mkv", [*v, "-c:a", "flac", "-attach", str(srt),
                                        "-metadata:s:t", "mimetype=text/plain"])
    c.ffmpeg("data", "empty_audio_track.mkv", [*pic, "-f", "lavfi", "-i", "anullsrc=r=16000",
                                               "-map", "0", "-map", "1", "-c:v", "libx264",
                                               "-c:a", "flac", "-t:a", "0", "-t", "1.6"])
    # damaged samples and lying headers
    for name, value in [("nan.wav", np.nan), ("inf.wav", np.inf), ("huge.wav", 3e30)]:
        x = low_voice(VOICE_SECONDS, seed=3)
        x[len(x) // 2] = value
        sf.write(folder / name, x, RATE, subtype="FLOAT")
        c.add("samples", folder / name)
    s16 = (folder / "s16.wav").read_bytes()
    for name, offset, fmt, value in [
        ("rate1.wav", 24, "<I", 1), ("rate0.wav", 24, "<I", 0), ("rate_max.wav", 24, "<I", 2**31),
        ("channels0.wav", 22, "<H", 0), ("channels255.wav", 22, "<H", 255),
        ("bits7.wav", 34, "<H", 7), ("data_size_max.wav", 40, "<I", 0xFFFFFFFF),
        ("riff_size0.wav", 4, "<I", 0),
    ]:
        field = struct.pack(fmt, value)
        c.write("header", name, s16[:offset] + field + s16[offset + len(field):])
    mkv = (folder / "voice.mkv").read_bytes()
    at = mkv.find(b"\x44\x89\x88")
    for name, ms in [("ten_hours.mkv", 36e6), ("negative.mkv", -5e3), ("nan_duration.mkv", np.nan)]:
        c.write("header", name, mkv[:at + 3] + struct.pack(">d", ms) + mkv[at + 11:])
    # truncations at several points
    bases = ["s16.wav", "flac.flac", "mp3.mp3", "aac.m4a", "opus.ogg", "voice.mp4", "voice.mkv",
             "voice.mov"]
    for base in bases:
        data = (folder / base).read_bytes()
        for cut in (12, 100, len(data) // 10, len(data) // 2, len(data) * 9 // 10, len(data) - 1):
            c.write("truncated", f"cut{cut}_{base}", data[:cut])
    # byte-level mutations of valid files, seeded
    mutations: list[tuple[str, Callable[[bytearray], bytearray]]] = [
        ("flip1", lambda d: _flip(c.rng, d, 1)), ("flip8", lambda d: _flip(c.rng, d, 8)),
        ("flip64", lambda d: _flip(c.rng, d, 64)), ("delete", lambda d: _delete(c.rng, d)),
        ("duplicate", lambda d: _duplicate(c.rng, d)),
        ("overwrite", lambda d: _header(c.rng, d)),
        ("overwrite_ff", lambda d: _header(c.rng, d, 0xFF)),
        ("garbage", lambda d: _garbage(c.rng, d)),
    ]
    for base in [*bases, "vorbis.ogg", "ac3.ac3", "adpcm_ms.wav", "voice.webm"]:
        if not (folder / base).exists():
            continue
        data = (folder / base).read_bytes()
        for label, mutate in mutations:
            for n in range(2 if label in ("flip8", "delete", "garbage") else 1):
                c.write(label, f"{label}{n}_{base}", bytes(mutate(bytearray(data))))
    return c.items


def _flip(rng: random.Random, d: bytearray, bits: int) -> bytearray:
    for _ in range(bits):
        i = rng.randrange(len(d))
        d[i] ^= 1 << rng.randrange(8)
    return d


def _delete(rng: random.Random, d: bytearray) -> bytearray:
    start = rng.randrange(len(d))
    return d[:start] + d[start + rng.randint(1, max(1, len(d) // 8)):]


def _duplicate(rng: random.Random, d: bytearray) -> bytearray:
    start = rng.randrange(len(d))
    chunk = d[start:start + rng.randint(1, max(1, len(d) // 8))]
    return d[:start] + chunk * rng.randint(2, 5) + d[start:]


def _header(rng: random.Random, d: bytearray, value: int | None = None) -> bytearray:
    """Overwrite a field of the first 64 bytes (where headers keep sizes, rates, counts)."""
    start = rng.randrange(4, min(64, len(d) - 4))
    for i in range(start, start + 4):
        d[i] = rng.randrange(256) if value is None else value
    return d


def _garbage(rng: random.Random, d: bytearray) -> bytearray:
    """The file's first 16 bytes (its magic) followed by random bytes."""
    return d[:16] + bytearray(rng.randrange(256) for _ in range(len(d) - 16))


_GENERATION: dict[str, float] = {}  # "seconds": how long making the corpus took


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> list[Item]:
    started = time.perf_counter()
    items = _make_corpus(tmp_path_factory.mktemp("bad_media"))
    _GENERATION["seconds"] = time.perf_counter() - started
    return items


# --- workers -------------------------------------------------------------------------------------


def _run_all(func, args: list[tuple], limit: int, timeout: float) -> list[tuple[str, str]]:
    """``func(*a)`` for each ``a`` in worker processes under an address-space ``limit``; an
    answer later than ``timeout`` seconds counts as a hang. The workers are spawned, not
    forked: a fork of this process (which has run torch) can deadlock in torch's threads."""
    ctx = multiprocessing.get_context("spawn")
    pool = ctx.Pool(processes=min(2, os.cpu_count() or 1), initializer=workers.limit_memory,
                    initargs=(limit,))
    try:
        pending = [pool.apply_async(func, a) for a in args]
        results = []
        for p in pending:
            try:
                results.append(p.get(timeout=timeout))
            except multiprocessing.TimeoutError:
                results.append(("hang", f"no answer within {timeout} s"))
        return results
    finally:
        pool.terminate()
        pool.join()


# --- tests ---------------------------------------------------------------------------------------


def test_corpus_is_large_and_varied(corpus):
    assert len(corpus) >= 200
    kinds = {i.kind for i in corpus}
    assert {"codec", "channels", "rates", "duration", "header", "truncated", "video_only",
            "data", "flip1", "garbage"} <= kinds
    assert _GENERATION["seconds"] < 60, f"making the corpus took {_GENERATION['seconds']:.0f} s"


def test_probe_and_decode_never_crash(corpus):
    results = _run_all(workers.probe_and_decode, [(str(i.path),) for i in corpus],
                       MEMORY_LIMIT, DECODE_TIMEOUT)
    bad = [f"{i.path.name} ({i.kind}): {status}: {detail}"
           for i, (status, detail) in zip(corpus, results) if status in ("crash", "hang")]
    assert not bad, "\n".join(bad)
    outcomes = {status for status, _ in results}
    assert "ok" in outcomes and "MediaError" in outcomes  # both ways are exercised
    by_name = {i.path.name: r for i, r in zip(corpus, results)}
    assert by_name["nan.wav"][0] == "MediaError" and "NaN/Inf" in by_name["nan.wav"][1]
    assert by_name["rate1.wav"][0] == "MediaError"
    assert by_name["s16.wav"][0] == "ok" and by_name["ch8.flac"][0] == "ok"


# Failures of the whole dub outside dubkit/media, one per distinct cause: file name -> reason.
KNOWN_DUB_FAILURES: dict[str, str] = {}


def _dub_sample(corpus: list[Item]) -> list[Item]:
    """30 files chosen with the fixed seed, plus the first file of every class not among them."""
    rng = random.Random(SEED)
    chosen = rng.sample(corpus, 30)
    for kind in sorted({i.kind for i in corpus}):
        if all(i.kind != kind for i in chosen):
            chosen.append(next(i for i in corpus if i.kind == kind))
    return chosen


def test_whole_dub_never_crashes(corpus, tmp_path):
    sample = _dub_sample(corpus)
    outputs = [str(tmp_path / f"{n:03d}.{_out_ext(i.path)}") for n, i in enumerate(sample)]
    results = _run_all(workers.tiny_dub, [(str(i.path), o) for i, o in zip(sample, outputs)],
                       DUB_MEMORY_LIMIT, DUB_TIMEOUT)
    for item, (status, detail) in zip(sample, results):  # shown with -s / on failure
        print(f"{item.path.name} ({item.kind}): {status}: {detail[:160]}")
    bad = []
    for item, (status, detail) in zip(sample, results):
        if status in ("crash", "hang") and item.path.name not in KNOWN_DUB_FAILURES:
            bad.append(f"{item.path.name} ({item.kind}): {status}: {detail}")
    assert not bad, "\n".join(bad)
    assert any(status == "ok" for status, _ in results)


def _out_ext(path: Path) -> str:
    """The extension dubkit would choose: the input's own."""
    return path.suffix.lstrip(".") or "wav"
