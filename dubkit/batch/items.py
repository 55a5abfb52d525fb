"""What a batch dubs: its inputs (media files, folders walked for media, or a manifest with a
row per input and that row's own options), expanded into one job per input and language.

Everything is checked here, before the first job starts: a missing file, an unknown manifest
column or option value, two jobs that would write the same output.
"""
from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubkit.errors import InputError
from dubkit.inputs import MEDIA_EXTENSIONS
from dubkit.jobs.consent import Consent
from dubkit.request import DubOptions

MANIFEST_SUFFIXES = (".csv", ".jsonl")
# manifest column -> DubOptions field (languages and output are the row's own)
MANIFEST_OPTIONS = {"from": "source_language", "speakers": "num_speakers", "voice": "voice",
                    "background": "background", "consent": "consent"}
MANIFEST_COLUMNS = ("input", "languages", "output", *MANIFEST_OPTIONS)


@dataclass(frozen=True)
class BatchItem:
    """One input with the languages and options it is dubbed with."""

    input: Path
    languages: tuple[str, ...]
    options: DubOptions
    name: str | None = None  # the outputs' stem (default: the input's)


@dataclass(frozen=True)
class BatchJob:
    """One input into one language, written to ``output``."""

    input: Path
    language: str
    output: Path
    options: DubOptions


def collect_items(inputs: Sequence[str | Path], languages: Sequence[str],
                  options: DubOptions) -> list[BatchItem]:
    """The items ``inputs`` name: a media file is one item; a folder, every media file under it
    (sorted, leaving out dubkit's own outputs and job folders); a ``.csv`` or ``.jsonl``
    manifest, its rows. Rows without languages take ``languages``."""
    items: list[BatchItem] = []
    for given in inputs:
        path = Path(given).expanduser()
        if path.is_dir():
            found = sorted(_walk_media(path))
            if not found:
                raise InputError(f"{path} holds no media files (looked for "
                                 f"{', '.join(MEDIA_EXTENSIONS)})")
            items += [BatchItem(p, tuple(languages), options) for p in found]
        elif path.suffix.lower() in MANIFEST_SUFFIXES:
            items += read_manifest(path, languages, options)
        elif path.is_file():
            items.append(BatchItem(path, tuple(languages), options))
        else:
            raise InputError(f"{path} does not exist")
    for item in items:
        if not item.languages:
            raise InputError(f"no target language for {item.input}: give --to, or a "
                             "'languages' column in the manifest")
    return items


def plan_jobs(items: Sequence[BatchItem], out: Path | None) -> list[BatchJob]:
    """One job per item and language, ``<name>.<lang><ext>`` in ``out`` (default: beside the
    input); two jobs that would write one file are refused."""
    jobs, seen = [], {}
    for item in items:
        name = item.name or item.input.stem
        folder = out if out is not None else item.input.parent
        for language in item.languages:
            output = (folder / f"{name}.{language}{item.input.suffix}").absolute()
            if output in seen and seen[output] != item.input:
                raise InputError(f"{seen[output]} and {item.input} would both be dubbed into "
                                 f"{output}: name their outputs in a manifest ('output' column)")
            if output not in seen:
                seen[output] = item.input
                jobs.append(BatchJob(item.input.absolute(), language, output, item.options))
    return jobs


def read_manifest(path: Path, languages: Sequence[str], options: DubOptions) -> list[BatchItem]:
    """The rows of a CSV (with a header line) or JSONL manifest. Relative input paths are read
    from the manifest's folder; ``consent`` is a statement file, ``self`` or ``declared``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"manifest {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read manifest {path}: {exc}") from None
    rows = _csv_rows(path, text) if path.suffix.lower() == ".csv" else _jsonl_rows(path, text)
    items = [_row_item(path, number, row, languages, options) for number, row in rows]
    if not items:
        raise InputError(f"manifest {path} has no rows")
    return items


def _csv_rows(path: Path, text: str) -> Iterable[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    try:
        for row in reader:
            yield reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items()
                                    if k is not None}
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None


def _jsonl_rows(path: Path, text: str) -> Iterable[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{number}: not a JSON object ({exc})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{number}: not a JSON object")
        yield number, row


def _row_item(path: Path, number: int, row: dict[str, Any], languages: Sequence[str],
              options: DubOptions) -> BatchItem:
    where = f"{path}:{number}"
    unknown = sorted(set(row) - set(MANIFEST_COLUMNS))
    if unknown:
        raise InputError(f"{where}: unknown column {unknown[0]!r}; known: "
                         f"{', '.join(MANIFEST_COLUMNS)}")
    source = row.get("input")
    if not isinstance(source, str) or not source:
        raise InputError(f"{where}: no 'input'")
    media = Path(source).expanduser()
    media = media if media.is_absolute() else path.parent / media
    if not media.is_file():
        raise InputError(f"{where}: {media} does not exist")
    row_languages = row.get("languages") or ()
    if isinstance(row_languages, str):
        row_languages = row_languages.replace(";", ",").replace(" ", ",").split(",")
    if not isinstance(row_languages, (list, tuple)) or \
            not all(isinstance(x, str) for x in row_languages):
        raise InputError(f"{where}: 'languages' must be language codes, e.g. \"ja,es\"")
    row_languages = tuple(x.strip() for x in row_languages if x.strip()) or tuple(languages)
    changes: dict[str, Any] = {}
    for column, name in MANIFEST_OPTIONS.items():
        value = row.get(column)
        if value in (None, ""):
            continue
        if name == "num_speakers":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise InputError(f"{where}: 'speakers' must be a whole number") from None
        if name == "consent":
            value = _consent(where, path, str(value))
        changes[name] = value
    try:
        row_options = dataclasses.replace(options, **changes)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    name = row.get("output") or None
    if name is not None and (not isinstance(name, str) or "/" in name or name in (".", "..")):
        raise InputError(f"{where}: 'output' is a file name without a folder, e.g. episode-01")
    return BatchItem(media, row_languages, row_options, Path(name).stem if name else None)


def _consent(where: str, manifest: Path, value: str) -> Consent:
    if value in ("self", "declared"):
        return Consent.declared(value)
    statement = Path(value).expanduser()
    statement = statement if statement.is_absolute() else manifest.parent / statement
    try:
        return Consent.from_file(statement)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _walk_media(folder: Path) -> Iterable[Path]:
    """Media files under ``folder``, except dubkit's: job folders (``*.dubkit``) and the dubs
    beside them (a file whose stem has a job folder is an output)."""
    for path in folder.rglob("*"):
        if any(part.endswith(".dubkit") or part.startswith(".")
               for part in path.relative_to(folder).parts[:-1]):
            continue
        if path.suffix.lower() not in MEDIA_EXTENSIONS or not path.is_file():
            continue
        if path.with_suffix("").with_name(path.stem + ".dubkit").is_dir():
            continue
        yield path
