"""Choosing which audio track of a file is dubbed.

Tracks are counted among the audio streams only, from 0, as ffmpeg's ``-map 0:a:N`` counts them;
``StreamInfo.index`` is the stream's absolute index, which ``decode_audio(stream_index=...)`` and
``mux_dub(audio_stream=...)`` take.
"""
from __future__ import annotations

import os

from dubkit.errors import InputError, MediaError
from dubkit.media.probe import MediaInfo, StreamInfo


def check_audio_track(info: MediaInfo, track: int | None = None) -> StreamInfo:
    """The audio stream to dub: audio track ``track`` (0 = the first audio stream), or when None
    the default one (first marked default, else the first).

    Raises ``InputError`` listing the audio tracks with their languages when ``track`` is not
    one of them, and ``MediaError`` when the file has no audio at all.
    """
    audio = info.audio_streams
    if not audio:
        raise MediaError(f"{os.fspath(info.path)} has no audio stream; give a file with sound")
    if track is None:
        return info.default_audio or audio[0]
    if isinstance(track, bool) or not isinstance(track, int) or not 0 <= track < len(audio):
        raise InputError(
            f"audio track {track} does not exist in {os.fspath(info.path)}; its audio tracks are "
            f"{describe_audio_tracks(info)}; choose one of these numbers"
        )
    return audio[track]


def describe_audio_tracks(info: MediaInfo) -> str:
    """One line listing the audio tracks: ``0: eng, aac, 2 ch (default); 1: fre, aac, 1 ch``."""
    default = info.default_audio
    parts = []
    for n, s in enumerate(info.audio_streams):
        facts = [s.language or "no language", s.codec]
        if s.channels:
            facts.append(f"{s.channels} ch")
        mark = " (default)" if s is default else ""
        parts.append(f"{n}: {', '.join(facts)}{mark}")
    return "; ".join(parts) or "none"
