import pytest

from dubkit.jobs.atomic import atomic_path, write_text


def test_write_replaces_only_when_complete(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    write_text(target, "new")
    assert target.read_text() == "new"


def test_files_get_the_usual_permissions_not_mkstemps_0600(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o666 & ~umask


def test_a_full_disk_is_named_and_leaves_nothing(tmp_path):
    import errno

    from dubkit.errors import DiskFull

    target = tmp_path / "out.wav"
    with pytest.raises(DiskFull, match="no space left.*out.wav"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_writer_that_loses_the_errno_on_a_full_disk_is_still_named(tmp_path, monkeypatch):
    from collections import namedtuple

    from dubkit.errors import DiskFull
    from dubkit.jobs import atomic

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda path: usage(10, 10, 0))
    with pytest.raises(DiskFull):
        with atomic_path(tmp_path / "x.wav"):
            raise RuntimeError("System error")  # what libsndfile says
    monkeypatch.undo()
    with pytest.raises(RuntimeError):  # with room left, an error is just that error
        with atomic_path(tmp_path / "x.wav"):
            raise RuntimeError("System error")
