"""project.json: the versioned record of a dubbing job (schema in project.schema.json)."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dubkit.errors import ProjectError
from dubkit.jobs.atomic import write_text
from dubkit.types import Segment, Speaker

SCHEMA_VERSION = 1
PROJECT_FILE = "project.json"


@lru_cache(maxsize=1)
def project_schema() -> dict[str, Any]:
    return json.loads((Path(__file__).with_name("project.schema.json")).read_text())


@lru_cache(maxsize=1)
def _validator():  # -> a jsonschema validator of project_schema()
    """The schema checked once (``jsonschema.validate`` checks it again on every call)."""
    import jsonschema

    schema = project_schema()
    kind = jsonschema.validators.validator_for(schema)
    kind.check_schema(schema)
    return kind(schema)


def validate_project(data: dict[str, Any]) -> None:
    """Raise ``ProjectError`` naming the first place ``data`` breaks the schema."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ProjectError(f"project.json is not valid at {where}: {error.message}")


def check_references(data: dict[str, Any]) -> None:
    """What the schema cannot say: speaker and line ids are unique, every line's speaker is one
    of the job's speakers, and no line (or its dub) ends before it starts. A project that breaks
    this was edited by hand or damaged: an edit resumed from it could land on the wrong line."""
    speakers = [s["id"] for s in data["speakers"]]
    lines = [s["id"] for s in data["segments"]]
    for kind, ids in (("speakers", speakers), ("segments", lines)):
        twice = sorted(i for i, n in Counter(ids).items() if n > 1)
        if twice:
            raise ProjectError(f"project.json is not valid at {kind}: id {twice[0]!r} is used "
                               "more than once")
    for i, seg in enumerate(data["segments"]):
        if seg["speaker"] not in speakers:
            raise ProjectError(f"project.json is not valid at segments/{i}/speaker: "
                               f"{seg['speaker']!r} is not one of the speakers")
        for where, span in (("", seg), ("/placement", seg.get("placement") or {})):
            if span and span["end"] < span["start"]:
                raise ProjectError(f"project.json is not valid at segments/{i}{where}: it ends "
                                   "before it starts")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Project:
    """The job's state; every field maps to project.json (see the schema's descriptions)."""

    input: dict[str, Any]
    target_language: str
    preset: dict[str, Any]
    source_language: str | None = None
    source_language_detected: bool = False
    language_probability: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)
    speakers: list[Speaker] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    work: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    message: str = ""
    created: str = field(default_factory=_now)
    revision: int = 0
    # sha256 of project.json as this object last read or wrote it; None: not read (a new job,
    # or one started over), so whatever is there may be replaced
    disk_sha256: str | None = field(default=None, repr=False, compare=False)

    def continues(self, previous: Project) -> None:
        """This record replaces ``previous`` (read from disk): it takes its revision and the
        promise not to write over a change made to the file since."""
        self.created = previous.created
        self.revision = previous.revision
        self.disk_sha256 = previous.disk_sha256

    def to_dict(self) -> dict[str, Any]:
        from dubkit import __version__

        data = {
            "schema_version": SCHEMA_VERSION,
            "dubkit_version": __version__,
            "created": self.created,
            "updated": _now(),
            "revision": self.revision,
            "status": self.status,
            "input": self.input,
            "source_language": self.source_language,
            "source_language_detected": self.source_language_detected,
            "language_probability": self.language_probability,
            "target_language": self.target_language,
            "options": self.options,
            "preset": self.preset,
            "models": self.models,
            "speakers": [s.to_dict() for s in self.speakers],
            "segments": [s.to_dict() for s in self.segments],
            "outputs": self.outputs,
            "timings": self.timings,
            "work": self.work,
        }
        if self.message:
            data["message"] = self.message
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Project:
        validate_project(data)
        check_references(data)
        return Project(
            input=data["input"],
            target_language=data["target_language"],
            preset=data["preset"],
            source_language=data.get("source_language"),
            source_language_detected=data.get("source_language_detected", False),
            language_probability=data.get("language_probability"),
            options=data.get("options", {}),
            models=data["models"],
            speakers=[Speaker(**s) for s in data["speakers"]],
            segments=[Segment.from_dict(s) for s in data["segments"]],
            outputs=data.get("outputs", {}),
            timings=data.get("timings", {}),
            work=data.get("work", {}),
            status=data["status"],
            message=data.get("message", ""),
            created=data.get("created", _now()),
            revision=data.get("revision", 0),
        )

    def save(self, job_dir: Path) -> Path:
        """Validate and write ``job_dir/project.json`` atomically, as the next revision. Raises
        ``ProjectError`` rather than write over a file that changed since this object read or
        wrote it."""
        path = Path(job_dir) / PROJECT_FILE
        if self.disk_sha256 is not None:
            try:
                now = hashlib.sha256(path.read_bytes()).hexdigest()
            except FileNotFoundError:
                now = None
            if now != self.disk_sha256:
                raise ProjectError(
                    f"{path} was changed by someone else while this job ran; it was left as "
                    "it is: run the same command again to continue from it")
        self.revision += 1
        data = self.to_dict()
        validate_project(data)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        write_text(path, text)
        self.disk_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return path


def load_project(job_dir: Path) -> Project | None:
    """The project in ``job_dir``, or None when there is none. A damaged file is an error naming
    the way out: the user may have edited it, and silently starting over would lose their
    edits."""
    path = Path(job_dir) / PROJECT_FILE
    if not path.is_file():
        return None
    way_out = "fix it, or run with --no-resume to start the job over"
    try:
        # NaN and Infinity are Python's extensions, not JSON: no dubkit writes them
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{path} is not UTF-8 text (byte {exc.start}): {way_out}") from None
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{path} is not valid JSON (line {exc.lineno}): {way_out}") from None
    except ValueError as exc:  # NaN or Infinity
        raise ProjectError(f"{path} is not valid JSON ({exc}): {way_out}") from None
    except RecursionError:
        raise ProjectError(f"{path} is nested too deeply to be a project: {way_out}") from None
    except OSError as exc:
        raise ProjectError(f"{path} cannot be read ({exc.strerror}): {way_out}") from None
    try:
        project = Project.from_dict(data)
        project.disk_sha256 = hashlib.sha256(raw).hexdigest()
        return project
    except ProjectError as exc:
        raise ProjectError(f"{path}: {exc}; {way_out}") from None
    except RecursionError:
        raise ProjectError(f"{path} is nested too deeply to be a project: {way_out}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ProjectError(f"{path} does not hold a valid project ({exc}): {way_out}") from None


def user_edit(old: Segment | None, seg: Segment, machine: str) -> str | None:
    """The target text the user wrote for ``seg`` in the previous run's project.json (``old``),
    or None when there is none: the line's source must be unchanged, the machine's text for it
    must have been recorded (a line never translated, as after an interrupted run, has nothing
    to edit), and its target text must differ from that."""
    if old is None or old.source_text != seg.source_text or old.machine_text is None:
        return None
    return old.target_text if old.target_text != old.machine_text else None


def line_edits(previous: Project | None, segments: list[Segment],
               speakers: set[str]) -> list[Segment]:
    """``segments`` as the machine made them, each recording that as its ``machine_*``, with the
    speaker and times the user gave the same line in the previous run's project.json (a line
    is the same when the machine made it the same way; a speaker must be one of ``speakers``).
    Kept edits are flagged ``speaker-edited`` or ``timing-edited``; a reviewer's approval is kept
    with them."""
    old = {s.id: s for s in previous.segments} if previous is not None else {}
    out = []
    for seg in segments:
        seg = seg.replace(machine_speaker=seg.speaker, machine_start=seg.start,
                          machine_end=seg.end,
                          flags=tuple(f for f in seg.flags
                                      if f not in ("speaker-edited", "timing-edited")))
        was = old.get(seg.id)
        if was is not None and (was.machine_speaker, was.machine_start, was.machine_end) == \
                (seg.speaker, seg.start, seg.end):
            seg = seg.replace(approved=was.approved)
            if was.speaker != was.machine_speaker and was.speaker in speakers:
                seg = seg.replace(speaker=was.speaker, flags=seg.flags + ("speaker-edited",))
            if (was.start, was.end) != (was.machine_start, was.machine_end) \
                    and was.end > was.start:
                seg = seg.replace(start=was.start, end=was.end,
                                  flags=seg.flags + ("timing-edited",))
        out.append(seg)
    return out
