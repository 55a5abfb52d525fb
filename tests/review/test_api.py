"""The review server's JSON API through Starlette's test client: every edit checked, a stale
page refused, renders that redo only the edited lines, SRT out and back in."""
from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("starlette", reason="dubkit[review] is not installed")
pytest.importorskip("httpx", reason="starlette's test client needs httpx")

from starlette.testclient import TestClient  # noqa: E402

from dubkit.errors import InputError  # noqa: E402
from dubkit.review.server import create_app  # noqa: E402
from dubkit.review.session import ReviewSession, find_job  # noqa: E402

from .conftest import TOKEN, line_audio_hashes  # noqa: E402

pytestmark = pytest.mark.slow
Q = f"?token={TOKEN}"


@pytest.fixture
def client(dub):
    return TestClient(create_app(ReviewSession(find_job(dub)), TOKEN))


def _project_file(dub):
    return dub.with_name("talk.ja.dubkit") / "project.json"


def _wait_for_render(client) -> dict:
    for _ in range(240):
        state = client.get(f"/api/render{Q}").json()
        if state["state"] != "running":
            return state
        time.sleep(0.25)
    raise AssertionError("the render did not finish")


def test_every_route_refuses_a_request_without_the_token(client):
    for path in ("/", "/api/project", "/api/lines.srt", "/media/dub", "/media/line/seg-0001",
                 "/static/review.js"):
        assert client.get(path).status_code == 401
        assert client.get(path + "?token=wrong").status_code == 401
    answer = client.patch("/api/lines/seg-0001", json={"target_text": "x", "revision": 0})
    assert answer.status_code == 401 and "token" in answer.json()["error"]
    assert client.get("/api/project", headers={"X-Dubkit-Token": TOKEN}).status_code == 200


def test_the_project_view_has_each_line_with_its_qa(client):
    view = client.get(f"/api/project{Q}").json()
    assert view["target_language"] == "ja" and view["video"] is True
    assert [line["id"] for line in view["lines"]] == ["seg-0001", "seg-0002", "seg-0003"]
    line = view["lines"][0]
    assert line["slot"] == pytest.approx(line["end"] - line["start"], abs=1e-3)
    assert line["similarity"] is not None and line["reasons"]  # tiny models: flagged
    assert line["needs_review"] is True and line["approved"] is False


@pytest.mark.parametrize("line, body, status, message", [
    ("seg-9999", {"target_text": "x"}, 404, "no line 'seg-9999'"),
    ("seg-0001", {"target_text": "x" * 2001}, 422, "at most 2000"),
    ("seg-0001", {"target_text": "  "}, 422, "must not be empty"),
    ("seg-0001", {"start": -1}, 422, "0 <= start < end"),
    ("seg-0001", {"end": 60.0}, 422, "0 <= start < end <= 11.00"),
    ("seg-0001", {"start": 2.0, "end": 1.0}, 422, "0 <= start < end"),
    ("seg-0001", {"speaker": "SPEAKER_07"}, 422, "not one of SPEAKER_00"),
    ("seg-0001", {"approved": "yes"}, 422, "true or false"),
    ("seg-0001", {"audio_file": "/etc/passwd"}, 400, "'audio_file' cannot be edited"),
])
def test_bad_edits_get_a_clear_4xx_and_change_nothing(client, dub, line, body, status, message):
    before = _project_file(dub).read_bytes()
    revision = client.get(f"/api/project{Q}").json()["revision"]
    answer = client.patch(f"/api/lines/{line}{Q}", json={**body, "revision": revision})
    assert answer.status_code == status and message in answer.json()["error"]
    assert _project_file(dub).read_bytes() == before


def test_a_stale_revision_is_refused_not_overwritten(client, dub):
    revision = client.get(f"/api/project{Q}").json()["revision"]
    # someone else changes project.json after the page loaded it
    data = json.loads(_project_file(dub).read_text())
    data["segments"][1]["target_text"] = "someone else's words"
    data["revision"] += 1
    _project_file(dub).write_text(json.dumps(data))
    answer = client.patch(f"/api/lines/seg-0001{Q}", json={"target_text": "mine",
                                                           "revision": revision})
    assert answer.status_code == 409 and "changed since the page loaded" in answer.json()["error"]
    assert json.loads(_project_file(dub).read_text()) == data
    for body in (b"not json", b"[1]"):
        assert client.patch(f"/api/lines/seg-0001{Q}", content=body).status_code == 400


def test_an_edit_and_a_render_redo_only_that_line(client, dub):
    job_dir = dub.with_name("talk.ja.dubkit")
    before = line_audio_hashes(job_dir)
    output_before = dub.read_bytes()
    revision = client.get(f"/api/project{Q}").json()["revision"]
    view = client.patch(f"/api/lines/seg-0002{Q}", json={"target_text": "こんにちは、世界",
                                                        "revision": revision}).json()
    assert view["revision"] == revision + 1 and view["pending"] == ["seg-0002"]
    assert next(x for x in view["lines"] if x["id"] == "seg-0002")["edited"] is True
    view = client.patch(f"/api/lines/seg-0001{Q}", json={"approved": True,
                                                        "revision": view["revision"]}).json()
    assert view["pending"] == ["seg-0002"]  # an approval alone needs no render
    assert client.post(f"/api/render{Q}").status_code == 202
    state = _wait_for_render(client)
    assert state["state"] == "done", state
    after = line_audio_hashes(job_dir)
    assert after["seg-0002"] != before["seg-0002"]
    assert {k: v for k, v in after.items() if k != "seg-0002"} == \
        {k: v for k, v in before.items() if k != "seg-0002"}
    assert dub.read_bytes() != output_before
    view = client.get(f"/api/project{Q}").json()
    assert view["pending"] == [] and view["lines"][0]["approved"] is True
    assert view["lines"][0]["needs_review"] is False  # approved lines leave the review list
    answer = client.post(f"/api/render{Q}")
    assert answer.status_code == 409 and "nothing to render" in answer.json()["error"]


def test_srt_export_and_import_bring_a_translators_text_back(client, dub):
    exported = client.get(f"/api/lines.srt{Q}")
    assert exported.status_code == 200 and "00:00:03,180 --> 00:00:04,420" in exported.text
    cues = exported.text.split("\n\n")
    cues[1] = "\n".join(cues[1].splitlines()[:2] + ["翻訳者の言葉"])  # the second line's text
    edited = "\n\n".join(cues)
    revision = client.get(f"/api/project{Q}").json()["revision"]
    view = client.put(f"/api/lines.srt{Q}&revision={revision}", content=edited.encode()).json()
    assert view["pending"] == ["seg-0002"]
    assert next(x for x in view["lines"] if x["id"] == "seg-0002")["target_text"] == "翻訳者の言葉"
    before = _project_file(dub).read_bytes()
    for body, status, message in [
        (b"1\n00:00:01,000 --> 00:00:00,500\nbackwards\n", 422, "cue 1 ends before it starts"),
        (b"1\n00:05:00,000 --> 00:05:01,000\nlate\n", 422, "cue 1 starts at 300.000 s"),
        ("1\n00:00:01,000 --> 00:00:02,000\nlatin\n".encode("utf-16"), 422, "not UTF-8"),
    ]:
        answer = client.put(f"/api/lines.srt{Q}&revision={view['revision']}", content=body)
        assert answer.status_code == status and message in answer.json()["error"], answer.json()
    assert _project_file(dub).read_bytes() == before


def test_media_routes_serve_the_jobs_files_only(client, dub):
    assert client.get(f"/media/dub{Q}").content == dub.read_bytes()
    ranged = client.get(f"/media/dub{Q}", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100  # the browser can seek
    assert client.get(f"/media/line/seg-0001{Q}").headers["content-type"] == "audio/wav"
    for path in ("/media/passwd", "/media/line/..%2F..%2Fproject.json", "/static/server.py"):
        assert client.get(path + Q).status_code == 404


def test_review_needs_a_finished_dub(tmp_path):
    with pytest.raises(InputError, match="not a dub with a job folder"):
        find_job(tmp_path / "talk.ja.mp4")
