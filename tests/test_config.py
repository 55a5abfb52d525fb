import json
from pathlib import Path

import pytest

from dubkit.config import available_presets, load_preset, preset_from_dict
from dubkit.errors import PresetError


def test_builtin_tiny_test_preset_loads():
    preset = load_preset("tiny-test")
    assert preset.name == "tiny-test"
    assert preset.stage("vad").backend == "energy"
    assert preset.stage("transcription").options["model"] == "tiny-whisper"
    assert (preset.fit.min_tempo, preset.fit.max_tempo) == (0.85, 1.2)
    assert "tiny-test" in available_presets()


def test_unknown_preset_names_the_available_ones():
    with pytest.raises(PresetError, match="available: .*tiny-test"):
        load_preset("no-such-preset")


def test_preset_from_a_file_path(tmp_path: Path):
    source = load_preset("tiny-test").source
    copy = tmp_path / "mine.toml"
    copy.write_text(Path(source).read_text().replace('name = "tiny-test"', 'name = "mine"'))
    assert load_preset(str(copy)).name == "mine"


def test_user_presets_dir_shadows_builtin(tmp_path: Path, monkeypatch):
    (tmp_path / "tiny-test.toml").write_text(
        Path(load_preset("tiny-test").source).read_text().replace("-15.0", "-20.0"))
    monkeypatch.setenv("DUBKIT_PRESETS_DIR", str(tmp_path))
    assert load_preset("tiny-test").mix.duck_db == -20.0


BASE = {
    "vad": {"backend": "energy"},
    "diarization": {"backend": "clustering", "embedder": "mfcc"},
    "transcription": {"backend": "hf-whisper", "model": "tiny-whisper"},
    "synthesis": {"backend": "hf-vits", "model": "tiny-vits"},
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": {}}, "unknown section 'colour'; accepted: name, description, vad"),
        ({"vad": {"backend": "nope"}}, "unknown vad backend .nope.; choices: energy, silero"),
        ({"vad": {}}, r"\[vad\] needs a 'backend' key"),
        ({"fit": {"max_tempo": 0.5}}, "max_tempo must be at least 1.0"),
        ({"fit": {"speed": 2}}, r"\[fit\] accepts max_tempo"),
        ({"diarization": {"backend": "clustering", "embedder": "x"}}, "unknown embedder backend"),
    ],
)
def test_invalid_presets_say_what_is_accepted(change, message):
    with pytest.raises(PresetError, match=message):
        preset_from_dict({**BASE, **change}, default_name="p")


def test_missing_stage_is_an_error():
    data = dict(BASE)
    del data["synthesis"]
    with pytest.raises(PresetError, match=r"no \[synthesis\] section"):
        preset_from_dict(data, default_name="p")


def test_fingerprint_changes_with_options():
    a = preset_from_dict(BASE, default_name="p")
    b = preset_from_dict({**BASE, "mix": {"duck_db": -3.0}}, default_name="p")
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == preset_from_dict(BASE, default_name="p").fingerprint()


def test_a_watermark_key_is_never_written_down(tmp_path):
    from dubkit.config import load_preset
    from dubkit.watermark.base import key_id

    text = (Path(__file__).parents[1] / "presets" / "tiny-test.toml").read_text()
    path = tmp_path / "keyed.toml"
    path.write_text(text + '\n[watermark]\nbackend = "spread-spectrum"\nkey = "s3cret-key"\n')
    preset = load_preset(path)
    assert preset.stage("watermark").options["key"] == "s3cret-key"  # the backend gets it
    written = json.dumps(preset.to_dict())
    assert "s3cret-key" not in written and key_id("s3cret-key") in written
    other = tmp_path / "other.toml"
    other.write_text(text + '\n[watermark]\nbackend = "spread-spectrum"\nkey = "another"\n')
    assert load_preset(other).fingerprint() != preset.fingerprint()


@pytest.mark.parametrize("given", ["missing.toml", "some/folder/preset", "."])
def test_a_preset_path_that_is_not_a_file_says_so(tmp_path, given):
    from dubkit.config import load_preset
    from dubkit.errors import PresetError

    with pytest.raises(PresetError, match="preset file .* (does not exist|is a folder)"):
        load_preset(tmp_path / given if given != "." else str(tmp_path) + "/")


@pytest.mark.parametrize("name", ["cpu", "fast", "gpu", "live", "tiny-test", "tiny-seamless"])
def test_every_builtin_preset_names_known_backends_and_models(name):
    from dubkit.models.catalog import get_model
    from dubkit.registry import model_names

    preset = load_preset(name)  # checks every stage's backend
    assert preset.name == name and name in available_presets()
    for config in preset.stages.values():
        for model in model_names(config):
            get_model(model)  # raises for a model the catalog does not know
