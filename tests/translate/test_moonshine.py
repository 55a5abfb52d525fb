"""MoonshineTranscriber on the real Moonshine weights that ship in moonshine-voice (tiny) and
moonshine-cpp (base), on the real recording in samples/ (skipped when a package is missing)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("moonshine_voice", reason="moonshine-voice is not installed")

from dubkit.config import StageConfig  # noqa: E402
from dubkit.errors import (  # noqa: E402
    DubkitError,
    InputError,
    ModelUnavailable,
    UnsupportedLanguage,
)
from dubkit.models import model_status, resolve_model  # noqa: E402
from dubkit.registry import create_backend  # noqa: E402
from dubkit.translate.moonshine import MoonshineTranscriber  # noqa: E402
from dubkit.types import Audio  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "jfk.mp4"
JFK = ("and so my fellow americans ask not what your country can do for you "
       "ask what you can do for your country")
CHUNK = 1_600  # samples: 100 ms at 16 kHz


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _cer(reference: str, hypothesis: str) -> float:
    """Character error rate of the normalised words (jiwer when installed)."""
    reference, hypothesis = _words(reference), _words(hypothesis)
    try:
        import jiwer
    except ImportError:  # pragma: no cover - jiwer comes with dubkit[test]
        return _edit_distance(reference, hypothesis) / max(1, len(reference))
    return float(jiwer.cer(reference, hypothesis))


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _model_folder(name: str) -> Path:
    status = model_status(name)
    if not status.available:
        pytest.skip(f"model {name} is not installed: {status.detail}")
    return resolve_model(name).path


def _stream_text(transcriber: MoonshineTranscriber, samples: np.ndarray, chunk: int):
    """(partials seen before the last chunk, final text) of ``samples`` fed ``chunk`` at a time."""
    with transcriber.stream() as stream:
        partials = [stream.feed(samples[s:s + chunk]) for s in range(0, samples.size, chunk)]
        return partials[:-1], stream.finish()


@pytest.fixture(scope="module")
def tiny() -> MoonshineTranscriber:
    return MoonshineTranscriber(_model_folder("moonshine-tiny-en"))


@pytest.fixture(scope="module")
def jfk() -> Audio:
    if not SAMPLE.is_file():
        pytest.skip(f"the sample recording is missing: {SAMPLE}")
    from dubkit.media import decode_audio

    return decode_audio(SAMPLE, rate=16_000, mono=True)


@pytest.fixture(scope="module")
def streamed(tiny, jfk) -> tuple[list[str], str]:
    """The sample fed in 100 ms chunks: (partials before the last chunk, final text)."""
    return _stream_text(tiny, jfk.samples, CHUNK)


def test_whole_clip_transcript(tiny, jfk):
    result = tiny.transcribe(jfk, "en")
    assert result.language == "en"
    assert _cer(JFK, result.text) < 0.1, result.text


def test_other_rates_and_channels_are_converted(tiny, jfk):
    stereo_44k = Audio(np.stack([jfk.samples, jfk.samples]), 16_000)
    from dubkit.dsp import resample

    result = tiny.transcribe(resample(stereo_44k, 44_100), "en")
    assert _cer(JFK, result.text) < 0.1, result.text


def test_quiet_clip_is_normalised_before_recognition(jfk):
    quiet = Audio(jfk.samples * np.float32(10 ** (-40 / 20)), jfk.rate)  # peak near -42 dBFS
    folder = _model_folder("moonshine-tiny-en")
    assert _cer(JFK, MoonshineTranscriber(folder).transcribe(quiet, "en").text) < 0.1
    # without the gain the runtime's VAD hears (almost) nothing: the normalisation is what works
    raw = MoonshineTranscriber(folder, normalize=False).transcribe(quiet, "en").text
    assert _cer(JFK, raw) > 0.5, raw


def test_stream_gives_partials_then_the_whole_clip_text(tiny, jfk, streamed):
    whole = tiny.transcribe(jfk, "en").text
    partials, final = streamed
    early = [p for p in partials[: len(partials) // 2] if p]
    assert early, "no partial text in the first half of the clip"
    assert _words(early[-1]).split()[0] == _words(final).split()[0]  # partials grow the phrase
    assert _cer(whole, final) < 0.1, (whole, final)
    assert _cer(JFK, final) < 0.1, final


def test_chunk_size_does_not_change_the_final_text(tiny, jfk, streamed):
    _, in_odd = _stream_text(tiny, jfk.samples, 1_234)
    assert in_odd == streamed[1]


def test_stream_snapshot_reset_and_misuse(tiny, jfk):
    first_line = jfk.samples[: 3 * 16_000]  # "And so my fellow Americans"
    with tiny.stream() as stream:
        for start in range(0, first_line.size, CHUNK):
            stream.feed(first_line[start:start + CHUNK])
        heard = stream.snapshot()
        assert heard.audio == pytest.approx(3.0) and not heard.final
        assert "fellow" in _words(heard.text)
        final = stream.finish()
        assert stream.snapshot().final and "americans" in _words(final)
        with pytest.raises(InputError, match="reset"):
            stream.feed(first_line[:CHUNK])
        stream.reset()
        assert stream.partial == "" and stream.snapshot().audio == 0.0
        stream.feed(np.zeros(16_000, dtype=np.float32))
        assert stream.finish() == ""  # the last phrase is forgotten
        stream.reset()
        with pytest.raises(InputError, match="mono"):
            stream.feed(np.zeros((2, CHUNK), dtype=np.float32))
        with pytest.raises(InputError, match="float"):
            stream.feed(np.zeros(CHUNK, dtype=np.int16))
        with pytest.raises(InputError, match="NaN"):
            stream.feed(np.full(CHUNK, np.nan, dtype=np.float32))


def test_silence_gives_empty_text(tiny):
    silence = Audio.silence(3.0, 16_000)
    assert tiny.transcribe(silence, "en").text == ""
    assert tiny.transcribe(Audio.silence(0.0, 16_000), "en").text == ""
    noise = np.random.default_rng(0).standard_normal(48_000).astype(np.float32) * 1e-3
    assert _stream_text(tiny, noise, CHUNK)[1] == ""
    partials, final = _stream_text(tiny, silence.samples, CHUNK)
    assert not any(partials) and final == ""


def test_requests_it_cannot_serve(tiny, jfk):
    with pytest.raises(UnsupportedLanguage, match="it knows: en"):
        tiny.transcribe(jfk, "ja")
    with pytest.raises(InputError, match="cannot translate"):
        tiny.transcribe(jfk, "en", task="translate")
    with pytest.raises(InputError, match="unknown task"):
        tiny.transcribe(jfk, "en", task="summarise")
    with pytest.raises(InputError, match="cannot detect"):
        tiny.detect_language(jfk)
    assert tiny.languages == {"en"} and not tiny.can_translate


def test_folder_checks(tmp_path):
    with pytest.raises(ModelUnavailable, match="encoder_model.ort"):
        MoonshineTranscriber(tmp_path)
    for name in ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(InputError, match="arch='tiny'"):
        MoonshineTranscriber(tmp_path)  # the folder name says neither tiny nor base
    with pytest.raises(InputError, match="unknown Moonshine arch"):
        MoonshineTranscriber(tmp_path, arch="small")
    with pytest.raises(InputError, match="update_interval"):
        MoonshineTranscriber(tmp_path, arch="tiny", update_interval=0)
    with pytest.raises(ModelUnavailable, match="cannot load"):
        MoonshineTranscriber(tmp_path, arch="tiny").transcribe(Audio.silence(1.0, 16_000), "en")


def test_registry_builds_it_from_the_catalog():
    folder = _model_folder("moonshine-tiny-en")
    backend = create_backend("transcription", StageConfig("moonshine", {
        "model": "moonshine-tiny-en", "update_interval": 0.25}),
        {"moonshine-tiny-en": resolve_model("moonshine-tiny-en")})
    assert isinstance(backend, MoonshineTranscriber)
    assert (backend.path, backend.arch, backend.update_interval) == (folder, "tiny", 0.25)


@pytest.mark.slow
def test_base_model(jfk):
    """Base is accurate but slow in moonshine-voice's runtime (about 0.25 s a token on 2 cores),
    so only its first line is decoded here."""
    folder = _model_folder("moonshine-base-en")
    first_line = jfk.slice(0.0, 3.0)
    base = MoonshineTranscriber(folder)
    assert base.arch == "base"
    assert _cer("and so my fellow americans", base.transcribe(first_line, "en").text) < 0.1
    # the wrong arch loads, then fails on the first decode with a hint
    with pytest.raises(DubkitError, match="arch='base'"):
        MoonshineTranscriber(folder, arch="tiny").transcribe(first_line, "en")
