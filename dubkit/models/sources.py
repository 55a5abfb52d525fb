"""Where a model's files can come from. Each source either returns a folder or says why not."""
from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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
    """A folder built by a function (``module:function(folder)``) once, into the cache.

    Used for the tiny random test models: they are saved with ``save_pretrained`` and then loaded
    by the same loader as real weights.
    """

    target: str  # "dubkit.testing.tiny_models:build_tiny_whisper"

    def describe(self) -> str:
        return f"built locally by {self.target}"

    def fetch(self, name: str, cache: Path) -> Path:
        folder = cache / "built" / name
        if (folder / ".complete").exists():
            return folder
        module, _, func = self.target.partition(":")
        build = getattr(importlib.import_module(module), func)
        folder.parent.mkdir(parents=True, exist_ok=True)
        # Build into a temporary folder and rename, so an interrupted build never looks complete.
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder.parent))
        try:
            build(tmp)
            (tmp / ".complete").write_text("ok\n")
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return folder

    def check(self, name: str, cache: Path) -> tuple[bool, str]:
        folder = cache / "built" / name
        if (folder / ".complete").exists():
            return True, str(folder)
        return True, "built on first use"


@dataclass(frozen=True)
class HubRepo:
    """A Hugging Face Hub repository: its local hub cache first, then the network unless offline."""

    repo_id: str
    revision: str | None = None

    def describe(self) -> str:
        return f"the Hugging Face Hub ({self.repo_id})"

    def fetch(self, name: str, cache: Path) -> Path:
        try:
            from huggingface_hub import snapshot_download
        except ImportError as exc:  # pragma: no cover - transformers brings it
            raise SourceMiss("huggingface_hub is not installed") from exc
        try:
            return Path(
                snapshot_download(self.repo_id, revision=self.revision, local_files_only=True)
            )
        except Exception:
            pass
        if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("DUBKIT_OFFLINE"):
            raise SourceMiss(f"{self.repo_id} is not in the local hub cache and the hub is offline")
        try:
            return Path(snapshot_download(self.repo_id, revision=self.revision))
        except Exception as exc:
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            raise SourceMiss(f"{self.repo_id} could not be downloaded: {reason}") from exc

    def check(self, name: str, cache: Path) -> tuple[bool, str]:
        try:
            from huggingface_hub import snapshot_download

            return True, snapshot_download(self.repo_id, revision=self.revision,
                                           local_files_only=True)
        except Exception:
            return False, (f"{self.repo_id} is not in the local hub cache; it is downloaded on "
                           "first use where the Hub can be reached")
