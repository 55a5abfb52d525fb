"""Where a job's files go, all derived from the output path."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class JobPaths:
    output: Path  # the dubbed media
    job_dir: Path  # <output stem>.dubkit/
    subtitles: Path  # <output stem>.srt, target language
    subtitles_vtt: Path  # <output stem>.vtt
    source_subtitles: Path  # <output stem>.<source>.srt (known once the source language is)

    @staticmethod
    def for_output(output: Path, source_language: str | None = None) -> JobPaths:
        output = Path(output)
        stem = output.with_suffix("")
        return JobPaths(
            output=output,
            job_dir=stem.with_name(stem.name + ".dubkit"),
            subtitles=stem.with_name(stem.name + ".srt"),
            subtitles_vtt=stem.with_name(stem.name + ".vtt"),
            source_subtitles=stem.with_name(f"{stem.name}.{source_language or 'source'}.srt"),
        )

    @property
    def cache_dir(self) -> Path:
        return self.job_dir / "cache"

    @property
    def segments_dir(self) -> Path:
        return self.job_dir / "segments"


def default_output(input_path: Path, target_language: str) -> Path:
    """``<input stem>.<lang>.<same extension>`` beside the input."""
    return input_path.with_name(f"{input_path.stem}.{target_language}{input_path.suffix}")
