import os
from pathlib import Path

import pytest

from dubkit.errors import InputError
from dubkit.inputs import check_input_file, check_output_file


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        check_input_file(tmp_path / "nope.mp4")


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        check_input_file(tmp_path)


def test_unsupported_extension(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("x")
    with pytest.raises(InputError, match="accepted: .mp4"):
        check_input_file(p)


def test_empty_file(tmp_path):
    p = tmp_path / "a.wav"
    p.touch()
    with pytest.raises(InputError, match="empty"):
        check_input_file(p)


def test_output_rules(tmp_path):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    with pytest.raises(InputError, match="is the input itself"):
        check_output_file(video, video.resolve())
    with pytest.raises(InputError, match="must end in .mp4"):
        check_output_file(tmp_path / "a.mkv", video.resolve())
    with pytest.raises(InputError, match="does not exist"):
        check_output_file(tmp_path / "no" / "b.mp4", video.resolve())
    assert check_output_file(tmp_path / "b.mp4", video.resolve()).name == "b.mp4"


def unwritable_folder(tmp_path):
    """A folder nobody may write to: /proc for root, a read-only folder for anyone else."""
    if os.geteuid() == 0:
        return Path("/proc")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return locked


def test_unwritable_output_folder(tmp_path):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    with pytest.raises(InputError, match="not writable"):
        check_output_file(unwritable_folder(tmp_path) / "b.mp4", video.resolve())
