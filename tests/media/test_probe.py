"""probe(): both parsers (ffprobe JSON, `ffmpeg -i` stderr) on real output of real files."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from dubkit.errors import InputError, MediaError
from dubkit.media import ffmpeg_bin
from dubkit.media.probe import (
    MediaInfo,
    parse_ffmpeg_stderr,
    parse_ffprobe_json,
    probe,
    probe_with_ffmpeg,
    probe_with_ffprobe,
)

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "jfk.mp4"

# name: (format_name, duration, [(kind, codec, language, channels, rate, size, attached_pic)])
EXPECTED = {
    "wav": ("wav", 2.0, [("audio", "pcm_s16le", None, 1, 16000, None, False)]),
    "flac": ("flac", 2.0, [("audio", "flac", None, 2, 44100, None, False)]),
    "ogg": ("ogg", 2.0, [("audio", "vorbis", None, 1, 48000, None, False)]),
    "mp3": ("mp3", 2.0, [
        ("audio", "mp3", None, 2, 44100, None, False),
        ("video", "mjpeg", None, None, None, (64, 64), True),
    ]),
    "m4a": ("mov,mp4,m4a,3gp,3g2,mj2", 2.0, [
        ("audio", "aac", None, 1, 44100, None, False),
        ("video", "mjpeg", None, None, None, (64, 64), True),
    ]),
    "mp4": ("mov,mp4,m4a,3gp,3g2,mj2", 2.0, [
        ("video", "h264", None, None, None, (160, 90), False),
        ("audio", "aac", "eng", 1, 44100, None, False),
        ("audio", "aac", "fre", 1, 22050, None, False),
    ]),
    "mkv": ("matroska,webm", 2.02, [
        ("video", "h264", None, None, None, (160, 90), False),
        ("audio", "aac", "jpn", 2, 48000, None, False),
        ("subtitle", "subrip", "ger", None, None, None, False),
    ]),
    "webm": ("matroska,webm", 2.01, [
        ("video", "vp8", None, None, None, (160, 90), False),
        ("audio", "opus", "spa", 1, 48000, None, False),
    ]),
    "mov": ("mov,mp4,m4a,3gp,3g2,mj2", 2.0, [
        ("video", "mpeg4", None, None, None, (160, 90), False),
        ("audio", "aac", "eng", 1, 48000, None, False),
    ]),
}


def _summary(info: MediaInfo) -> list[tuple]:
    return [
        (s.kind, s.codec, s.language, s.channels, s.sample_rate,
         (s.width, s.height) if s.width else None, s.attached_pic)
        for s in info.streams
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ffmpeg_parser_reads_each_container(media, name, codec_slack):
    info = probe_with_ffmpeg(media[name])
    format_name, duration, streams = EXPECTED[name]
    assert info.format_name == format_name
    # lossy audio: builds differ in whether priming and padding count (see codec_slack)
    assert info.duration == pytest.approx(duration, abs=_slack(info, codec_slack))
    assert _summary(info) == streams
    assert [s.index for s in info.streams] == list(range(len(streams)))
    assert info.has_video == (name in ("mp4", "mkv", "webm", "mov"))  # cover art is not video


def test_attached_picture_is_not_video(media):
    info = probe_with_ffmpeg(media["mp3"])
    assert info.video_streams == () and not info.has_video
    assert [s.index for s in info.audio_streams] == [0]
    assert info.streams[1].kind == "video" and info.streams[1].attached_pic


def test_default_disposition(media):
    info = probe_with_ffmpeg(media["mp4"])
    assert [s.default for s in info.audio_streams] == [True, False]


def test_to_dict_is_json_ready(media):
    d = probe_with_ffmpeg(media["mp4"]).to_dict()
    again = json.loads(json.dumps(d))
    assert again["duration"] == 2.0
    assert [s["kind"] for s in again["streams"]] == ["video", "audio", "audio"]


# Real output of ffmpeg 9.0.2 (`ffmpeg -i`) and ffprobe 8.1.2 (fields dubkit reads) for two of
# the files the `media` fixture makes: both parsers must agree without an ffprobe at hand.
MKV_STDERR = """\
Input #0, matroska,webm, from 'file:video.mkv':
  Metadata:
    ENCODER         : Lavf63.1.102
  Duration: 00:00:02.02, start: 0.000000, bitrate: 139 kb/s
  Stream #0:0: Video: h264 (High), yuv420p(tv, progressive), 160x90 [SAR 1:1 DAR 16:9], 10 fps, 10 tbr, 1k tbn
    Metadata:
      ENCODER         : Lavc63.1.102 libx264
      DURATION        : 00:00:02.000000000
  Stream #0:1(jpn): Audio: aac (LC), 48000 Hz, stereo, fltp
    Metadata:
      ENCODER         : Lavc63.1.102 aac
      DURATION        : 00:00:02.021000000
  Stream #0:2(ger): Subtitle: subrip (srt)
    Metadata:
      ENCODER         : Lavc63.1.102 srt
      DURATION        : 00:00:01.500000000
At least one output file must be specified
"""
MKV_FFPROBE = {"format": {"filename": "file:video.mkv", "format_name": "matroska,webm", "duration": "2.021000"}, "streams": [{"index": 0, "codec_name": "h264", "codec_type": "video", "width": 160, "height": 90, "disposition": {"default": 0, "attached_pic": 0}}, {"index": 1, "codec_name": "aac", "codec_type": "audio", "sample_rate": "48000", "channels": 2, "channel_layout": "stereo", "disposition": {"default": 0, "attached_pic": 0}, "tags": {"language": "jpn"}}, {"index": 2, "codec_name": "subrip", "codec_type": "subtitle", "disposition": {"default": 0, "attached_pic": 0}, "tags": {"language": "ger"}}]}  # noqa: E501

MP3_STDERR = """\
Input #0, mp3, from 'file:tone.mp3':
  Metadata:
    encoder         : Lavf63.1.102
  Duration: 00:00:02.00, start: 0.025056, bitrate: 133 kb/s
  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, stereo, fltp, 128 kb/s, start 0.025057
    Metadata:
      encoder         : Lavc63.1.
  Stream #0:1: Video: mjpeg (Baseline), yuvj444p(pc, bt470bg/unknown/unknown), 64x64 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn, start 0.025056 (attached pic)
    Metadata:
      comment         : Other
At least one output file must be specified
"""
MP3_FFPROBE = {"format": {"filename": "file:tone.mp3", "format_name": "mp3", "duration": "2.000000"}, "streams": [{"index": 0, "codec_name": "mp3", "codec_type": "audio", "sample_rate": "44100", "channels": 2, "channel_layout": "stereo", "disposition": {"default": 0, "attached_pic": 0}}, {"index": 1, "codec_name": "mjpeg", "codec_type": "video", "width": 64, "height": 64, "disposition": {"default": 0, "attached_pic": 1}}]}  # noqa: E501

MP4_STDERR = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:video.mp4':
  Duration: 00:00:02.00, start: 0.000000, bitrate: 152 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 160x90 [SAR 1:1 DAR 16:9], 4 kb/s, 10 fps, 10 tbr, 10240 tbn (default)
  Stream #0:1[0x2](eng): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
  Stream #0:2[0x3](fre): Audio: aac (LC) (mp4a / 0x6134706D), 22050 Hz, mono, fltp, 62 kb/s
"""
MP4_FFPROBE = {"format": {"filename": "file:video.mp4", "format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "2.000000"}, "streams": [{"index": 0, "codec_name": "h264", "codec_type": "video", "width": 160, "height": 90, "disposition": {"default": 1, "attached_pic": 0}, "tags": {"language": "und"}}, {"index": 1, "codec_name": "aac", "codec_type": "audio", "sample_rate": "44100", "channels": 1, "channel_layout": "mono", "disposition": {"default": 1, "attached_pic": 0}, "tags": {"language": "eng"}}, {"index": 2, "codec_name": "aac", "codec_type": "audio", "sample_rate": "22050", "channels": 1, "channel_layout": "mono", "disposition": {"default": 0, "attached_pic": 0}, "tags": {"language": "fre"}}]}  # noqa: E501


@pytest.mark.parametrize(
    "stderr,ffprobe_json",
    [(MKV_STDERR, MKV_FFPROBE), (MP3_STDERR, MP3_FFPROBE), (MP4_STDERR, MP4_FFPROBE)],
    ids=["mkv", "mp3", "mp4"],
)
def test_both_parsers_agree_on_recorded_output(stderr, ffprobe_json):
    from_ffmpeg = parse_ffmpeg_stderr("x", stderr)
    assert from_ffmpeg == parse_ffprobe_json("x", ffprobe_json)
    assert from_ffmpeg.streams  # not vacuous


def test_ffprobe_duration_rounds_like_ffmpeg():
    data = {"format": {"format_name": "wav", "duration": "1.234999"},
            "streams": [{"index": 0, "codec_type": "audio", "codec_name": "pcm_s16le"}]}
    assert parse_ffprobe_json("x", data).duration == 1.23
    data["format"]["duration"] = "1.235000"
    assert parse_ffprobe_json("x", data).duration == 1.24  # ffmpeg adds 5 ms, then truncates


def test_channel_layouts_in_stderr():
    text = """Input #0, matroska,webm, from 'x':
  Duration: N/A
  Stream #0:0: Audio: ac3, 48000 Hz, 5.1(side), fltp, 384 kb/s
  Stream #0:1: Audio: pcm_s16le, 48000 Hz, 3 channels, s16
  Stream #0:2: Audio: flac, 96000 Hz, 7.1, s32 (24 bit)
  Stream #0:3: Video: h264 (High), yuv420p(tv, bt709, progressive), 1920x1080 [SAR 1:1 DAR 16:9], 25 fps
  Stream #0:4: Attachment: ttf
"""
    info = parse_ffmpeg_stderr("x", text)
    assert info.duration is None
    assert [s.channels for s in info.audio_streams] == [6, 3, 8]
    assert (info.streams[3].width, info.streams[3].height) == (1920, 1080)
    assert info.streams[4].kind == "data"


def _slack(info: MediaInfo, codec_slack) -> float:
    """Seconds the duration of ``info``'s file may differ between ffmpeg builds."""
    return max([codec_slack(s.codec, s.sample_rate) for s in info.audio_streams] + [0.0])


def _same_build() -> bool:
    """Whether ffprobe and ffmpeg come from one build (same version, libraries, options)."""
    ffmpeg, ffprobe = ffmpeg_bin.ffmpeg_identity().split("; ")
    return ffmpeg.split(" ", 1)[1] == ffprobe.split(" ", 1)[1]


@pytest.mark.skipif(ffmpeg_bin.ffprobe_path() is None, reason="no ffprobe on this machine")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ffprobe_and_ffmpeg_agree_on_files(media, name, codec_slack):
    from_ffprobe, from_ffmpeg = probe_with_ffprobe(media[name]), probe_with_ffmpeg(media[name])
    if _same_build():
        assert from_ffprobe == from_ffmpeg
        return
    # an ffprobe of another build (imageio's ffmpeg with the system's ffprobe) may count an MP3's
    # or AAC's priming and padding differently; everything else must agree
    assert dataclasses.replace(from_ffprobe, duration=from_ffmpeg.duration) == from_ffmpeg
    assert from_ffprobe.duration == pytest.approx(
        from_ffmpeg.duration, abs=_slack(from_ffmpeg, codec_slack))


def test_probe_without_ffprobe_uses_ffmpeg(media, monkeypatch):
    monkeypatch.setenv("DUBKIT_FFPROBE", "")  # turns ffprobe off
    ffmpeg_bin.clear_cache()
    try:
        assert ffmpeg_bin.ffprobe_path() is None
        assert probe(media["mp4"]) == probe_with_ffmpeg(media["mp4"])
    finally:
        monkeypatch.undo()
        ffmpeg_bin.clear_cache()


def test_ffmpeg_from_environment(monkeypatch):
    exe = ffmpeg_bin.ffmpeg_path()
    monkeypatch.setenv("DUBKIT_FFMPEG", exe)
    ffmpeg_bin.clear_cache()
    try:
        assert ffmpeg_bin.ffmpeg_path() == exe
        monkeypatch.setenv("DUBKIT_FFMPEG", "/nonexistent/ffmpeg")
        ffmpeg_bin.clear_cache()
        with pytest.raises(InputError, match="DUBKIT_FFMPEG"):
            ffmpeg_bin.ffmpeg_path()
    finally:
        monkeypatch.undo()
        ffmpeg_bin.clear_cache()


def test_text_file_is_not_media(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 20)
    with pytest.raises(MediaError, match="notes.mp4 is not a media file ffmpeg can read: "):
        probe(fake)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(InputError, match="is a folder"):
        probe(tmp_path)


def test_odd_file_names(media, tmp_path):
    odd = tmp_path / "-a:b 'c'.wav"  # an option-like, protocol-like name with quotes
    odd.write_bytes(media["wav"].read_bytes())
    assert probe(odd).audio_streams[0].sample_rate == 16000


def test_error_line_picks_the_reason():
    stderr = (
        "[in#0 @ 0x5565] Format mov,mp4,m4a,3gp,3g2,mj2 detected only with low score of 1, "
        "misdetection possible!\n"
        "[in#0 @ 0x5565] moov atom not found\n"
        "[in#0 @ 0x5565] Error opening input: Invalid data found when processing input\n"
        "Error opening input file file:x.mp4.\n"
        "Error opening input files: Invalid data found when processing input\n"
    )
    reason = ffmpeg_bin.error_line(stderr)
    assert reason == "moov atom not found; Invalid data found when processing input"


def test_run_ffmpeg_failure_is_a_media_error(tmp_path):
    with pytest.raises(MediaError, match="^ffmpeg failed: "):
        ffmpeg_bin.run_ffmpeg(["-i", str(tmp_path / "missing.wav"), "-f", "null", "-"])


def test_encoders_listed():
    assert {"aac", "flac", "pcm_s16le"} <= ffmpeg_bin.encoders()


@pytest.mark.skipif(not SAMPLE.exists(), reason="samples/jfk.mp4 not present")
def test_shipped_sample():
    info = probe(SAMPLE)
    assert info.duration == pytest.approx(11.0, abs=0.05)
    video, audio = info.video_streams[0], info.audio_streams[0]
    assert (video.codec, video.width, video.height) == ("h264", 640, 360)
    assert (audio.codec, audio.sample_rate, audio.channels) == ("aac", 44100, 2)
    assert audio.language == "eng"
    assert SAMPLE.stat().st_size < 1_000_000
