"""The stage graph of a dubbing job: decode, vad, diarize, language, transcribe, translate,
synthesize, fit, mix, mux, subtitles. The steps themselves live in ``dubkit.stages``.

Each model stage works segment by segment and stores every result in the job's content-addressed
cache as soon as it exists, and project.json is rewritten after each stage; so a job killed in
the middle resumes where it stopped, and a finished job re-run does no model work.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from dubkit import media
from dubkit.backends import StageBackends
from dubkit.config import Preset
from dubkit.errors import NoSpeech, OutputExists, ProjectError
from dubkit.hashing import sha256_file
from dubkit.jobs.cache import StageCache
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.project import Project, load_project
from dubkit.languages import check_language, is_language
from dubkit.progress import ProgressHook, ignore_progress
from dubkit.segmentation import segments_from_turns
from dubkit.stages import analysis, render, speech, text
from dubkit.stages.context import JobContext
from dubkit.types import ANALYSIS_RATE


@dataclass(frozen=True)
class DubRequest:
    """One translate job, as checked at the door."""

    input: Path
    output: Path
    target_language: str
    source_language: str | None = None  # None: detect
    resume: bool = True
    force: bool = False
    keep_original: bool = True
    num_speakers: int | None = None


class DubbingPipeline:
    """Runs ``DubRequest``s with the backends of one preset."""

    def __init__(self, preset: Preset, progress: ProgressHook = ignore_progress) -> None:
        self.preset = preset
        self.backends = StageBackends(preset)
        self.progress = progress

    def target_languages(self) -> frozenset[str]:
        langs = self.backends.get("synthesis").languages
        if self.backends.has("translation"):
            langs = langs & (self.backends.get("translation").languages | {"en"})
        return frozenset(langs)

    def run(self, request: DubRequest) -> Project:
        """Dub ``request.input`` into ``request.output``; returns the finished project.

        Raises ``NoSpeech`` (after recording it in project.json) when there is nothing to dub,
        ``OutputExists`` when the output is not this job's own and ``force`` is off.
        """
        name = self.preset.name
        # an unknown code is reported before the media is read
        if not is_language(request.target_language.strip().lower()):
            check_language(request.target_language, self.target_languages(), "target", name)
        if request.source_language and not is_language(request.source_language.strip().lower()):
            check_language(request.source_language,
                           self.backends.get("transcription").languages, "source", name)

        paths = JobPaths.for_output(request.output)
        try:
            previous = load_project(paths.job_dir)
        except ProjectError:
            if request.resume:
                raise
            previous = None
        self._check_output_is_ours(request, previous)
        if not request.resume:
            previous = None  # start over: neither cached results nor edits are used

        # Media problems surface here, before anything is written.
        started = time.perf_counter()
        info = media.probe(request.input)
        audio = media.decode_audio(request.input, rate=ANALYSIS_RATE, mono=True)
        decode_seconds = time.perf_counter() - started
        target = check_language(request.target_language, self.target_languages(), "target", name)
        source = request.source_language
        if source is not None:
            languages = self.backends.get("transcription").languages
            source = check_language(source, languages, "source", name)
        input_sha = sha256_file(request.input)
        if previous is not None and previous.input.get("sha256") != input_sha:
            previous = None  # a different input under the same output: its edits do not apply

        paths.job_dir.mkdir(parents=True, exist_ok=True)
        cache = StageCache(paths.cache_dir, enabled=request.resume)
        project = Project(
            input={
                "path": str(request.input), "sha256": input_sha,
                "size": request.input.stat().st_size, "duration": info.duration,
                "format": info.format_name,
                "streams": info.to_dict()["streams"],
            },
            target_language=target,
            preset={"name": name, "fingerprint": self.preset.fingerprint(),
                    "config": self.preset.to_dict()},
            options={"keep_original": request.keep_original, "num_speakers": request.num_speakers,
                     "source_language_requested": request.source_language},
            models=self.backends.model_records(),
            outputs=previous.outputs if previous else {},
            timings={"decode": round(decode_seconds, 4)},
        )
        if previous is not None:
            project.created = previous.created
        job = JobContext(self.preset, self.backends, self.progress, project, cache, paths,
                         input_sha)
        job.checkpoint()

        regions = analysis.find_speech(job, audio)
        if not regions:
            project.status = "no-speech"
            project.message = "no speech was found, so there is nothing to dub"
            job.checkpoint()
            raise NoSpeech(f"no speech found in {request.input.name}: nothing to dub")
        job.checkpoint()

        turns = analysis.diarize(job, audio, regions, request.num_speakers)
        segments = segments_from_turns(turns, regions, self.preset.segmentation.max_segment)
        project.speakers = analysis.describe_speakers(job, audio, turns, target)
        job.checkpoint()

        if source is None:
            source, probability = analysis.detect_language(job, audio, regions)
            project.source_language_detected = True
            project.language_probability = probability
        project.source_language = source
        job.paths = paths = JobPaths.for_output(request.output, source)

        project.segments = segments = text.transcribe(job, audio, segments, source)
        job.checkpoint()
        project.segments = segments = text.translate(job, audio, segments, source, target,
                                                     previous)
        job.checkpoint()
        project.segments = segments = speech.synthesize_and_fit(job, segments, target)
        job.checkpoint()

        render.mix_and_mux(job, request.input, segments, target, source, request.keep_original)
        render.write_subtitles(job, segments)
        project.outputs = {
            "media": str(paths.output),
            "media_sha256": sha256_file(paths.output),
            "subtitles": {target: str(paths.subtitles), f"{target}-vtt": str(paths.subtitles_vtt),
                          source: str(paths.source_subtitles)},
        }
        project.status = "complete"
        job.checkpoint()
        return project

    def _check_output_is_ours(self, request: DubRequest, previous: Project | None) -> None:
        """An existing output is replaced only with ``force`` or when it is exactly the file this
        job wrote last (so editing a line and re-running just works)."""
        out = request.output
        if not out.exists() or request.force:
            return
        ours = previous is not None and previous.outputs.get("media_sha256") == sha256_file(out)
        if not ours:
            raise OutputExists(f"output {out} exists; pass --force to replace it, or choose -o")
