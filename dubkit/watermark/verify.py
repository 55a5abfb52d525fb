"""Check a media file for dubkit's watermark, and against the provenance manifest beside it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubkit.hashing import sha256_file
from dubkit.inputs import check_input_file
from dubkit.jobs.provenance import manifest_path, read_manifest
from dubkit.types import ANALYSIS_RATE
from dubkit.watermark.base import Detection


@dataclass(frozen=True)
class Verification:
    """What ``verify_file`` found. ``manifest`` is None without one; ``manifest_checks`` maps
    each check (``file``: the file is byte for byte the one dubkit wrote; ``payload``: the
    detected payload is the recorded one; ``key``: the same key id) to its outcome."""

    path: Path
    detection: Detection
    manifest: dict[str, Any] | None
    manifest_checks: dict[str, bool]

    @property
    def found(self) -> bool:
        return self.detection.found

    def to_dict(self) -> dict[str, Any]:
        payload = self.detection.payload
        return {
            "file": str(self.path),
            "watermark": self.detection.found,
            "job_id": f"{payload.job_id:08x}" if payload else None,
            "format": payload.version if payload else None,
            "score": round(float(self.detection.score), 3),
            "ranges": [[round(a, 2), round(b, 2)] for a, b in self.detection.ranges],
            "key_id": self.detection.key_id,
            "manifest": str(manifest_path(self.path)) if self.manifest is not None else None,
            "manifest_checks": self.manifest_checks,
        }


def verify_file(path: str | Path, watermarker) -> Verification:
    """Detect ``watermarker``'s mark in the first audio stream of ``path`` and compare what was
    found with the provenance manifest, when there is one."""
    from dubkit import media

    path = check_input_file(path)
    audio = media.decode_audio(path, rate=ANALYSIS_RATE, mono=True)
    detection = watermarker.detect(audio)
    manifest = read_manifest(path)
    checks: dict[str, bool] = {}
    if manifest is not None:
        checks["file"] = manifest.get("output", {}).get("sha256") == sha256_file(path)
        recorded = manifest.get("watermark") or {}
        checks["key"] = recorded.get("key_id") == watermarker.key_id
        if detection.payload is not None and recorded.get("payload"):
            checks["payload"] = int(recorded["payload"], 16) == detection.payload.job_id
    return Verification(path, detection, manifest, checks)
