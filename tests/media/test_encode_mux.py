"""write_audio and mux_dub: formats, track order, untouched video, atomic writes."""
from __future__ import annotations

import os

import numpy as np
import pytest

from dubkit.errors import InputError, MediaError
from dubkit.media import decode_audio, mux_dub, probe, video_packet_hashes, write_audio
from dubkit.media.encode import AUDIO_FORMATS, choose_codec, temporary_sibling

# extension -> (codec in the file, decoded rate for 22.05 kHz input)
ROUND_TRIP = {
    ".wav": ("pcm_s16le", 22050),
    ".flac": ("flac", 22050),
    ".mp3": ("mp3", 22050),
    ".ogg": ("opus", 48000),  # Opus always decodes at 48 kHz
    ".opus": ("opus", 48000),
    ".m4a": ("aac", 22050),
}


@pytest.mark.parametrize("ext", sorted(ROUND_TRIP))
def test_write_audio_round_trip(ext, tmp_path, make_sine, peak_hz, leftovers, codec_slack):
    audio = make_sine(440, 22050, 1.5, channels=2)
    path = tmp_path / f"out{ext}"
    write_audio(audio, path, language="de")
    codec, rate = ROUND_TRIP[ext]
    stream = probe(path).audio_streams[0]
    assert (stream.codec, stream.channels) == (codec, 2)
    back = decode_audio(path)
    assert back.rate == rate and back.channels == 2
    assert back.duration == pytest.approx(1.5, abs=max(0.03, codec_slack(codec, rate)))
    assert peak_hz(back.samples, back.rate) == pytest.approx(440, abs=2)
    if ext in (".wav", ".flac"):  # lossless apart from 16-bit rounding
        np.testing.assert_allclose(back.samples, audio.samples, atol=1 / 32768 + 1e-6)
    assert leftovers(tmp_path) == []


def test_write_audio_mono_and_language(tmp_path, make_sine):
    write_audio(make_sine(300, 16000, 0.5), tmp_path / "mono.m4a", language="ja")
    stream = probe(tmp_path / "mono.m4a").audio_streams[0]
    assert (stream.channels, stream.language) == (1, "jpn")


def test_write_audio_replaces_existing(tmp_path, make_sine):
    path = tmp_path / "a.wav"
    path.write_text("old")
    write_audio(make_sine(300, 16000, 0.5), path)
    assert decode_audio(path).num_samples == 8000


def test_write_audio_rejects_bad_paths(tmp_path, make_sine):
    audio = make_sine(300, 16000, 0.1)
    with pytest.raises(InputError, match=r"cannot write audio as \.xyz; use one of \.wav"):
        write_audio(audio, tmp_path / "a.xyz")
    with pytest.raises(InputError, match="does not exist"):
        write_audio(audio, tmp_path / "missing" / "a.wav")


def test_every_extension_has_an_encoder_here():
    for ext, (_, families) in AUDIO_FORMATS.items():
        assert choose_codec(*families).encoder, ext


def test_temporary_sibling_cleans_up_on_error(tmp_path, leftovers):
    target = tmp_path / "x.wav"
    with pytest.raises(RuntimeError):
        with temporary_sibling(target) as tmp:
            assert os.path.dirname(tmp) == str(tmp_path) and tmp.endswith(".wav")
            open(tmp, "w").close()
            raise RuntimeError("boom")
    assert leftovers(tmp_path) == [] and not target.exists()


# --- mux ---------------------------------------------------------------------------------------

# container -> (dub codec, ISO 639-2 tag the container stores for French)
MUX = {"mp4": ("aac", "fre"), "mkv": ("aac", "fre"), "webm": ("opus", "fre"), "mov": ("aac", "fra")}
# container -> kinds of the output's streams (the mp4 has a second audio track, the mkv subtitles)
KINDS = {
    "mp4": ["video", "audio", "audio", "audio"],
    "mkv": ["video", "audio", "audio", "subtitle"],
    "webm": ["video", "audio", "audio"],
    "mov": ["video", "audio", "audio"],
}


@pytest.mark.parametrize("name", sorted(MUX))
def test_mux_video(name, media, tmp_path, make_sine, peak_hz, file_hash, leftovers):
    source = media[name]
    before = file_hash(source)
    src_info = probe(source)
    dub = make_sine(330, 24000, 1.7)  # shorter than the 2 s source: padded with silence
    out = tmp_path / f"dubbed.{name}"

    info = mux_dub(source, dub, out, dub_language="fr", source_language="en")

    assert file_hash(source) == before  # input untouched
    assert video_packet_hashes(out) == video_packet_hashes(source)  # same video packets
    assert len(video_packet_hashes(out)) == 20
    assert abs(info.duration - src_info.duration) <= 0.1
    # the source's other audio tracks and its subtitles follow the dub and the original
    assert [s.kind for s in info.streams] == KINDS[name]
    dub_track, original = info.audio_streams[:2]
    codec, french = MUX[name]
    assert (dub_track.codec, dub_track.language, dub_track.default) == (codec, french, True)
    orig_src = src_info.audio_streams[0]
    assert (original.codec, original.language, original.default) == (orig_src.codec, "eng", False)
    assert original.sample_rate == orig_src.sample_rate and original.channels == orig_src.channels
    # the first track sounds like the dub, the second like the source
    first = decode_audio(out, mono=True)
    assert peak_hz(first.samples, first.rate) == pytest.approx(330, abs=3)
    second = decode_audio(out, mono=True, stream_index=original.index)
    assert peak_hz(second.samples, second.rate) == pytest.approx(440, abs=3)
    assert leftovers(tmp_path) == []


def test_mux_copies_original_audio_packets(media, tmp_path, make_sine):
    out = tmp_path / "dubbed.mp4"
    mux_dub(media["mp4"], make_sine(330, 48000, 2.0), out, "fr", "en")
    source = decode_audio(media["mp4"], stream_index=1)
    copied = decode_audio(out, stream_index=2)
    np.testing.assert_array_equal(copied.samples, source.samples)  # bit-exact: not re-encoded


def test_mux_without_original(media, tmp_path, make_sine):
    out = tmp_path / "only_dub.mkv"
    info = mux_dub(media["mkv"], make_sine(330, 48000, 2.5, channels=2), out, "de", "ja",
                   keep_original=False)
    assert [(s.kind, s.language) for s in info.streams] == [
        ("video", None), ("audio", "ger"), ("subtitle", "ger")]  # the subtitles stay
    assert abs(info.duration - probe(media["mkv"]).duration) <= 0.1  # longer dub was cut


def test_mux_video_without_audio(media, tmp_path, make_sine):
    info = mux_dub(media["silent_mp4"], make_sine(330, 48000, 2.0), tmp_path / "o.mp4", "es", "en")
    assert [s.language for s in info.audio_streams] == ["spa"]


@pytest.mark.parametrize("name", ["wav", "flac", "mp3", "ogg", "m4a"])
def test_mux_audio_file(name, media, tmp_path, make_sine, file_hash):
    source = media[name]
    before = file_hash(source)
    out = tmp_path / f"dubbed{source.suffix}"
    info = mux_dub(source, make_sine(330, 24000, 1.0), out, "fr", "en")
    assert file_hash(source) == before
    assert not info.has_video and len(info.audio_streams) == 1  # no original, no cover
    assert info.format_name == probe(source).format_name
    assert abs(info.duration - probe(source).duration) <= 0.1


def test_mux_failure_leaves_nothing(media, tmp_path, make_sine, leftovers):
    out = tmp_path / "bad.webm"  # WebM cannot hold the H.264 video of the mp4
    with pytest.raises(MediaError, match="could not write .*bad.webm"):
        mux_dub(media["mp4"], make_sine(330, 48000, 2.0), out, "fr", "en")
    assert not out.exists() and leftovers(tmp_path) == []


def test_mux_refuses_to_overwrite_its_source(media, tmp_path, make_sine):
    source = tmp_path / "in.mp4"
    source.write_bytes(media["mp4"].read_bytes())
    with pytest.raises(InputError, match="is the source file"):
        mux_dub(source, make_sine(330, 48000, 2.0), source, "fr", "en")


def test_mux_rejects_unknown_video_extension(media, tmp_path, make_sine):
    with pytest.raises(InputError, match=r"cannot write a video as \.avi"):
        mux_dub(media["mp4"], make_sine(330, 48000, 2.0), tmp_path / "o.avi", "fr", "en")


def test_video_packet_hashes_need_video(media):
    with pytest.raises(MediaError, match="has no video stream"):
        video_packet_hashes(media["mp3"])  # cover art does not count
