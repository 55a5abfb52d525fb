"""ffmpeg_identity: names the ffmpeg build, so cache keys can change with it."""
from __future__ import annotations

import os
import re
import shutil

import pytest

from dubkit.media import ffmpeg_bin, ffmpeg_identity


def test_identity_names_version_and_libraries():
    ident = ffmpeg_identity()
    assert re.match(r"^ffmpeg \S+ .*avcodec=\d+\.\d+\.\d+.* config=[0-9a-f]{8}", ident), ident
    assert ffmpeg_identity() is ident  # cached: one run of `ffmpeg -version` per process
    assert ("; ffprobe " in ident) == (ffmpeg_bin.ffprobe_path() is not None)


def test_identity_changes_with_the_binary(monkeypatch):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    system, bundled = shutil.which("ffmpeg"), imageio_ffmpeg.get_ffmpeg_exe()
    if system is None or os.path.realpath(system) == os.path.realpath(bundled):
        pytest.skip("no system ffmpeg besides imageio-ffmpeg's binary to compare with")
    seen = []
    try:
        for exe in (system, bundled):
            monkeypatch.setenv("DUBKIT_FFMPEG", exe)
            monkeypatch.setenv("DUBKIT_FFPROBE", "")
            ffmpeg_bin.clear_cache()
            seen.append(ffmpeg_identity())
    finally:
        monkeypatch.undo()
        ffmpeg_bin.clear_cache()
    assert seen[0] != seen[1]
