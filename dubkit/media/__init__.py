"""Media I/O: the only part of dubkit that runs ffmpeg.

probe what a file holds, choose the audio track to dub, check at the door that the output can
hold what the input has, decode its audio, encode audio, mux a dub into a copy of the source,
write subtitles, and change tempo without changing pitch.
"""
from __future__ import annotations

from dubkit.media.decode import decode_audio, iter_audio
from dubkit.media.encode import write_audio
from dubkit.media.ffmpeg_bin import ffmpeg_identity, ffmpeg_path, ffprobe_path, run_ffmpeg
from dubkit.media.length import real_duration
from dubkit.media.mux import mux_dub, video_packet_hashes
from dubkit.media.plan import MuxPlan, check_output_for, plan_mux
from dubkit.media.probe import MediaInfo, StreamInfo, probe
from dubkit.media.subtitles import Cue, write_subtitles
from dubkit.media.tempo import change_tempo
from dubkit.media.tracks import check_audio_track, describe_audio_tracks

__all__ = [
    "Cue",
    "MediaInfo",
    "MuxPlan",
    "StreamInfo",
    "change_tempo",
    "check_audio_track",
    "check_output_for",
    "decode_audio",
    "describe_audio_tracks",
    "ffmpeg_identity",
    "ffmpeg_path",
    "ffprobe_path",
    "iter_audio",
    "mux_dub",
    "plan_mux",
    "probe",
    "real_duration",
    "run_ffmpeg",
    "video_packet_hashes",
    "write_audio",
    "write_subtitles",
]
