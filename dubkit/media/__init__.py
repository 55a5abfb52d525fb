"""Media I/O: the only part of dubkit that runs ffmpeg.

probe what a file holds, decode its audio, encode audio, mux a dub into a copy of the source,
write subtitles, and change tempo without changing pitch.
"""
from __future__ import annotations

from dubkit.media.decode import decode_audio, iter_audio
from dubkit.media.encode import write_audio
from dubkit.media.ffmpeg_bin import ffmpeg_path, ffprobe_path, run_ffmpeg
from dubkit.media.mux import mux_dub, video_packet_hashes
from dubkit.media.probe import MediaInfo, StreamInfo, probe
from dubkit.media.subtitles import Cue, write_subtitles
from dubkit.media.tempo import change_tempo

__all__ = [
    "Cue",
    "MediaInfo",
    "StreamInfo",
    "change_tempo",
    "decode_audio",
    "ffmpeg_path",
    "ffprobe_path",
    "iter_audio",
    "mux_dub",
    "probe",
    "run_ffmpeg",
    "video_packet_hashes",
    "write_audio",
    "write_subtitles",
]
