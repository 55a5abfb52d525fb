"""A content-addressed cache of stage results inside a job folder.

A key is the sha256 of everything a result depends on (inputs, backend, model, options, and
dubkit's own version, since another release may compute a stage differently), so a result is
reused exactly when nothing that made it has changed, and an interrupted job resumes from the
last result written.

Every entry carries the sha256 of its content, written with it and checked on every read: an
entry that was truncated, overwritten or hand-edited is never reused; it is recomputed and counted
as ``repaired``. Entries are written atomically, audio before the record that vouches for it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dubkit import __version__
from dubkit.errors import DiskFull
from dubkit.jobs.atomic import atomic_path, write_text
from dubkit.jobs.wavfile import read_wav_bytes, wav_bytes
from dubkit.types import Audio

log = logging.getLogger(__name__)

_ENTRY_FORMAT = 1  # bump when the envelope changes: older entries are then recomputed


def content_key(*parts: Any) -> str:
    """sha256 of the canonical JSON of ``parts`` and the dubkit version."""
    blob = json.dumps([__version__, *parts], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def audio_id(audio: Audio) -> str:
    """sha256 of decoded samples, their shape and rate: what results computed from them are
    keyed by, so they are reused exactly as long as the decode gives the same samples."""
    digest = hashlib.sha256(f"{audio.rate}:{audio.samples.shape}".encode())
    digest.update(np.ascontiguousarray(audio.samples, dtype=np.float32).tobytes())
    return digest.hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def _read_json(path: Path) -> Any:
    """The parsed file, or None when it cannot be read or parsed (however it is damaged)."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None


class StageCache:
    """Results per stage under ``folder/<stage>/<key>.json`` (values) and ``<key>.wav`` with
    ``<key>.wav.json`` (audio and the record that vouches for it).

    With ``enabled=False`` nothing is read back (``--no-resume``) but results are still written.
    ``computed``, ``reused`` and ``repaired`` (damaged entries found and recomputed) count
    results per stage, which the job reports.

    ``shared`` are other jobs' cache folders (the same input into other languages): an entry
    missing here is copied from the first of them that has it, then checked like any other, so
    one source is analysed once for several target languages and each job folder stays whole.
    ``store`` is a cache folder shared by many jobs and machines (a batch's): it is read like
    ``shared``, and every entry written here is added to it.
    """

    def __init__(self, folder: Path, enabled: bool = True,
                 shared: Sequence[Path] = (), store: Path | None = None) -> None:
        self.folder = Path(folder)
        self.enabled = enabled
        self.store = Path(store) if store is not None and Path(store) != self.folder else None
        self.shared = [f for f in [self.store, *map(Path, shared)]
                       if f is not None and f != self.folder]
        self.computed: Counter[str] = Counter()
        self.reused: Counter[str] = Counter()
        self.repaired: Counter[str] = Counter()

    def _path(self, stage: str, key: str, suffix: str) -> Path:
        return self.folder / stage / f"{key}{suffix}"

    def _fetch(self, stage: str, key: str, *suffixes: str) -> None:
        """Copy the entry's files from a shared folder that has them all, when this one lacks
        them (what is copied is checked on reading, as if written here)."""
        if not self.shared or self._path(stage, key, suffixes[0]).is_file():
            return
        for folder in self.shared:
            sources = [folder / stage / f"{key}{suffix}" for suffix in suffixes]
            if all(source.is_file() for source in sources):
                for source, suffix in zip(sources, suffixes):
                    target = self._path(stage, key, suffix)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        with atomic_path(target) as tmp:
                            shutil.copyfile(source, tmp)
                    except OSError as exc:  # unreadable there: computed here instead
                        log.warning("cannot copy cache entry %s: %s", source, exc)
                        return
                return

    def _publish(self, stage: str, key: str, *suffixes: str) -> None:
        """Add the entry's files to the store, in order (audio before the record vouching for
        it). A store that cannot be written costs other jobs a recomputation, not this one."""
        if self.store is None:
            return
        for suffix in suffixes:
            target = self.store / stage / f"{key}{suffix}"
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(target) as tmp:
                    shutil.copyfile(self._path(stage, key, suffix), tmp)
            except (OSError, DiskFull) as exc:
                log.warning("cannot add cache entry %s to the store: %s", target, exc)
                return

    def _damaged(self, stage: str, path: Path, why: str) -> None:
        log.warning("cache entry %s is damaged (%s); recomputing it", path, why)
        self.repaired[stage] += 1

    # -- values ----------------------------------------------------------------------------

    def get_json(self, stage: str, key: str) -> Any | None:
        """The value stored under ``key``, or None when there is none or it is damaged."""
        path = self._path(stage, key, ".json")
        if self.enabled:
            self._fetch(stage, key, ".json")
        if not self.enabled or not path.is_file():
            return None
        entry = _read_json(path)
        if not (isinstance(entry, dict) and entry.get("format") == _ENTRY_FORMAT
                and "value" in entry and isinstance(entry.get("sha256"), str)):
            self._damaged(stage, path, "not a cache record")
            return None
        try:
            digest = hashlib.sha256(_canonical(entry["value"])).hexdigest()
        except (ValueError, RecursionError):
            digest = ""
        if digest != entry["sha256"]:
            self._damaged(stage, path, "checksum mismatch")
            return None
        self.reused[stage] += 1
        return entry["value"]

    def put_json(self, stage: str, key: str, value: Any) -> None:
        path = self._path(stage, key, ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        body = _canonical(value)
        entry = {"format": _ENTRY_FORMAT, "sha256": hashlib.sha256(body).hexdigest(),
                 "value": value}
        write_text(path, json.dumps(entry, ensure_ascii=False, allow_nan=False))
        self._publish(stage, key, ".json")
        self.computed[stage] += 1

    # -- audio -----------------------------------------------------------------------------

    def audio_path(self, stage: str, key: str) -> Path:
        return self._path(stage, key, ".wav")

    def get_audio(self, stage: str, key: str, count: bool = True) -> Audio | None:
        """The audio stored under ``key``, or None when there is none or it is damaged (its
        bytes must match the size and sha256 recorded when it was written). ``count`` False:
        a JSON record of the same result is counted instead."""
        path = self.audio_path(stage, key)
        record_path = path.with_name(path.name + ".json")
        if self.enabled:
            self._fetch(stage, key, ".wav", ".wav.json")
        if not self.enabled or not path.is_file():
            return None
        record = _read_json(record_path)
        if not (isinstance(record, dict) and record.get("format") == _ENTRY_FORMAT):
            self._damaged(stage, path, "no record vouches for it")
            return None
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._damaged(stage, path, str(exc))
            return None
        if len(data) != record.get("bytes") or \
                hashlib.sha256(data).hexdigest() != record.get("sha256"):
            self._damaged(stage, path, "size or checksum mismatch")
            return None
        try:
            audio = read_wav_bytes(data)
        except (ValueError, EOFError) as exc:
            self._damaged(stage, path, str(exc))
            return None
        if count:
            self.reused[stage] += 1
        return audio

    def put_audio(self, stage: str, key: str, audio: Audio, count: bool = True) -> Path:
        path = self.audio_path(stage, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = wav_bytes(audio)  # float WAV: no quantisation noise between stages
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        record = {"format": _ENTRY_FORMAT, "bytes": len(data),
                  "sha256": hashlib.sha256(data).hexdigest()}
        write_text(path.with_name(path.name + ".json"), json.dumps(record))
        self._publish(stage, key, ".wav", ".wav.json")
        if count:  # False when a JSON record of the same result is counted instead
            self.computed[stage] += 1
        return path
