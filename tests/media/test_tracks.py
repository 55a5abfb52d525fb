"""Several audio tracks and subtitles: the default track is dubbed, the others are kept."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubkit.errors import InputError, MediaError
from dubkit.media import (
    check_audio_track,
    check_output_for,
    decode_audio,
    describe_audio_tracks,
    mux_dub,
    plan_mux,
    probe,
)
from dubkit.media.ffmpeg_bin import run_ffmpeg

# (language, tone in Hz) of the three audio tracks; the second one is marked default
TRACKS = [("eng", 440), ("fre", 660), ("ger", 880)]


def _tones() -> list[str]:
    args = []
    for _, freq in TRACKS:
        args += ["-f", "lavfi", "-i", f"sine=f={freq}:r=48000:d=2"]
    return args


def _tags(first_audio_input: int) -> list[str]:
    args = []
    for n, (language, _) in enumerate(TRACKS):
        args += ["-map", f"{first_audio_input + n}:a", f"-metadata:s:a:{n}", f"language={language}",
                 f"-disposition:a:{n}", "default" if n == 1 else "0"]
    return args


@pytest.fixture(scope="module")
def multi(tmp_path_factory) -> dict[str, Path]:
    """``video``: H.264 + three AAC tracks (default: the second) + German SRT, in Matroska;
    ``audio``: the same three tracks without picture, in Matroska."""
    d = tmp_path_factory.mktemp("tracks")
    srt = d / "sub.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:01,500\nHallo\n", encoding="utf-8")
    video, audio = d / "three.mkv", d / "three_audio.mkv"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=blue:s=96x64:r=10:d=2", *_tones(),
                "-f", "srt", "-i", str(srt), "-map", "0:v", *_tags(1), "-map", "4:s",
                "-c:v", "libx264", "-c:a", "aac", "-c:s", "srt",
                "-metadata:s:s:0", "language=ger", str(video)])
    run_ffmpeg(["-y", *_tones(), *_tags(0), "-c:a", "aac", str(audio)])
    return {"video": video, "audio": audio}


def test_probe_reports_the_default_track(multi):
    info = probe(multi["video"])
    assert [(s.language, s.default) for s in info.audio_streams] == [
        ("eng", False), ("fre", True), ("ger", False)]
    assert info.default_audio is info.audio_streams[1]
    assert describe_audio_tracks(info) == (
        "0: eng, aac, 1 ch; 1: fre, aac, 1 ch (default); 2: ger, aac, 1 ch")


def test_decode_takes_the_default_track(multi, peak_hz):
    audio = decode_audio(multi["video"], mono=True)
    assert peak_hz(audio.samples, audio.rate) == pytest.approx(660, abs=2)
    info = probe(multi["video"])
    third = decode_audio(multi["video"], mono=True, stream_index=info.audio_streams[2].index)
    assert peak_hz(third.samples, third.rate) == pytest.approx(880, abs=2)


def test_check_audio_track(multi):
    info = probe(multi["video"])
    assert check_audio_track(info) is info.audio_streams[1]
    assert check_audio_track(info, 0) is info.audio_streams[0]
    assert check_audio_track(info, 2).language == "ger"
    for wrong in (3, -1):
        with pytest.raises(InputError, match=rf"audio track {wrong} does not exist in .*three.mkv; "
                           r"its audio tracks are 0: eng.*1: fre, aac, 1 ch \(default\).*2: ger"):
            check_audio_track(info, wrong)


def test_no_audio_track_to_choose(media):
    with pytest.raises(MediaError, match="has no audio stream"):
        check_audio_track(probe(media["silent_mp4"]), 0)


def test_mux_keeps_every_track(multi, tmp_path, make_sine, peak_hz):
    out = tmp_path / "dubbed.mkv"
    info = mux_dub(multi["video"], make_sine(330, 48000, 2.0), out, "es", "fr")
    assert [(s.kind, s.language, s.default) for s in info.streams] == [
        ("video", None, False),
        ("audio", "spa", True),  # the dub, the only default track
        ("audio", "fre", False),  # the dubbed original
        ("audio", "eng", False),  # then the other tracks in their order
        ("audio", "ger", False),
        ("subtitle", "ger", False),
    ]
    tones = [peak_hz(decode_audio(out, mono=True, stream_index=s.index).samples, 48000)
             for s in info.audio_streams]
    assert tones == pytest.approx([330, 660, 440, 880], abs=3)
    source = decode_audio(multi["video"], stream_index=1)  # eng: copied, not re-encoded
    np.testing.assert_array_equal(decode_audio(out, stream_index=3).samples, source.samples)


def test_mux_dubs_the_chosen_track(multi, tmp_path, make_sine):
    src = probe(multi["video"])
    chosen = check_audio_track(src, 2)
    info = mux_dub(multi["video"], make_sine(330, 48000, 2.0), tmp_path / "o.mkv", "es", "de",
                   audio_stream=chosen.index)
    assert [s.language for s in info.audio_streams] == ["spa", "ger", "eng", "fre"]
    with pytest.raises(InputError, match="stream 0 .* is not an audio stream"):
        mux_dub(multi["video"], make_sine(330, 48000, 2.0), tmp_path / "p.mkv", "es", "de",
                audio_stream=0)


def test_mp4_output_converts_subtitles(multi, tmp_path, make_sine):
    plan = check_output_for(probe(multi["video"]), tmp_path / "o.mp4")
    assert [codec for _, codec in plan.subtitles] == ["mov_text"] and plan.dropped == ()
    info = mux_dub(multi["video"], make_sine(330, 48000, 2.0), tmp_path / "o.mp4", "es", "fr")
    assert [s.codec for s in info.streams if s.kind == "subtitle"] == ["mov_text"]
    assert len(info.audio_streams) == 4


def test_audio_only_tracks_into_audio_file_are_noted(multi):
    plan = plan_mux(probe(multi["audio"]), "out.wav")
    assert not plan.tracks
    assert plan.dropped == (
        "stream 0 (audio, aac, eng) is left out: a .wav file holds the dub only",
        "stream 2 (audio, aac, ger) is left out: a .wav file holds the dub only",
    )


def test_webm_leaves_out_what_it_cannot_hold(multi, media):
    plan = plan_mux(probe(multi["audio"]), "out.webm")
    assert plan.original is None and plan.other_audio == ()  # AAC: WebM takes Opus and Vorbis
    assert len(plan.dropped) == 3 and all("WebM holds only Opus" in n for n in plan.dropped)
    webm = plan_mux(probe(media["webm"]), "out.webm")
    assert webm.original is not None and webm.dropped == ()


def test_audio_only_into_a_container_keeps_tracks(multi, tmp_path, make_sine):
    info = mux_dub(multi["audio"], make_sine(330, 48000, 2.0), tmp_path / "o.mp4", "es", "fr")
    assert not info.has_video
    assert [(s.language, s.default) for s in info.audio_streams] == [
        ("spa", True), ("fre", False), ("eng", False), ("ger", False)]
