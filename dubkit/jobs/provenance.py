"""The provenance manifest written beside every output: ``<output>.provenance.json``.

It says what made the file (input, preset, models and their licenses), what it carries (the
watermark payload and key id, never the key), on what consent voices were kept, and the sha256 of
the output, so that ``dubkit verify`` can tell whether a file is exactly the one dubkit wrote.
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from dubkit.config import Preset
from dubkit.errors import InputError
from dubkit.hashing import sha256_file
from dubkit.jobs.atomic import write_text
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.project import Project

FORMAT = "dubkit-provenance/1"
SUFFIX = ".provenance.json"


_VOICE_STAGES = frozenset({"synthesis", "voice"})  # models listed only for the lines they spoke


def manifest_path(output: Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + SUFFIX)


def build_manifest(project: Project, paths: JobPaths, preset: Preset,
                   files: dict[str, str] | None = None) -> dict[str, Any]:
    """The manifest of ``paths.output``; ``files`` (name -> sha256) are the files written with
    it, listed so that a later run can tell them for its own."""
    options = project.options
    return manifest(
        input={"name": Path(project.input["path"]).name, "sha256": project.input["sha256"]},
        output=paths.output, files=files,
        languages={"source": project.source_language, "target": project.target_language},
        preset=preset, models=_models_used(project), mode=options.get("mode", "cascade"),
        voice=options.get("voice"), consent=_consent(options.get("consent")),
        watermark=options.get("watermark"),
        synthesized=[{"start": s.placement.start, "end": s.placement.end, "speaker": s.speaker,
                      "models": list(s.spoken_by)} for s in _spoken(project)])


def _spoken(project: Project) -> list:
    return [s for s in project.segments if s.placement is not None and s.audio_file]


def _models_used(project: Project) -> list[dict[str, Any]]:
    """The job's models, less the voices no line was spoken with: a by-language synthesizer
    loads the models of every language it offers, but only those that spoke a line made the
    output. (Lines of job folders that did not record who spoke them keep every model.)"""
    lines = _spoken(project)
    if any(not s.spoken_by for s in lines):
        return project.models
    return without_silent_voices(project.models, {name for s in lines for name in s.spoken_by})


def without_silent_voices(models: list[dict[str, Any]], spoke: set[str]) -> list[dict[str, Any]]:
    """``models`` less the synthesis and voice-conversion models not named in ``spoke``."""
    return [m for m in models if m["stage"] not in _VOICE_STAGES or m["name"] in spoke]


def manifest(*, input: dict[str, Any], output: Path, languages: dict[str, str | None],
             preset: Preset, models: list[dict[str, Any]], mode: str, voice: str | None,
             consent: dict[str, Any] | None, watermark: dict[str, Any] | None,
             synthesized: list[dict[str, Any]],
             files: dict[str, str] | None = None) -> dict[str, Any]:
    """A manifest from its parts (a batch job's, or a live session's recording)."""
    from dubkit import __version__

    return {
        "format": FORMAT,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "generator": f"dubkit {__version__}",
        "input": input,
        "output": {"name": output.name, "sha256": sha256_file(output)},
        "files": dict(files or {}),
        "languages": languages,
        "preset": {"name": preset.name, "fingerprint": preset.fingerprint()},
        "models": [{k: m[k] for k in ("name", "stage", "source", "license")} for m in models],
        "mode": mode,
        "voice": voice,
        "consent": consent,
        "watermark": watermark,
        "synthesized": synthesized,
    }


def write_json(path: Path, data: dict[str, Any]) -> Path:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def write_manifest(project: Project, paths: JobPaths, preset: Preset,
                   files: dict[str, str] | None = None) -> Path:
    """Write the manifest of ``paths.output`` atomically; returns its path."""
    return write_json(manifest_path(paths.output), build_manifest(project, paths, preset, files))


def read_manifest(media: Path) -> dict[str, Any] | None:
    """The manifest beside ``media``, or None; a damaged one is an error."""
    path = manifest_path(media)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{path} is not a valid provenance manifest (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path} is not a dubkit provenance manifest ({FORMAT})")
    return data


def _consent(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if not record:
        return None
    return {"kind": record["kind"], "sha256": record["sha256"]}
