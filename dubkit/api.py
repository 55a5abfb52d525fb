"""The Python API: ``Dubber`` for files. Results are data that also record what made them."""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubkit.config import Preset, load_preset
from dubkit.errors import InputError
from dubkit.inputs import check_input_file, check_output_file
from dubkit.jobs.consent import Consent
from dubkit.jobs.paths import JobPaths, default_output
from dubkit.jobs.project import Project
from dubkit.languages import check_language
from dubkit.pipeline import DubbingPipeline, DubRequest
from dubkit.progress import ProgressHook, ignore_progress
from dubkit.types import Segment, Speaker, Turn

DEFAULT_PRESET = "cpu"


@dataclass(frozen=True)
class DubResult:
    """What ``Dubber.translate`` made: the files, the lines, the time each stage took, and the
    options and preset that made them."""

    output: Path
    subtitles: dict[str, Path]  # "ja" / "ja-vtt" / source language -> file
    job_dir: Path
    project_file: Path
    source_language: str
    target_language: str
    segments: tuple[Segment, ...]
    speakers: tuple[Speaker, ...]
    timings: dict[str, float]  # stage -> wall seconds in this run
    work: dict[str, dict[str, int]]  # stage -> {"computed": n, "reused": n}
    preset: str
    options: dict[str, Any] = field(default_factory=dict)
    qa_file: Path | None = None  # per-line quality report (qa.json)
    provenance_file: Path | None = None  # <output>.provenance.json

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user should know about how the dub was made (e.g. why stock voices)."""
        return tuple(self.options.get("notes", ()))

    @property
    def qa(self) -> dict[str, Any]:
        """The QA summary: means, and the lines to review."""
        return dict(self.options.get("qa", {}))

    @property
    def model_work(self) -> int:
        """Results computed by models in this run (0 when everything came from the cache)."""
        return sum(v.get("computed", 0) for k, v in self.work.items() if k not in ("fit",))

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "subtitles": {k: str(v) for k, v in self.subtitles.items()},
            "job_dir": str(self.job_dir),
            "project": str(self.project_file),
            "source_language": self.source_language,
            "target_language": self.target_language,
            "segments": len(self.segments),
            "speakers": len(self.speakers),
            "timings": self.timings,
            "work": self.work,
            "preset": self.preset,
            "options": self.options,
            "qa": str(self.qa_file) if self.qa_file else None,
            "provenance": str(self.provenance_file) if self.provenance_file else None,
        }


@dataclass(frozen=True)
class DiarizationResult:
    input: Path
    turns: tuple[Turn, ...]
    num_speakers: int
    timings: dict[str, float]


class Dubber:
    """Dubs media files with the backends of one preset.

    >>> result = Dubber(preset="cpu").translate("talk.mp4", to="ja")   # doctest: +SKIP
    >>> result.output                                                    # doctest: +SKIP
    PosixPath('talk.ja.mp4')

    ``progress`` receives a ``ProgressEvent`` as each stage advances. Models are loaded on first
    use and kept for the next file; ``keep_models=False`` lets each go as soon as a job is past
    its stages (a lower peak of memory, for one file per process, as the CLI does).
    """

    def __init__(self, preset: str | os.PathLike[str] | Preset = DEFAULT_PRESET, *,
                 progress: ProgressHook = ignore_progress, keep_models: bool = True) -> None:
        self.preset = preset if isinstance(preset, Preset) else load_preset(preset)
        self.progress = progress
        self.keep_models = keep_models
        self._pipeline: DubbingPipeline | None = None

    @property
    def pipeline(self) -> DubbingPipeline:
        if self._pipeline is None:
            self._pipeline = DubbingPipeline(self.preset, self.progress, self.keep_models)
        return self._pipeline

    def translate(
        self,
        input: str | os.PathLike[str],
        to: str | Sequence[str],
        *,
        source_language: str | None = None,
        output: str | os.PathLike[str] | None = None,
        resume: bool = True,
        force: bool = False,
        keep_original: bool = True,
        num_speakers: int | None = None,
        voice: str | None = None,
        background: str | None = None,
        consent: Consent | str | os.PathLike[str] | None = None,
        watermark_key: str | None = None,
        mode: str | None = None,
        audio_track: int | None = None,
    ) -> DubResult | list[DubResult]:
        """Dub ``input`` into language ``to`` (ISO 639-1). See the README for the files written.

        ``to`` may be a list of languages: then a list of results, one per language, each
        output beside the input (``output`` must not be given); the source is analysed once
        (voice activity, speakers, language, transcription and voice profiles are computed for
        the first language and reused by the others), and every language is checked before the
        first job starts.

        ``voice`` "keep" (the default where the preset can) moves each line to its speaker's
        voice, which needs ``consent``: a ``Consent`` or the path of a statement file; without
        it stock voices are used and ``DubResult.notes`` says so. ``background`` is "keep",
        "duck" or "drop"; ``mode`` "cascade", "direct" or "text-then-tts" (default: the
        preset's). ``audio_track`` picks which audio track to dub (0-based; default: the
        track marked default, else the first). Every synthesized line
        carries a watermark keyed by ``watermark_key`` (default: dubkit's public key).
        """
        path = check_input_file(input)
        if num_speakers is not None and num_speakers < 1:
            raise InputError("--num-speakers must be at least 1")
        if audio_track is not None and audio_track < 0:
            raise InputError("--audio-track counts from 0 and must not be negative")
        if consent is not None and not isinstance(consent, Consent):
            consent = Consent.from_file(consent)
        if watermark_key is not None and not watermark_key.strip():
            raise InputError("the watermark key must not be empty")
        targets = [to] if isinstance(to, str) else list(to)
        if not targets or len(set(targets)) != len(targets):
            raise InputError("give each target language once")
        if len(targets) > 1 and output is not None:
            raise InputError("with several target languages the outputs go beside the input: "
                             "leave out the output path")
        requests = []
        for target in targets:
            out = check_output_file(Path(output) if output else default_output(path, target),
                                    path)
            requests.append(DubRequest(path, out, target, source_language, resume, force,
                                       keep_original, num_speakers, voice, background, consent,
                                       watermark_key, mode, audio_track))
        for request in requests:  # a wrong third language fails before the first job starts
            route = self.pipeline.check(request)
            if len(requests) > 1:
                check_language(request.target_language, self.pipeline.target_languages(route),
                               "target", self.preset.name)
        results, caches = [], []
        for request in requests:
            project = self.pipeline.run(request, shared_caches=caches)
            result = self._result(project, request)
            caches.append(JobPaths.for_output(request.output).cache_dir)
            results.append(result)
        return results[0] if isinstance(to, str) else results

    def diarize(self, input: str | os.PathLike[str],
                num_speakers: int | None = None) -> DiarizationResult:
        """Who spoke when in ``input``."""
        from dubkit import media
        from dubkit.types import ANALYSIS_RATE

        path = check_input_file(input)
        if num_speakers is not None and num_speakers < 1:
            raise InputError("--num-speakers must be at least 1")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        audio = media.decode_audio(path, rate=ANALYSIS_RATE, mono=True)
        t1 = time.perf_counter()
        regions = self.pipeline.backends.get("vad").detect(audio)
        t2 = time.perf_counter()
        turns = self.pipeline.backends.get("diarization").diarize(audio, regions, num_speakers) \
            if regions else []
        t3 = time.perf_counter()
        timings.update(decode=t1 - t0, vad=t2 - t1, diarize=t3 - t2)
        return DiarizationResult(path, tuple(turns), len({t.speaker for t in turns}), timings)

    def _result(self, project: Project, request: DubRequest) -> DubResult:
        paths = JobPaths.for_output(request.output, project.source_language)
        subtitles = {k: Path(v) for k, v in project.outputs.get("subtitles", {}).items()}
        return DubResult(
            output=request.output,
            subtitles=subtitles,
            job_dir=paths.job_dir,
            project_file=paths.job_dir / "project.json",
            source_language=project.source_language or "",
            target_language=project.target_language,
            segments=tuple(project.segments),
            speakers=tuple(project.speakers),
            timings=dict(project.timings),
            work=dict(project.work),
            preset=self.preset.name,
            options=dict(project.options),
            qa_file=Path(project.outputs["qa"]) if project.outputs.get("qa") else None,
            provenance_file=Path(project.outputs["provenance"])
            if project.outputs.get("provenance") else None,
        )
