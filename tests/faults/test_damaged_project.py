"""A damaged project.json is one line that names it and the way out; ``--no-resume`` (without
``--force``) then starts the job over."""
from __future__ import annotations

import copy
import json

import pytest

pytestmark = pytest.mark.slow


def edited(change):
    """A damage made by editing the parsed project."""
    def damage(data: bytes) -> bytes:
        project = copy.deepcopy(json.loads(data))
        change(project)
        return json.dumps(project, indent=2).encode()
    return damage


def first(kind: str, key: str, value):
    """Set ``key`` of the first speaker, segment or placement to ``value``."""
    def change(project):
        target = {"speaker": project["speakers"][0], "segment": project["segments"][0],
                  "placement": project["segments"][0]["placement"]}[kind]
        target[key] = value
    return change


DAMAGES = {
    "undecodable bytes": lambda data: data[:40] + b"\xff\xfe\x80" + data[40:],
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "a list": lambda data: b"[]",
    "nested 100000 deep": lambda data: b"[" * 100_000 + b"]" * 100_000,
    "NaN": lambda data: data.replace(b'"start": 0', b'"start": NaN, "x": 0', 1),
    "extra top-level key": edited(lambda p: p.update(extra=1)),
    "extra key in a speaker": edited(first("speaker", "extra", 1)),
    "extra key in a segment": edited(first("segment", "extra", 1)),
    "extra key in a placement": edited(first("placement", "extra", 1)),
    "start is text": edited(first("segment", "start", "x")),
    "segments is an object": edited(lambda p: p.update(segments={})),
    "unknown speaker": edited(first("segment", "speaker", "SPEAKER_99")),
    "a line id twice": edited(lambda p: p["segments"].append(p["segments"][0])),
    "a line ends before it starts": edited(first("segment", "end", 0.0)),
    "status bogus": edited(lambda p: p.update(status="bogus")),
    "watermark is text": edited(lambda p: p["options"].update(watermark="x")),
    "watermark payload not hex": edited(lambda p: p["options"]["watermark"].update(payload="zz")),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_project_is_one_line_then_no_resume_starts_over(kit, reference, tmp_path,
                                                                damage):
    output = reference.copy_to(tmp_path / "job")
    project = kit.paths_of(output).job_dir / "project.json"
    project.write_bytes(DAMAGES[damage](project.read_bytes()))
    damaged = project.read_bytes()
    command = ("translate", str(output.with_name(reference.input.name)), *kit.JOB_ARGS)

    result = kit.invoke(*command)
    assert result.exit_code == 1, result.stderr
    kit.assert_one_line(result.stderr, str(project), "--no-resume")
    assert project.read_bytes() == damaged, "the damaged file was changed: the user's edits?"

    started_over = kit.invoke(*command, "--no-resume")
    kit.assert_no_internal_error(started_over.stderr, started_over.stdout)
    assert started_over.exit_code == 0, started_over.stderr
    kit.assert_same_job(kit.snapshot(output), reference.snapshot)
