"""What an assembled model folder holds, and whether it still holds it.

Assembly writes ``.manifest.json``: the pinned requirements it came from and each file's size
and sha256, with a stamp (size, mtime, inode) of the file as it was when last hashed. Every load
checks that each file is a regular file (not a link) of the recorded size: one ``lstat`` each.
A file is hashed again only when its stamp changed since it was last hashed (the new stamp is
then recorded). Hashing every model on every load would cost each process (each CLI run is one)
about 0.8 s with the files in the page cache, seconds from disk, against under a millisecond
for the stamps; truncation, deletion, replacement, a copy or a re-link all change the stamp, and
``dubkit models verify`` hashes everything for damage that changes none of it.
"""
from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dubkit.hashing import sha256_file

MANIFEST = ".manifest.json"
COMPLETE = ".complete"  # kept for older dubkit versions that share the cache
_VERSION = 1
OLD_LAYOUT = "it was assembled by an older dubkit (links into site-packages)"

# (folder, file name, stamp) hashed right in this process: a read-only cache cannot record
# its stamps, and should still be hashed once per process, not once per load.
_hashed: set[tuple[str, str, tuple[int, int, int]]] = set()


@dataclass(frozen=True)
class FileRecord:
    size: int  # bytes
    sha256: str


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def write_manifest(folder: Path, records: dict[str, FileRecord],
                   requirements: tuple[str, ...]) -> None:
    """Record ``records`` (just hashed) for the files in ``folder``."""
    files = {name: {"size": r.size, "sha256": r.sha256,
                    "stamp": list(_stamp(os.stat(folder / name)))}
             for name, r in records.items()}
    _write_json(folder / MANIFEST, {"version": _VERSION, "requirements": list(requirements),
                                    "files": files})


def _write_json(path: Path, data: dict) -> None:
    # Temporary name and rename: a reader never sees half a manifest.
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # as the model files: readable by whoever shares the cache
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(folder: Path) -> tuple[dict | None, str]:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        if (folder / COMPLETE).exists():
            return None, OLD_LAYOUT
        return None, "it is incomplete (no manifest)"
    except (OSError, ValueError) as exc:
        return None, f"its manifest is unreadable ({type(exc).__name__})"
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return None, "its manifest has an unknown format"
    return data, ""


def problems(folder: Path, expected: dict[str, str | None], requirements: tuple[str, ...],
             full: bool = False) -> list[str]:
    """What is wrong with ``folder`` (empty when sound). ``expected`` maps each file name to
    its published sha256 or None. ``full`` hashes every file, whatever its stamp."""
    if not folder.is_dir():
        return ["it is not assembled"]
    data, why = _read(folder)
    if data is None:
        return [why]
    try:
        files = {name: (int(f["size"]), str(f["sha256"]), tuple(f["stamp"]))
                 for name, f in data["files"].items()}
        made_from = tuple(data["requirements"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return ["its manifest has an unknown format"]
    if made_from != tuple(requirements) or set(files) != set(expected) or any(
            sha is not None and sha != files[name][1] for name, sha in expected.items()):
        return [f"it was assembled from other packages ({' '.join(made_from)})"]

    found, to_hash = [], []
    for name, (size, sha, stamp) in sorted(files.items()):
        try:
            st = os.lstat(folder / name)
        except FileNotFoundError:
            found.append(f"{name} is missing")
            continue
        if stat.S_ISLNK(st.st_mode):
            found.append(f"{name} is a symlink")
        elif not stat.S_ISREG(st.st_mode):
            found.append(f"{name} is not a file")
        elif st.st_size != size:
            found.append(f"{name} has {st.st_size} bytes, expected {size}")
        elif full or (tuple(stamp) != _stamp(st)
                      and (str(folder), name, _stamp(st)) not in _hashed):
            to_hash.append((name, sha, st))
    if found:  # no need to hash a folder already known to be broken
        return found
    restamped = False
    for name, sha, st in to_hash:
        if sha256_file(folder / name) != sha:
            found.append(f"{name} does not match its sha256")
            continue
        _hashed.add((str(folder), name, _stamp(st)))
        if tuple(files[name][2]) != _stamp(st):
            data["files"][name]["stamp"] = list(_stamp(st))
            restamped = True
    if restamped and not found:
        try:
            _write_json(folder / MANIFEST, data)
        except OSError:
            pass  # a read-only cache: hashed again by the next process, still correct
    return found
