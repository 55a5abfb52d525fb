"""Consent to preserve a speaker's voice: what the user stated, recorded with the job.

Voice preservation copies a real person's voice, so dubkit does it only on a recorded consent: a
statement file the user wrote (copied into the job folder and hashed into project.json), or a flag
by which the user declares they are the speaker (``self``) or hold the speakers' consent
(``declared``). Without one, the dub uses stock voices.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dubkit.errors import InputError
from dubkit.jobs.atomic import write_text

KINDS = ("statement", "self", "declared")
MAX_STATEMENT_BYTES = 64 * 1024  # a statement is a short text, not a document archive
STATEMENT_FILE = "consent.txt"


@dataclass(frozen=True)
class Consent:
    kind: str  # one of KINDS
    text: str = ""  # the statement, for kind "statement"
    source: str = ""  # where the statement was read from

    @staticmethod
    def from_file(path: str | Path) -> Consent:
        """A consent statement read from ``path`` (UTF-8 text, not empty)."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"consent statement {path} does not exist or is not a file")
        data = path.read_bytes()
        if len(data) > MAX_STATEMENT_BYTES:
            raise InputError(f"consent statement {path} is over {MAX_STATEMENT_BYTES // 1024} KB;"
                             " write a short statement")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"consent statement {path} is not UTF-8 text") from None
        if not text.strip():
            raise InputError(f"consent statement {path} is empty")
        return Consent("statement", text, str(path))

    @staticmethod
    def declared(kind: str) -> Consent:
        if kind not in ("self", "declared"):
            raise InputError(f"unknown consent kind {kind!r}; choose self or declared")
        return Consent(kind)

    @property
    def sha256(self) -> str:
        """The hash of what was consented to, as recorded in project.json and the provenance."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    def describe(self) -> str:
        return {"statement": f"statement from {self.source}",
                "self": "the user declared they are the speaker",
                "declared": "the user declared they hold the speakers' consent"}[self.kind]

    def record(self, job_dir: Path) -> dict[str, str]:
        """Store the statement in ``job_dir`` (when there is one); the record for project.json."""
        record = {"kind": self.kind, "sha256": self.sha256, "description": self.describe()}
        if self.kind == "statement":
            write_text(Path(job_dir) / STATEMENT_FILE, self.text)
            record["file"] = STATEMENT_FILE
        return record
