"""The stage graph of a dubbing job: decode, vad, diarize, language, transcribe, translate,
synthesize, fit, mix, mux, subtitles. The steps themselves live in ``dubkit.stages``.

Each model stage works segment by segment and stores every result in the job's content-addressed
cache as soon as it exists, and project.json is rewritten after each stage; so a job killed in
the middle resumes where it stopped, and a finished job re-run does no model work.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dubkit import media
from dubkit.backends import StageBackends
from dubkit.config import BACKGROUND_MODES, Preset
from dubkit.errors import InputError, NoSpeech, ProjectError
from dubkit.hashing import sha256_file
from dubkit.jobs import provenance
from dubkit.jobs.cache import StageCache, audio_id
from dubkit.jobs.consent import Consent
from dubkit.jobs.outputs import (
    StagedOutputs,
    check_job_folder,
    check_ours,
    known_hashes,
    remove_leftovers,
    sidecar_files,
)
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.project import Project, line_edits, load_project
from dubkit.languages import check_language, is_language
from dubkit.progress import ProgressHook, ignore_progress
from dubkit.segmentation import segments_from_turns
from dubkit.stages import analysis, direct, quality, render, speech, text, voice
from dubkit.stages.context import JobContext
from dubkit.types import ANALYSIS_RATE, Audio, Segment, Turn
from dubkit.watermark import FORMAT_VERSION, Payload

MODES = ("cascade", "direct", "text-then-tts")
VOICE_MODES = ("keep", "stock")


def watermark_payload(record: dict) -> Payload:
    """The payload recorded in project.json's ``options.watermark``."""
    return Payload(int(record["payload"], 16), int(record["format"]))


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
    voice: str | None = None  # keep | stock; None: keep where the preset can
    background: str | None = None  # keep | duck | drop; None: the preset's mix.background
    consent: Consent | None = None  # needed to keep voices
    watermark_key: str | None = None  # None: the default key
    mode: str | None = None  # cascade | direct | text-then-tts; None: the preset's
    audio_track: int | None = None  # which audio track to dub, 0-based; None: the default one


class DubbingPipeline:
    """Runs ``DubRequest``s with the backends of one preset."""

    def __init__(self, preset: Preset, progress: ProgressHook = ignore_progress,
                 keep_models: bool = True) -> None:
        self.preset = preset
        self.backends = StageBackends(preset)
        self.progress = progress
        # False: each model is let go once the job is past its stages (a lower peak, for one
        # file per process); True: models stay loaded for the next file
        self.keep_models = keep_models

    def _done_with(self, *stages: str) -> None:
        if not self.keep_models:
            self.backends.release(*stages)

    def target_languages(self, mode: str = "cascade") -> frozenset[str]:
        if mode == "direct":
            return frozenset(self.backends.get("speech_translation").target_languages)
        langs = self.backends.get("synthesis").languages
        if mode == "text-then-tts":
            return frozenset(langs & self.backends.get("speech_translation").text_languages)
        if self.backends.has("translation"):
            langs = langs & (self.backends.get("translation").languages | {"en"})
        return frozenset(langs)

    def run(self, request: DubRequest, shared_caches: Sequence[Path] = ()) -> Project:
        """Dub ``request.input`` into ``request.output``; returns the finished project.
        ``shared_caches`` are cache folders of jobs on the same input whose results this one may
        take (the analysis of the source, done once for several target languages).

        Raises ``NoSpeech`` (after recording it in project.json) when there is nothing to dub,
        ``OutputExists`` when the output is not this job's own and ``force`` is off.
        """
        name = self.preset.name
        route = self.check(request)

        paths = JobPaths.for_output(request.output)
        check_job_folder(paths.job_dir, request.force)
        try:
            previous = load_project(paths.job_dir)
        except ProjectError:
            if request.resume:
                raise
            previous = None  # --no-resume starts over from a damaged project.json
        hashes = known_hashes(_recorded_files(previous, request.output), request.output)
        if not request.resume:
            previous = None  # start over: neither cached results nor edits are used
        voice_mode, voice_note = self._voice_mode(request)
        background = self._background_mode(request)
        watermark = self.backends.watermarker(request.watermark_key)

        # Media problems surface here, before anything is written.
        started = time.perf_counter()
        info = media.probe(request.input)
        track = media.check_audio_track(info, request.audio_track)
        # decided from the probed streams: video in a file named .wav fails here, not at mux
        plan = media.check_output_for(info, request.output, request.keep_original, track.index)
        audio = media.decode_audio(request.input, rate=ANALYSIS_RATE, mono=True,
                                   stream_index=track.index)
        decode_seconds = time.perf_counter() - started
        target = check_language(request.target_language, self.target_languages(route), "target",
                                name)
        source = request.source_language
        if source is not None:
            languages = self.backends.get("transcription").languages
            source = check_language(source, languages, "source", name)
        # every file this job writes is checked before the first one is written
        check_ours([paths.output, *sidecar_files(JobPaths.for_output(request.output, source),
                                                 source)], hashes, request.force)
        input_sha = sha256_file(request.input)
        if previous is not None and previous.input.get("sha256") != input_sha:
            previous = None  # a different input under the same output: its edits do not apply

        paths.job_dir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(paths.job_dir)
        cache = StageCache(paths.cache_dir, enabled=request.resume, shared=shared_caches)
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
                     "source_language_requested": request.source_language,
                     "mode": route, "voice": voice_mode, "background": background,
                     "consent": None,
                     "audio_track": request.audio_track, "audio_stream": track.index,
                     "watermark": self._watermark_record(watermark, previous),
                     "notes": ([voice_note] if voice_note else []) + list(plan.dropped)},
            outputs=previous.outputs if previous else {},
            timings={"decode": round(decode_seconds, 4)},
        )
        if previous is not None:
            project.continues(previous)
        job = JobContext(self.preset, self.backends, self.progress, project, cache, paths,
                         audio_id(audio))
        try:
            return self._dub(job, request, audio, route, target, source, voice_mode, background,
                             watermark, previous, hashes)
        except NoSpeech:
            raise  # recorded as "no-speech" already
        except BaseException as exc:
            # the record says how the job ended; a resume picks up from the cache either way
            interrupted = isinstance(exc, KeyboardInterrupt)
            project.status = "interrupted" if interrupted else "failed"
            project.message = ("interrupted: run the same command again to resume"
                               if interrupted else _one_line(exc))
            try:
                job.checkpoint()
            except Exception:  # noqa: BLE001 - the disk may be what failed; keep the cause
                pass
            raise

    def _dub(self, job: JobContext, request: DubRequest, audio: Audio, route: str, target: str,
             source: str | None, voice_mode: str, background: str, watermark,
             previous: Project | None, hashes: set[tuple[str, str]]) -> Project:
        """The job's steps, from voice activity to the finished files."""
        project, paths = job.project, job.paths
        if request.consent is not None:
            project.options["consent"] = request.consent.record(paths.job_dir)
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
        # a speaker or times the user set for a line in project.json are kept
        segments = line_edits(previous, segments, {s.id for s in project.speakers})
        job.checkpoint()

        if source is None:
            source, probability = analysis.detect_language(job, audio, regions)
            project.source_language_detected = True
            project.language_probability = probability
            check_ours([JobPaths.for_output(request.output, source).source_subtitles], hashes,
                       request.force)
        project.source_language = source
        job.paths = paths = JobPaths.for_output(request.output, source)

        separated = None
        if background == "keep":
            separated = render.separate(job, request.input, regions,
                                        project.options["audio_stream"])
        voice_plan = speech.VoicePlan()
        if voice_mode == "keep":
            voice_plan = self._voice_plan(job, audio, separated, turns, segments)

        project.segments = segments = text.transcribe(job, audio, segments, source)
        job.checkpoint()
        self._done_with("vad", "diarization", "separation", "transcription")
        if route == "cascade":
            segments = text.translate(job, audio, segments, source, target, previous)
            speak = speech.synthesizer_source(job, target)
        else:
            segments = direct.translate(job, audio, segments, source, target, previous,
                                        speech=route == "direct")
            speak = (direct.direct_source(job, audio, segments, source, target) if route == "direct"
                     else speech.synthesizer_source(job, target))
        project.segments = segments
        job.checkpoint()
        source_speech = separated.speech_16k if separated is not None else audio
        project.segments = segments = speech.speak_lines(
            job, segments, source, target, speak, voice_plan, source_speech,
            can_shorten=route != "direct")
        job.checkpoint()
        self._done_with("translation", "speech_translation", "synthesis", "voice")

        # Outputs are made in the job folder, their hashes recorded as pending, then moved in
        # place: a job killed at any point still knows every file beside the output as its own.
        staging = StagedOutputs(paths, source)
        render.mix_and_mux(job, request.input, staging.paths.output, segments, target, source,
                           request.keep_original, background, separated, regions, watermark,
                           watermark_payload(project.options["watermark"]),
                           project.options["audio_stream"])
        render.write_subtitles(job, staging.paths, segments)
        project.models = self.backends.model_records()
        provenance.write_manifest(project, staging.paths, self.preset, staging.hashes())
        project.outputs = {**project.outputs, "pending": staging.hashes()}
        job.checkpoint()
        written = staging.place()
        project.options["qa"] = quality.report(job, source_speech, segments, voice_plan)
        project.outputs = {
            "media": str(paths.output),
            "media_sha256": written[paths.output.name],
            "subtitles": {target: str(paths.subtitles), f"{target}-vtt": str(paths.subtitles_vtt),
                          source: str(paths.source_subtitles)},
            "qa": str(paths.job_dir / quality.QA_FILE),
            "provenance": str(provenance.manifest_path(paths.output)),
            "files": written,
        }
        project.status = "complete"
        job.checkpoint()
        return project

    def check(self, request: DubRequest) -> str:
        """What can be checked of ``request`` before its media is read (mode, language codes,
        voice and background options); returns the route (the mode). A list of jobs is checked
        whole before the first one starts."""
        name = self.preset.name
        route = self._check_mode(request.mode or self.preset.pipeline.mode)
        if not is_language(request.target_language.strip().lower()):  # an unknown code
            check_language(request.target_language, self.target_languages(route),
                           "target", name)
        if request.source_language and not is_language(request.source_language.strip().lower()):
            check_language(request.source_language,
                           self.backends.get("transcription").languages, "source", name)
        self._voice_mode(request)
        self._background_mode(request)
        return route

    # -- job options -----------------------------------------------------------------------

    def _voice_mode(self, request: DubRequest) -> tuple[str, str]:
        """``keep`` or ``stock``, and why it is not what was asked for (or "")."""
        if request.voice is not None and request.voice not in VOICE_MODES:
            raise InputError(f"unknown voice mode {request.voice!r}; choose keep or stock")
        can_keep = self.backends.has("voice")
        if request.voice == "keep" and not can_keep:
            raise InputError(f"preset {self.preset.name!r} cannot keep voices (it has no "
                             "[voice] stage); use --voice stock or another preset")
        wanted = request.voice or ("keep" if can_keep else "stock")
        if wanted == "keep" and request.consent is None:
            return "stock", ("stock voices: keeping a speaker's voice needs their consent "
                             "(--consent FILE, --consent-self or --i-have-consent)")
        return wanted, ""

    def _background_mode(self, request: DubRequest) -> str:
        mode = request.background or self.preset.mix.background
        if mode == "auto":
            return "keep" if self.backends.has("separation") else "duck"
        if mode not in BACKGROUND_MODES:
            raise InputError(f"unknown background mode {mode!r}; choose one of: "
                             f"{', '.join(BACKGROUND_MODES)}")
        if mode == "keep" and not self.backends.has("separation"):
            raise InputError(f"preset {self.preset.name!r} cannot separate the background (it "
                             "has no [separation] stage); use --background duck or drop")
        return mode

    def _check_mode(self, mode: str) -> str:
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        if mode != "cascade" and not self.backends.has("speech_translation"):
            raise InputError(f"preset {self.preset.name!r} has no direct speech translator "
                             "([speech_translation] stage); use --mode cascade")
        return mode

    def _watermark_record(self, watermark, previous: Project | None) -> dict:
        """The job's watermark: a random 32-bit job id kept across re-runs, the backend and the
        key's id (never the key)."""
        old = (previous.options.get("watermark") if previous else None) or {}
        payload = old.get("payload") or f"{secrets.randbits(32):08x}"
        return {"backend": watermark.name, "payload": payload, "format": FORMAT_VERSION,
                "key_id": watermark.key_id}

    def _voice_plan(self, job: JobContext, audio: Audio, separated, turns: list[Turn],
                    segments: list[Segment]) -> speech.VoicePlan:
        """Profiles and prosody from the source speech: the separated speech when the
        background was separated (no music in the statistics), else the track itself."""
        if separated is not None:
            source, source_id = separated.speech_16k, "separated-" + \
                self.backends.fingerprint("separation")
        else:
            source, source_id = audio, "original"
        profiles = voice.speaker_profiles(job, source, source_id, turns)
        prosody = voice.segment_prosody(job, source, source_id, segments)
        return speech.VoicePlan(True, profiles, prosody)


def _recorded_files(previous: Project | None, output: Path) -> list[dict[str, str]]:
    """File name -> sha256 of what the previous run wrote beside ``output`` (placed, and
    staged to be placed when it was stopped)."""
    if previous is None:
        return []
    outputs = previous.outputs
    media = {output.name: outputs["media_sha256"]} if outputs.get("media_sha256") else {}
    return [outputs.get("files") or {}, outputs.get("pending") or {}, media]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
