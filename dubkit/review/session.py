"""A job folder opened for review: its lines as the page shows them, edits checked against
project.json's schema and revision, and renders of the edited lines.

Every change goes through ``Project.save`` (validated, atomic, never over a file that changed
since it was read) and is made only when the page's revision is the one on disk: an editor never
overwrites what someone else changed. An edit marks its line for the next render, which redoes
only what the edits require (the lines' synthesis and fit, then the mix).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dubkit.errors import DubkitError, InputError, ProjectError, first_line
from dubkit.jobs.lock import job_lock
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.project import Project, load_project
from dubkit.types import ProgressEvent, Segment

MAX_TEXT = 2000  # characters of a line's target text
EDITABLE = ("target_text", "speaker", "start", "end", "approved")


class EditError(DubkitError):
    """An edit the page asked for and may not make; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def find_job(path: str | Path) -> Path:
    """The job folder of ``path``: a job folder itself, or a dub beside its job folder."""
    path = Path(path).expanduser().absolute()
    job_dir = path if path.suffix == ".dubkit" else JobPaths.for_output(path).job_dir
    if not (job_dir / "project.json").is_file():
        raise InputError(f"{path} is not a dub with a job folder (no {job_dir}/project.json): "
                         "give the output of `dubkit translate` or its .dubkit folder")
    return job_dir


@dataclass
class RenderState:
    state: str = "idle"  # idle | running | done | failed
    stage: str = ""
    done: int = 0
    total: int | None = None
    error: str | None = None
    lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "stage": self.stage, "done": self.done,
                "total": self.total, "error": self.error, "lines": self.lines}


class ReviewSession:
    """One job folder under review. ``render`` needs the preset the job was made with (by
    name) and its watermark key."""

    def __init__(self, job_dir: Path, watermark_key: str | None = None) -> None:
        self.job_dir = Path(job_dir)
        self.watermark_key = watermark_key
        self.pending: set[str] = set()  # lines edited since the last render
        self.render_state = RenderState()
        self._lock = threading.Lock()
        self._dubber = None  # made at the first render; keeps its models for the next one
        project = self.project()
        if not project.outputs.get("media"):
            raise InputError(f"the job in {self.job_dir} has not finished ({project.status}): "
                             "run its `dubkit translate` command first")

    # -- reading ----------------------------------------------------------------------------

    def project(self) -> Project:
        project = load_project(self.job_dir)
        if project is None:
            raise InputError(f"{self.job_dir}/project.json is gone")
        return project

    def view(self) -> dict[str, Any]:
        """Everything the page shows: the job, its speakers and its lines with their QA."""
        project = self.project()
        qa = self._qa()
        # the QA's reasons to review each line (its checks', and the translation checks')
        review = {item["id"]: item["reasons"]
                  for item in project.options.get("qa", {}).get("review", [])}
        lines = []
        for seg in project.segments:
            measured = qa.get(seg.id, {})
            reasons = review.get(seg.id, [])
            placement = seg.placement
            lines.append({
                "id": seg.id, "start": seg.start, "end": seg.end, "speaker": seg.speaker,
                "source_text": seg.source_text, "target_text": seg.target_text,
                "machine_text": seg.machine_text, "approved": seg.approved,
                "dub_start": placement.start if placement else None,
                "dub_end": placement.end if placement else None,
                "tempo": placement.tempo if placement else None,
                "slot": round(seg.end - seg.start, 3),
                "dub_duration": measured.get("dub_duration"),
                "similarity": measured.get("similarity"), "cer": measured.get("cer"),
                "flags": list(seg.flags), "reasons": reasons,
                "needs_review": bool(reasons) and not seg.approved,
                "edited": seg.id in self.pending,
                "audio": bool(seg.audio_file),
            })
        return {
            "revision": project.revision, "status": project.status,
            "input": Path(project.input["path"]).name,
            "output": Path(project.outputs["media"]).name,
            "duration": project.input.get("duration"),
            "video": any(s.get("kind") == "video" for s in project.input.get("streams", [])),
            "source_language": project.source_language,
            "target_language": project.target_language,
            "speakers": [s.to_dict() for s in project.speakers],
            "lines": lines, "pending": sorted(self.pending),
            "render": self.render_state.to_dict(),
        }

    def _qa(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self.job_dir / "qa.json").read_text(encoding="utf-8"))
            return {s["id"]: s for s in data.get("segments", [])}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    # -- files the page may fetch -----------------------------------------------------------

    def media_file(self, which: str) -> Path:
        """"dub" (the output), "source" (the input), "subtitles" (target WebVTT)."""
        project = self.project()
        outputs = project.outputs
        path = {"dub": outputs.get("media"), "source": project.input.get("path"),
                "subtitles": (outputs.get("subtitles") or {}).get(
                    f"{project.target_language}-vtt")}.get(which)
        if path is None or not Path(path).is_file():
            raise EditError(404, f"no {which} file for this job")
        return Path(path)

    def line_audio(self, line_id: str) -> Path:
        """A line's fitted dub, which lives in the job folder (and nowhere else)."""
        seg = self._line(self.project(), line_id)
        if not seg.audio_file:
            raise EditError(404, f"line {line_id} has no dub yet")
        path = (self.job_dir / seg.audio_file).resolve()
        if not path.is_relative_to(self.job_dir.resolve()) or not path.is_file():
            raise EditError(404, f"line {line_id}'s audio is not in the job folder")
        return path

    # -- edits ------------------------------------------------------------------------------

    def edit(self, line_id: str, changes: dict[str, Any], revision: int) -> dict[str, Any]:
        """Apply ``changes`` (``EDITABLE`` fields) to one line, if the page saw ``revision``;
        returns the new view. Nothing is written when anything is wrong."""
        if not isinstance(changes, dict) or not changes:
            raise EditError(400, f"give the fields to change: {', '.join(EDITABLE)}")
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise EditError(400, f"{unknown[0]!r} cannot be edited; editable: "
                                 f"{', '.join(EDITABLE)}")
        with self._lock:
            self._not_rendering()
            project = self._at(revision)
            seg = self._line(project, line_id)
            new = self._changed(project, seg, changes)
            project.segments = [new if s.id == line_id else s for s in project.segments]
            self._save(project)
            if (new.target_text, new.speaker, new.start, new.end) != \
                    (seg.target_text, seg.speaker, seg.start, seg.end):
                self.pending.add(line_id)
        return self.view()

    def _changed(self, project: Project, seg: Segment, changes: dict[str, Any]) -> Segment:
        values = {}
        if "target_text" in changes:
            text = changes["target_text"]
            if not isinstance(text, str) or not text.strip():
                raise EditError(422, f"line {seg.id}: the text must not be empty")
            if len(text) > MAX_TEXT:
                raise EditError(422, f"line {seg.id}: the text is {len(text)} characters long; "
                                     f"at most {MAX_TEXT}")
            values["target_text"] = text.strip()
        if "speaker" in changes:
            speakers = [s.id for s in project.speakers]
            if changes["speaker"] not in speakers:
                raise EditError(422, f"line {seg.id}: speaker {changes['speaker']!r} is not one "
                                     f"of {', '.join(speakers)}")
            values["speaker"] = changes["speaker"]
        if "approved" in changes:
            if not isinstance(changes["approved"], bool):
                raise EditError(422, f"line {seg.id}: approved is true or false")
            values["approved"] = changes["approved"]
        start, end = changes.get("start", seg.start), changes.get("end", seg.end)
        if "start" in changes or "end" in changes:
            duration = project.input.get("duration") or 0.0
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                       for x in (start, end)) or not 0 <= start < end <= duration:
                raise EditError(422, f"line {seg.id}: times must satisfy 0 <= start < end <= "
                                     f"{duration:.2f} (the input's length), got {start}..{end}")
            values.update(start=round(float(start), 3), end=round(float(end), 3))
        return replace(seg, **values)

    def import_srt(self, text: str, revision: int) -> dict[str, Any]:
        """Take the target texts from an SRT (the page's export, edited elsewhere), its cues
        matched to the lines by time as ``--target-subtitles`` does. Lines no cue reaches keep
        their text."""
        from dubkit.review.srt import srt_to_texts

        with self._lock:
            self._not_rendering()
            project = self._at(revision)
            try:
                texts = srt_to_texts(text, project.segments, project.target_language,
                                     project.input.get("duration"))
            except InputError as exc:
                raise EditError(422, str(exc)) from None
            changed = [s.id for s in project.segments
                       if s.id in texts and texts[s.id] != s.target_text]
            for seg_id in changed:
                if len(texts[seg_id]) > MAX_TEXT:
                    raise EditError(422, f"line {seg_id}: the text is {len(texts[seg_id])} "
                                         f"characters long; at most {MAX_TEXT}")
            project.segments = [replace(s, target_text=texts[s.id]) if s.id in changed else s
                                for s in project.segments]
            if changed:
                self._save(project)
                self.pending.update(changed)
        return self.view()

    def export_srt(self) -> tuple[str, str]:
        """A file name for the lines' SRT (beside the dub's name), and the SRT."""
        from dubkit.review.srt import lines_to_srt

        project = self.project()
        name = Path(project.outputs["media"]).with_suffix(".review.srt").name
        return name, lines_to_srt(project.segments)

    def _at(self, revision: int) -> Project:
        if not isinstance(revision, int) or isinstance(revision, bool):
            raise EditError(400, "give the revision of the project the edit was made on")
        project = self.project()
        if project.revision != revision:
            raise EditError(409, f"project.json changed since the page loaded it (revision "
                                 f"{revision}, now {project.revision}): reload to see the "
                                 "changes, then edit again")
        return project

    @staticmethod
    def _line(project: Project, line_id: str) -> Segment:
        for seg in project.segments:
            if seg.id == line_id:
                return seg
        raise EditError(404, f"no line {line_id!r} in this job")

    def _save(self, project: Project) -> None:
        try:
            with job_lock(self.job_dir):
                project.save(self.job_dir)
        except ProjectError as exc:
            raise EditError(409, str(exc)) from None
        except DubkitError as exc:  # JobBusy: a translate or render of this job is running
            raise EditError(409, str(exc)) from None

    def _not_rendering(self) -> None:
        if self.render_state.state == "running":
            raise EditError(409, "a render is running: wait for it to finish")

    # -- render -----------------------------------------------------------------------------

    def start_render(self) -> dict[str, Any]:
        """Render the edited lines in a background thread (``render_state`` follows it)."""
        with self._lock:
            self._not_rendering()
            if not self.pending:
                raise EditError(409, "nothing to render: no line was edited")
            lines = sorted(self.pending)
            self.render_state = RenderState("running", lines=lines)
        threading.Thread(target=self._render, args=(lines,), name="dubkit-render",
                         daemon=True).start()
        return self.render_state.to_dict()

    def _progress(self, event: ProgressEvent) -> None:
        state = self.render_state
        state.stage, state.done, state.total = event.stage, event.done, event.total

    def _render(self, lines: list[str]) -> None:
        from dubkit.api import Dubber

        state = self.render_state
        try:
            project = self.project()
            if self._dubber is None or self._dubber.preset.name != project.preset["name"]:
                self._dubber = Dubber(preset=project.preset["name"], progress=self._progress)
            self._dubber.render(Path(project.outputs["media"]), "synthesize", lines=lines,
                                watermark_key=self.watermark_key)
        except Exception as exc:  # noqa: BLE001 - shown on the page, the server carries on
            state.error = first_line(exc)
            state.state = "failed"
            return
        with self._lock:
            self.pending.difference_update(lines)
        state.state = "done"
