"""decode_audio / iter_audio: shapes, rates, and refusing broken input."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from dubkit.errors import InputError, MediaError
from dubkit.media import decode_audio, iter_audio


def test_native_rate_and_channels(media):
    wav = decode_audio(media["wav"])
    assert wav.rate == 16000 and wav.samples.shape == (1, 32000)
    assert wav.samples.dtype == np.float32
    flac = decode_audio(media["flac"])
    assert flac.rate == 44100 and flac.samples.shape == (2, 88200)


def test_mono_and_resample(media, peak_hz):
    audio = decode_audio(media["flac"], rate=16000, mono=True)
    assert audio.rate == 16000 and audio.samples.shape == (32000,)
    assert peak_hz(audio.samples, audio.rate) == pytest.approx(440, abs=2)
    stereo_peak = np.abs(decode_audio(media["flac"]).samples).max()  # both channels are equal
    assert np.abs(audio.samples).max() == pytest.approx(stereo_peak, rel=0.02)


def test_mono_is_the_channel_mean(media):
    stereo = decode_audio(media["flac"])
    mono = decode_audio(media["flac"], mono=True)
    np.testing.assert_allclose(mono.samples, stereo.mono().samples, atol=1e-7)


@pytest.mark.parametrize("name", ["mp3", "m4a", "ogg", "mp4", "mkv", "webm", "mov"])
def test_decodes_every_container(media, name, peak_hz):
    audio = decode_audio(media[name], rate=16000, mono=True)
    assert audio.duration == pytest.approx(2.0, abs=0.06)
    assert peak_hz(audio.samples, 16000) == pytest.approx(440, abs=2)


def test_stream_index_picks_a_track(media, peak_hz):
    second = decode_audio(media["mp4"], stream_index=2)  # the 660 Hz French track
    assert second.rate == 22050
    assert peak_hz(second.samples, second.rate) == pytest.approx(660, abs=2)
    with pytest.raises(InputError, match="stream 0 .* is not an audio stream; audio streams: 1, 2"):
        decode_audio(media["mp4"], stream_index=0)


def test_video_without_audio(media):
    with pytest.raises(MediaError, match="has no audio stream"):
        decode_audio(media["silent_mp4"])


def test_zero_length(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(MediaError, match=r"has no audio \(zero length\)"):
        decode_audio(empty)


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "movie.mp4"
    fake.write_text("definitely not a movie\n" * 50)
    with pytest.raises(MediaError, match="movie.mp4"):
        decode_audio(fake)


@pytest.mark.parametrize("name", ["mp4", "faststart_mp4", "flac", "mp3", "webm", "mkv"])
def test_truncated_files_are_refused(media, name, tmp_path, cut_in_half):
    broken = cut_in_half(media[name], tmp_path / f"half_{media[name].name}")
    with pytest.raises(MediaError, match=f"half_{media[name].name}"):
        decode_audio(broken)


def test_iter_audio_matches_decode_audio(media):
    whole = decode_audio(media["mkv"], rate=16000, mono=True)
    chunks = list(iter_audio(media["mkv"], rate=16000, chunk_seconds=0.25))
    assert all(c.samples.shape == (4000,) for c in chunks[:-1])
    assert 0 < chunks[-1].num_samples <= 4000
    np.testing.assert_array_equal(np.concatenate([c.samples for c in chunks]), whole.samples)


def test_iter_audio_multichannel(media):
    chunks = list(iter_audio(media["flac"], rate=44100, chunk_seconds=0.5, mono=False))
    assert [c.samples.shape for c in chunks] == [(2, 22050)] * 4


def test_iter_audio_can_stop_early(media):
    stream = iter_audio(media["flac"], rate=16000, chunk_seconds=0.1)
    first = next(stream)
    stream.close()  # must stop ffmpeg without raising
    assert first.num_samples == 1600


def test_iter_audio_reports_truncation(media, tmp_path, cut_in_half):
    broken = cut_in_half(media["flac"], tmp_path / "half.flac")
    with pytest.raises(MediaError, match="half.flac"):
        for _ in iter_audio(broken, rate=16000, chunk_seconds=0.5):
            pass
    with pytest.raises(InputError, match="chunk_seconds"):
        next(iter_audio(media["flac"], rate=16000, chunk_seconds=0))
