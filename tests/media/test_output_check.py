"""check_output_for: what the input holds, not its name, decides what the output can be."""
from __future__ import annotations

import pytest

from dubkit.errors import InputError
from dubkit.media import check_output_for, mux_dub, probe


def test_video_named_wav_is_refused_at_the_door(media, tmp_path, make_sine, leftovers):
    fake = tmp_path / "clip.wav"  # an MP4 with a picture, named like audio
    fake.write_bytes(media["mp4"].read_bytes())
    info = probe(fake)
    with pytest.raises(InputError, match=r"cannot write a video as \.wav: clip\.wav holds video "
                                         r"\(h264\); use one of \.mp4"):
        check_output_for(info, tmp_path / "clip.es.wav")
    # and mux decides from the streams too: nothing is written
    with pytest.raises(InputError, match=r"cannot write a video as \.wav"):
        mux_dub(fake, make_sine(330, 16000, 2.0), tmp_path / "clip.es.wav", "es", "en")
    assert not (tmp_path / "clip.es.wav").exists() and leftovers(tmp_path) == []
    assert check_output_for(info, tmp_path / "clip.es.mp4").tracks  # a container is fine


def test_cover_art_is_not_video(media, tmp_path):
    plan = check_output_for(probe(media["mp3"]), tmp_path / "song.es.mp3")
    assert plan.dropped == (
        "stream 1 (cover picture, mjpeg) is left out: a .mp3 file holds the dub only",)


def test_audio_named_mp4_goes_into_an_mp4(media, tmp_path, make_sine):
    fake = tmp_path / "voice.mp4"  # an M4A (AAC and a cover) under a video name
    fake.write_bytes(media["m4a"].read_bytes())
    plan = check_output_for(probe(fake), tmp_path / "voice.es.mp4")
    assert plan.tracks and plan.video == () and plan.original is not None
    info = mux_dub(fake, make_sine(330, 44100, 2.0), tmp_path / "voice.es.mp4", "es", "en")
    assert not info.has_video and [s.language for s in info.audio_streams] == ["spa", "eng"]


def test_codec_the_container_cannot_hold(media, tmp_path):
    with pytest.raises(InputError, match=r"a \.webm file cannot hold the streams of video\.mp4 "
                                         r"\(.*\); write the output as \.mkv"):
        check_output_for(probe(media["mp4"]), tmp_path / "out.webm")
    assert list(tmp_path.iterdir()) == []  # the trial wrote nothing here


def test_unknown_extensions(media, tmp_path):
    with pytest.raises(InputError, match=r"cannot write audio as \.avi; use one of \.wav.*\.mkv"):
        check_output_for(probe(media["flac"]), tmp_path / "out.avi")
    with pytest.raises(InputError, match=r"cannot write a video as a file without extension"):
        check_output_for(probe(media["mkv"]), tmp_path / "out")


def test_a_stream_that_is_not_audio(media, tmp_path):
    with pytest.raises(InputError, match="stream 0 .* is not an audio stream; audio streams: 1, 2"):
        check_output_for(probe(media["mp4"]), tmp_path / "o.mp4", audio_stream=0)


@pytest.mark.parametrize("name", ["mp4", "mkv", "webm", "mov", "wav", "flac", "mp3", "ogg", "m4a"])
def test_same_container_as_the_input_passes(media, name, tmp_path):
    plan = check_output_for(probe(media[name]), tmp_path / f"out{media[name].suffix}")
    assert plan.tracks == (name in ("mp4", "mkv", "webm", "mov"))
