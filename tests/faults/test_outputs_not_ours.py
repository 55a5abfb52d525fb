"""Files beside the output that this job did not write are left alone (exit 2) unless --force;
links in any output's place are refused even then, and their targets untouched; the job's own
files from an earlier run are replaced without --force."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

FOREIGN = b"1\n00:00:00,000 --> 00:00:01,000\nwritten by someone else\n"
# file name suffix after the output's stem -> what it is
BESIDE = {".ja.mp4": "media", ".ja.srt": "subtitles", ".ja.vtt": "web subtitles",
          ".ja.en.srt": "source subtitles", ".ja.mp4.provenance.json": "manifest"}


def translate(kit, input_path, *extra):
    return kit.invoke("translate", str(input_path), *kit.JOB_ARGS, *extra)


def test_someone_elses_subtitles_in_a_new_job(kit, tmp_path):
    input_path = kit.new_workdir(tmp_path / "job")
    theirs = input_path.with_name("talk.ja.srt")
    theirs.write_bytes(FOREIGN)
    result = translate(kit, input_path)
    assert result.exit_code == 2, result.stderr
    kit.assert_one_line(result.stderr, str(theirs), "--force")
    assert theirs.read_bytes() == FOREIGN
    assert not input_path.with_name("talk.ja.mp4").exists()


@pytest.mark.parametrize("suffix", BESIDE)
def test_a_file_not_ours_is_kept_unless_forced(kit, reference, tmp_path, suffix):
    output = reference.copy_to(tmp_path / "job")
    input_path = output.with_name(reference.input.name)
    theirs = output.with_name("talk" + suffix)
    ours = theirs.read_bytes()
    theirs.write_bytes(FOREIGN)

    result = translate(kit, input_path)
    assert result.exit_code == 2, result.stderr
    kit.assert_one_line(result.stderr, str(theirs), "--force")
    assert theirs.read_bytes() == FOREIGN

    forced = translate(kit, input_path, "--force")
    kit.assert_no_internal_error(forced.stderr, forced.stdout)
    assert forced.exit_code == 0, forced.stderr
    if suffix.endswith(".provenance.json"):  # its creation time differs
        assert kit.comparable_manifest(json.loads(theirs.read_bytes())) == \
            reference.snapshot.manifest
    else:
        assert theirs.read_bytes() == ours


@pytest.mark.parametrize("suffix", [*BESIDE, ".ja.dubkit"])
def test_a_link_in_an_outputs_place_is_refused(kit, tmp_path, suffix):
    input_path = kit.new_workdir(tmp_path / "job")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / ("folder" if suffix.endswith(".dubkit") else "file")
    if suffix.endswith(".dubkit"):
        target.mkdir()
    else:
        target.write_bytes(FOREIGN)
    link = input_path.with_name("talk" + suffix)
    link.symlink_to(target)
    for extra in ((), ("--force",)):
        result = translate(kit, input_path, *extra)
        assert result.exit_code == 2, result.stderr
        kit.assert_one_line(result.stderr, "link")
        assert link.is_symlink()
        if target.is_dir():
            assert list(target.iterdir()) == []
        else:
            assert target.read_bytes() == FOREIGN


def test_a_file_where_the_job_folder_goes(kit, tmp_path):
    input_path = kit.new_workdir(tmp_path / "job")
    in_the_way = input_path.with_name("talk.ja.dubkit")
    in_the_way.write_bytes(b"mine")
    result = translate(kit, input_path)
    assert result.exit_code == 2, result.stderr
    kit.assert_one_line(result.stderr, str(in_the_way), "not a folder")
    assert in_the_way.read_bytes() == b"mine"


def test_a_job_folder_someone_else_filled(kit, tmp_path):
    input_path = kit.new_workdir(tmp_path / "job")
    folder = input_path.with_name("talk.ja.dubkit")
    folder.mkdir()
    (folder / "notes.txt").write_bytes(b"mine")
    result = translate(kit, input_path)
    assert result.exit_code == 2, result.stderr
    kit.assert_one_line(result.stderr, str(folder), "--force")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_the_jobs_own_files_are_replaced_without_force(kit, reference, tmp_path):
    output = reference.copy_to(tmp_path / "job")
    project_file = kit.paths_of(output).job_dir / "project.json"
    project = json.loads(project_file.read_text())
    project["segments"][0]["target_text"] = "a line the user wrote"
    project_file.write_text(json.dumps(project, indent=2))
    before = {p.name: kit.sha256(p) for p in kit.beside_output(output)}

    result = translate(kit, output.with_name(reference.input.name))
    kit.assert_no_internal_error(result.stderr, result.stdout)
    assert result.exit_code == 0, result.stderr
    after = {p.name: kit.sha256(p) for p in kit.beside_output(output)}
    changed = {name for name in before if before[name] != after[name]}
    # the source subtitles do not change with the edit; everything else does
    assert changed == set(before) - {"talk.ja.en.srt"}, changed
    assert "a line the user wrote" in output.with_name("talk.ja.srt").read_text()
    assert kit.load_project_json(output)["outputs"]["files"] == after


@pytest.mark.parametrize("entry", ["segments", "staging"])
def test_a_link_inside_the_job_folder_is_refused(kit, reference, tmp_path, entry):
    output = reference.copy_to(tmp_path / "job")
    inner = kit.paths_of(output).job_dir / entry
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if inner.exists():
        for path in inner.iterdir():
            path.rename(elsewhere / path.name)
        inner.rmdir()
    inner.symlink_to(elsewhere)
    before = {p.name: p.stat().st_mtime_ns for p in elsewhere.iterdir()}
    result = translate(kit, output.with_name(reference.input.name))
    assert {p.name: p.stat().st_mtime_ns for p in elsewhere.iterdir()} == before, \
        "dubkit wrote through the link"
    assert result.exit_code == 2, result.stderr
    kit.assert_one_line(result.stderr, str(inner), "link")


def test_someone_elses_source_subtitles_found_after_language_detection(kit, tmp_path):
    input_path = kit.new_workdir(tmp_path / "job")
    args = ("translate", str(input_path), "--to", "ja", "--preset", "tiny-test")  # no --from
    first = kit.invoke(*args)
    assert first.exit_code == 0, first.stderr
    source = kit.load_project_json(kit.output_of(input_path))["source_language"]
    theirs = input_path.with_name(f"talk.ja.{source}.srt")
    ours = theirs.read_bytes()
    theirs.write_bytes(FOREIGN)

    result = kit.invoke(*args)
    assert result.exit_code == 2, result.stderr
    kit.assert_one_line(result.stderr, str(theirs), "--force")
    assert theirs.read_bytes() == FOREIGN
    forced = kit.invoke(*args, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert theirs.read_bytes() == ours
