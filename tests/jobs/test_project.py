import json

import pytest

from dubkit.errors import ProjectError
from dubkit.jobs.project import Project, load_project, validate_project
from dubkit.types import Placement, Segment, Speaker


def _project():
    return Project(
        input={"path": "/x.wav", "sha256": "0" * 64, "size": 10, "duration": 1.0,
               "format": "wav", "streams": [{"index": 0, "kind": "audio", "codec": "pcm_s16le"}]},
        target_language="ja",
        preset={"name": "tiny-test", "fingerprint": "f", "config": {}},
        source_language="en",
        speakers=[Speaker("SPEAKER_00", 1.0, "v", "male")],
        segments=[Segment("seg-0001", 0.0, 1.0, "SPEAKER_00", "hi", "やあ", "segments/a.wav",
                          Placement(0.0, 1.1, 1.25, 0.1), ("overflow",))],
    )


def test_round_trip(tmp_path):
    _project().save(tmp_path)
    loaded = load_project(tmp_path)
    assert loaded.segments == _project().segments
    assert loaded.speakers == _project().speakers
    data = json.loads((tmp_path / "project.json").read_text())
    assert data["schema_version"] == 1
    validate_project(data)


def test_missing_project_is_none(tmp_path):
    assert load_project(tmp_path) is None


def test_invalid_edit_is_a_clear_error(tmp_path):
    _project().save(tmp_path)
    data = json.loads((tmp_path / "project.json").read_text())
    data["segments"][0]["start"] = "soon"
    (tmp_path / "project.json").write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="segments/0/start"):
        load_project(tmp_path)


def test_broken_json_is_a_clear_error(tmp_path):
    (tmp_path / "project.json").write_text("{")
    with pytest.raises(ProjectError, match="not valid JSON"):
        load_project(tmp_path)


def test_a_user_edit_is_text_that_differs_from_what_the_machine_gave_the_line():
    from dubkit.jobs.project import user_edit

    now = Segment("seg-0001", 0.0, 1.0, "S1", "Hello.", "Hola.")
    given = now.replace(target_text="Hola.", machine_text="Hola.")
    assert user_edit(None, now, "Hola.") is None
    assert user_edit(given.replace(target_text="¡Hola!"), now, "Hola.") == "¡Hola!"
    # the machine now says something else (another model, a whole-sentence translation):
    # what it said before is still not the user's
    assert user_edit(given, now, "Buenas.") is None
    assert user_edit(given.replace(target_text="¡Hola!"), now, "Buenas.") == "¡Hola!"
    # the source line changed: an old edit no longer applies
    assert user_edit(given.replace(target_text="¡Hola!"), now.replace(source_text="Hi."),
                     "Hola.") is None
    # a line the machine never translated (the run was stopped before it did): its empty
    # or stale target text is nothing the user wrote
    interrupted = now.replace(target_text="")
    assert user_edit(interrupted, now, "Hola.") is None
    assert user_edit(now.replace(target_text="¡Hola!"), now, "Hola.") is None
    # but emptying a translated line is an edit (the user wants it silent)
    assert user_edit(given.replace(target_text=""), now, "Hola.") == ""


def test_every_write_is_the_next_revision(tmp_path):
    project = _project()
    project.save(tmp_path)
    project.save(tmp_path)
    loaded = load_project(tmp_path)
    assert loaded.revision == 2
    follower = _project()
    follower.continues(loaded)
    follower.save(tmp_path)
    assert load_project(tmp_path).revision == 3


def test_a_write_never_replaces_a_newer_file(tmp_path):
    project = _project()
    project.save(tmp_path)
    path = tmp_path / "project.json"
    data = json.loads(path.read_text())
    data["segments"][0]["target_text"] = "こんにちは"  # edited while the job runs
    path.write_text(json.dumps(data))
    edited = path.read_bytes()
    with pytest.raises(ProjectError, match="changed by someone else"):
        project.save(tmp_path)
    assert path.read_bytes() == edited


def test_a_project_from_before_revisions_loads_as_revision_0(tmp_path):
    _project().save(tmp_path)
    path = tmp_path / "project.json"
    data = json.loads(path.read_text())
    del data["revision"]
    path.write_text(json.dumps(data))
    assert load_project(tmp_path).revision == 0
