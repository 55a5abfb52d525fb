"""Which files beside the output a job may write, and proof that an existing one is its own.

A job writes the dubbed media, its subtitles, its provenance manifest and its job folder. Any of
them that already exists is replaced only when it is byte for byte what dubkit wrote there last
(its sha256 is recorded in project.json, and in the provenance manifest so that the proof
survives a damaged project.json), or with ``--force``. Nothing is ever written through a
symbolic link: a link in an output's place is refused, so dubkit never writes where it points.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from dubkit.errors import InputError, OutputExists
from dubkit.hashing import sha256_file
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.provenance import FORMAT as PROVENANCE_FORMAT
from dubkit.jobs.provenance import manifest_path

# What a job folder may hold: anything else there means the folder is not dubkit's.
JOB_FOLDER_ENTRIES = frozenset({"project.json", "cache", "segments", "analysis", "staging",
                                "qa.json", "consent.txt"})


def sidecar_files(paths: JobPaths, source_language: str | None) -> list[Path]:
    """The files written beside the media; the source subtitles only once their language is
    known."""
    files = [paths.subtitles, paths.subtitles_vtt, manifest_path(paths.output)]
    if source_language is not None:
        files.append(paths.source_subtitles)
    return files


def refuse_links(files: Iterable[Path]) -> None:
    for path in files:
        if path.is_symlink():
            raise InputError(f"{path} is a symbolic link; dubkit does not write through links: "
                             "remove it or choose another output with -o")


def check_job_folder(job_dir: Path, force: bool) -> None:
    """The job folder is absent, or a folder dubkit made; never a file or a link."""
    refuse_links([job_dir])
    if not job_dir.exists():
        return
    if not job_dir.is_dir():
        raise InputError(f"{job_dir} is in the way of the job folder and is not a folder: "
                         "move it, or choose another output with -o")
    # nothing inside it is written through a link either
    refuse_links(job_dir / name for name in JOB_FOLDER_ENTRIES)
    if force or (job_dir / "project.json").exists():
        return
    strangers = sorted(p.name for p in job_dir.iterdir()
                       if p.name not in JOB_FOLDER_ENTRIES and not p.name.startswith("."))
    if strangers:
        raise OutputExists(f"{job_dir} exists and holds files dubkit did not write "
                           f"({', '.join(strangers[:3])}); pass --force to use it anyway, "
                           "or choose another output with -o")


def known_hashes(recorded: Iterable[Mapping[str, str]], output: Path) -> set[tuple[str, str]]:
    """(file name, sha256) of the files this job wrote: from project.json's records when there
    are any, else from the provenance manifest beside the output (which lists the media and its
    subtitles), so a damaged project.json does not turn the job's own files into strangers."""
    known = {(name, sha) for files in recorded for name, sha in files.items()}
    if known:
        return known
    manifest = manifest_path(output)
    if manifest.is_symlink() or not manifest.is_file():
        return set()
    try:
        data = json.loads(manifest.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return set()
    if not isinstance(data, dict) or data.get("format") != PROVENANCE_FORMAT:
        return set()
    files = data.get("files")
    if isinstance(files, dict):
        known = {(k, v) for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}
    media = data.get("output")
    if isinstance(media, dict) and isinstance(media.get("name"), str) \
            and isinstance(media.get("sha256"), str):
        known.add((media["name"], media["sha256"]))
        if output.is_file() and sha256_file(output) == media["sha256"]:
            known.add((manifest.name, sha256_file(manifest)))  # our own output's manifest
    return known


def check_ours(files: Iterable[Path], known: set[tuple[str, str]], force: bool) -> None:
    """Each existing file in ``files`` must be one this job wrote there, unless ``force``;
    links and folders in their place are refused even then."""
    files = list(files)
    refuse_links(files)
    for path in files:
        if not path.exists():
            continue
        if not path.is_file():
            raise InputError(f"{path} is in the way of an output and is not a file: move it, "
                             "or choose another output with -o")
        if force:
            continue
        if (path.name, sha256_file(path)) not in known:
            raise OutputExists(f"{path} exists and was not written by this job; pass --force "
                               "to replace it, or choose another output with -o")


def record(files: Iterable[Path]) -> dict[str, str]:
    """File name -> sha256 of the files just written, for project.json and the manifest."""
    return {path.name: sha256_file(path) for path in files if path.is_file()}


class StagedOutputs:
    """The job's outputs made under ``<job folder>/staging/`` with their final names, then moved
    beside the output together (same file system: each move is an atomic rename)."""

    FOLDER = "staging"

    def __init__(self, final: JobPaths, source_language: str) -> None:
        self.final = final
        folder = final.job_dir / self.FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        for left in folder.iterdir():  # what a killed run was making: made again now
            if left.is_file() and left.name.startswith("."):
                left.unlink()
        self.paths = JobPaths.for_output(folder / final.output.name, source_language)

    def _pairs(self) -> list[tuple[Path, Path]]:
        staged, final = self.paths, self.final
        return [(staged.output, final.output), (staged.subtitles, final.subtitles),
                (staged.subtitles_vtt, final.subtitles_vtt),
                (staged.source_subtitles, final.source_subtitles),
                (manifest_path(staged.output), manifest_path(final.output))]

    def hashes(self) -> dict[str, str]:
        """Name -> sha256 of what is staged so far."""
        return record(src for src, _ in self._pairs())

    def place(self) -> dict[str, str]:
        """Move every staged file in place; name -> sha256 of what was placed."""
        placed = self.hashes()
        refuse_links(dst for _, dst in self._pairs())
        for src, dst in self._pairs():
            if src.is_file():
                os.replace(src, dst)
        return placed



def remove_leftovers(job_dir: Path) -> None:
    """Delete the temporary files (``.<name>.*.part*``) that a killed run left in the job
    folder: whatever they held is computed and written again."""
    if not job_dir.is_dir():
        return
    for path in job_dir.rglob(".*.part*"):
        if path.is_file() and not path.is_symlink():
            path.unlink()
