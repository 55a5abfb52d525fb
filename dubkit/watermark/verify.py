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
from dubkit.watermark.payload import Payload


@dataclass(frozen=True)
class Verification:
    """What ``verify_file`` found. ``detection`` is the blind search; ``claimed`` the test for
    the manifest's payload, run when the blind search did not already read that payload (None
    otherwise). ``manifest`` is None without one; ``manifest_checks`` maps each check (``file``:
    the file is byte for byte the one dubkit wrote; ``payload``: the mark carries the recorded
    payload; ``key``: the same key id) to its outcome."""

    path: Path
    detection: Detection
    manifest: dict[str, Any] | None
    manifest_checks: dict[str, bool]
    claimed: Detection | None = None

    @property
    def decisive(self) -> Detection:
        """The detection the verdict rests on: the claimed test when it confirmed the
        manifest's payload (a layered mark's presence layer alone confirms no job id)."""
        return self.claimed if self.claimed is not None and self.claimed.found \
            and self.claimed.payload is not None else self.detection

    @property
    def found(self) -> bool:
        return self.decisive.found

    def to_dict(self) -> dict[str, Any]:
        decisive = self.decisive
        payload = decisive.payload
        return {
            "file": str(self.path),
            "watermark": decisive.found,
            "job_id": f"{payload.job_id:08x}" if payload else None,
            "format": payload.version if payload else None,
            "score": round(float(decisive.score), 3),
            "mode": "claimed" if decisive is self.claimed else "blind",
            "blind_score": round(float(self.detection.score), 3),
            "claimed_score": None if self.claimed is None else round(float(self.claimed.score), 3),
            "ranges": [[round(a, 2), round(b, 2)] for a, b in decisive.ranges],
            "key_id": self.detection.key_id,
            "layers": decisive.layers,
            "manifest": str(manifest_path(self.path)) if self.manifest is not None else None,
            "manifest_checks": self.manifest_checks,
        }


def verify_file(path: str | Path, watermarker) -> Verification:
    """Detect ``watermarker``'s mark in the first audio stream of ``path`` and compare what was
    found with the provenance manifest, when there is one. With a manifest naming a payload and
    a backend that can test a claimed payload, that payload is tested too (far more sensitive
    than the blind search: it survives codecs and mixing that hide the payload's bits)."""
    from dubkit import media

    path = check_input_file(path)
    audio = media.decode_audio(path, rate=ANALYSIS_RATE, mono=True)
    detection = watermarker.detect(audio)
    manifest = read_manifest(path)
    checks: dict[str, bool] = {}
    claimed = None
    if manifest is not None:
        checks["file"] = manifest.get("output", {}).get("sha256") == sha256_file(path)
        recorded = manifest.get("watermark") or {}
        checks["key"] = recorded.get("key_id") == watermarker.key_id
        expected = _recorded_payload(recorded)
        if expected is not None and detection.payload != expected \
                and _tests_claims(watermarker):
            claimed = watermarker.detect(audio, expected=expected)
        best = claimed if claimed is not None and claimed.found else detection
        if best.payload is not None and expected is not None:
            checks["payload"] = best.payload == expected
    return Verification(path, detection, manifest, checks, claimed)


def _recorded_payload(recorded: dict[str, Any]) -> Payload | None:
    """The payload a manifest's ``watermark`` record names, or None when it names none."""
    try:
        return Payload(int(recorded["payload"], 16), int(recorded.get("format", 1)))
    except (KeyError, TypeError, ValueError):
        return None


def _tests_claims(watermarker) -> bool:
    import inspect

    return "expected" in inspect.signature(watermarker.detect).parameters
