import pytest

from dubkit.config import StageConfig
from dubkit.errors import BackendUnavailable, PresetError
from dubkit.registry import BACKENDS, BackendSpec, backends_of, create_backend, get_spec, load_class


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
