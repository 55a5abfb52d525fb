import pytest

from dubkit.config import StageConfig
from dubkit.errors import BackendUnavailable, PresetError
from dubkit.registry import (
    BACKENDS,
    BackendSpec,
    backends_of,
    create_backend,
    get_spec,
    load_class,
    voice_models,
)


def test_every_registered_backend_imports():
    for spec in BACKENDS.values():
        assert callable(load_class(spec)), spec.name


def test_unknown_backend_lists_choices():
    with pytest.raises(PresetError, match="choices: energy, silero"):
        get_spec("vad", "silero-typo")
    assert backends_of("vad") == ["energy", "silero"]


def test_missing_library_names_the_extra():
    spec = BackendSpec("vad", "ghost", "dubkit_no_such_module:Thing", "ghost-extra", "test")
    with pytest.raises(BackendUnavailable, match=r"pip install 'dubkit\[ghost-extra\]'"):
        load_class(spec)


def test_bad_options_are_a_preset_error():
    with pytest.raises(PresetError, match="rejected its options"):
        create_backend("vad", StageConfig("energy", {"no_such_option": 1}), {})


def test_nested_embedder_is_built():
    diarizer = create_backend("diarization", StageConfig("clustering", {"embedder": "mfcc"}), {})
    assert diarizer.embedder.name == "mfcc"


def test_a_voice_names_the_models_of_the_synthesizer_that_speaks_it():
    from dubkit.config import load_preset

    routed = load_preset("cpu").stages["synthesis"]
    assert voice_models(routed, "kokoro/jf_alpha") == ["kokoro-82m-ja"]
    assert voice_models(routed, "piper/en_US-joe") == ["piper-en-us-joe"]
    assert voice_models(routed, "espeak/es") == []  # espeak-ng needs no model file
    assert voice_models(routed, "nobody/x") == []
    single = StageConfig("hf-vits", {"model": "tiny-vits"})
    assert voice_models(single, "any") == ["tiny-vits"]


def test_provenance_lists_only_the_voices_that_spoke():
    from dubkit.jobs.provenance import without_silent_voices

    models = [{"name": "whisper-base", "stage": "transcription"},
              {"name": "kokoro-82m-ja", "stage": "synthesis"},
              {"name": "piper-en-us-joe", "stage": "synthesis"}]
    assert [m["name"] for m in without_silent_voices(models, {"kokoro-82m-ja"})] == [
        "whisper-base", "kokoro-82m-ja"]
