"""Files beside the output: replaced only when they are the job's own, never through a link."""
from __future__ import annotations

import json

import pytest

from dubkit.errors import InputError, OutputExists
from dubkit.hashing import sha256_file
from dubkit.jobs.outputs import (
    StagedOutputs,
    check_job_folder,
    check_ours,
    known_hashes,
    record,
    sidecar_files,
)
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.provenance import FORMAT, manifest_path


@pytest.fixture
def paths(tmp_path):
    return JobPaths.for_output(tmp_path / "talk.es.mp4", "en")


def test_absent_files_and_the_jobs_own_files_pass(paths):
    files = [paths.output, *sidecar_files(paths, "en")]
    check_ours(files, set(), force=False)
    paths.subtitles.write_text("1\n")
    check_ours(files, set(record([paths.subtitles]).items()), force=False)


def test_a_file_someone_else_wrote_is_refused_unless_forced(paths):
    paths.subtitles_vtt.write_text("WEBVTT\n\nmine\n")
    known = {(paths.subtitles_vtt.name, "0" * 64)}
    with pytest.raises(OutputExists, match="talk.es.vtt exists and was not written"):
        check_ours(sidecar_files(paths, "en"), known, force=False)
    check_ours(sidecar_files(paths, "en"), known, force=True)
    assert paths.subtitles_vtt.read_text() == "WEBVTT\n\nmine\n"  # checking writes nothing


def test_links_and_folders_are_refused_even_when_forced(paths, tmp_path):
    elsewhere = tmp_path / "elsewhere.srt"
    elsewhere.write_text("x")
    paths.subtitles.symlink_to(elsewhere)
    with pytest.raises(InputError, match="symbolic link"):
        check_ours(sidecar_files(paths, "en"), set(), force=True)
    paths.subtitles.unlink()
    paths.source_subtitles.mkdir()
    with pytest.raises(InputError, match="not a file"):
        check_ours(sidecar_files(paths, "en"), set(), force=True)


def test_the_job_folder_must_be_a_folder_dubkit_made(paths):
    check_job_folder(paths.job_dir, force=False)  # absent
    paths.job_dir.write_text("in the way")
    with pytest.raises(InputError, match="not a folder"):
        check_job_folder(paths.job_dir, force=True)
    paths.job_dir.unlink()
    paths.job_dir.mkdir()
    (paths.job_dir / "cache").mkdir()
    check_job_folder(paths.job_dir, force=False)  # a job stopped before its first record
    (paths.job_dir / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(OutputExists, match="holiday.jpg"):
        check_job_folder(paths.job_dir, force=False)
    check_job_folder(paths.job_dir, force=True)


def test_the_manifest_vouches_for_the_files_when_project_json_is_lost(paths):
    paths.output.write_bytes(b"media")
    paths.subtitles.write_text("subs")
    manifest = manifest_path(paths.output)
    manifest.write_text(json.dumps({
        "format": FORMAT, "output": {"name": paths.output.name,
                                     "sha256": sha256_file(paths.output)},
        "files": record([paths.subtitles]),
    }))
    known = known_hashes([], paths.output)
    check_ours([paths.output, paths.subtitles, manifest], known, force=False)
    paths.output.write_bytes(b"someone else's media")  # then neither is the manifest ours
    known = known_hashes([], paths.output)
    with pytest.raises(OutputExists):
        check_ours([paths.output], known, force=False)
    with pytest.raises(OutputExists):
        check_ours([manifest], known, force=False)


@pytest.mark.parametrize("text", ["", "{", "[]", '{"format": "other"}', "[" * 50_000])
def test_a_damaged_or_foreign_manifest_vouches_for_nothing(paths, text):
    manifest_path(paths.output).write_text(text)
    assert known_hashes([], paths.output) == set()


def test_staged_outputs_move_in_place_together(paths):
    staging = StagedOutputs(paths, "en")
    assert staging.paths.output.parent == paths.job_dir / "staging"
    staging.paths.output.write_bytes(b"media")
    staging.paths.subtitles.write_text("subs")
    pending = staging.hashes()
    assert set(pending) == {paths.output.name, paths.subtitles.name}
    assert staging.place() == pending
    assert paths.output.read_bytes() == b"media" and paths.subtitles.read_text() == "subs"
    assert not any((paths.job_dir / "staging").iterdir())
