"""A dubbing job: one door (``DubbingPipeline.prepare``) that checks a request once, and the
steps each mode runs, declared in ``STEPS`` (their code is in ``dubkit.stages.sequence``).

Each model step works line by line and stores every result in the job's content-addressed
cache as soon as it exists, and project.json is rewritten after each step; so a job killed in
the middle resumes where it stopped, and a finished job re-run does no model work. ``render``
runs a finished job again from a named step, for chosen lines, without reading the input
again for analysis.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dubkit import media
from dubkit.backends import StageBackends
from dubkit.config import Preset
from dubkit.errors import InputError, NoSpeech, ProjectError
from dubkit.hashing import sha256_file
from dubkit.inputs import check_input_file, check_output_file
from dubkit.jobs.cache import StageCache, audio_id
from dubkit.jobs.lock import job_lock
from dubkit.jobs.outputs import (
    check_job_folder,
    check_ours,
    known_hashes,
    remove_leftovers,
    sidecar_files,
)
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.project import Project, load_project
from dubkit.jobs.track import load_track, store_track
from dubkit.languages import check_language
from dubkit.media.subtitle_input import check_spec, check_times, track_cues, track_number
from dubkit.media.subtitles import Cue
from dubkit.progress import ProgressHook, ignore_progress
from dubkit.request import MODES, DubRequest
from dubkit.stages import sequence as seq
from dubkit.stages.context import JobContext
from dubkit.synth.intelligibility import check_intelligible
from dubkit.types import ANALYSIS_RATE
from dubkit.watermark import FORMAT_VERSION, Payload

_ANALYSIS = (
    seq.JobStep("speech", seq.find_speech),
    seq.JobStep("speakers", seq.find_speakers, seq.restore_speakers),
    seq.JobStep("language", seq.identify_language, seq.restore_language),
    seq.JobStep("background", seq.separate_background),
    seq.JobStep("voices", seq.plan_voices),
    seq.JobStep("transcribe", seq.transcribe, seq.keep_lines),
)
_OUTPUTS = (
    seq.JobStep("synthesize", seq.synthesize, seq.keep_lines),
    seq.JobStep("mix", seq.write_outputs),
    seq.JobStep("qa", seq.report_quality),
)
# the steps of each mode, in order; a render names one of them to start from
STEPS: dict[str, tuple[seq.JobStep, ...]] = {
    "cascade": _ANALYSIS + (seq.JobStep("translate", seq.translate_text,
                                        seq.keep_translation),) + _OUTPUTS,
    "direct": _ANALYSIS + (seq.JobStep("translate", seq.translate_speech,
                                       seq.keep_translation),) + _OUTPUTS,
    "text-then-tts": _ANALYSIS + (seq.JobStep("translate", seq.translate_speech,
                                              seq.keep_translation),) + _OUTPUTS,
}
RENDER_FROM = ("transcribe", "translate", "synthesize", "mix")
# The last step that depends on the source alone: what a batch computes once per source
ANALYSIS_UNTIL = _ANALYSIS[-1].name


def watermark_payload(record: dict) -> Payload:
    """The payload recorded in project.json's ``options.watermark``."""
    return Payload(int(record["payload"], 16), int(record["format"]))


@dataclass(frozen=True)
class PreparedJob:
    """A request that passed the door, with what the door decided."""

    request: DubRequest
    route: str  # the mode
    target: str
    source: str | None  # None: detect
    voice: str  # keep | stock
    background: str  # keep | duck | drop
    notes: tuple[str, ...] = ()  # why something is not as asked (e.g. stock voices)
    # the cues of --source-subtitles / --target-subtitles files (a track:N is read at run)
    source_cues: tuple[Cue, ...] | None = None
    target_cues: tuple[Cue, ...] | None = None


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

    def target_languages(self, mode: str = "cascade") -> frozenset[str]:
        if mode == "direct":
            return frozenset(self.backends.get("speech_translation").target_languages)
        langs = self.backends.get("synthesis").languages
        if mode == "text-then-tts":
            return frozenset(langs & self.backends.get("speech_translation").text_languages)
        if self.backends.has("translation"):
            langs = langs & (self.backends.get("translation").languages | {"en"})
        return frozenset(langs)

    # -- the door ---------------------------------------------------------------------------

    def prepare(self, request: DubRequest) -> PreparedJob:
        """Check everything about ``request`` that can be known before its media is read:
        the files, the mode, the languages, the voice and background options. Inner code
        trusts what passed; a list of jobs is prepared whole before the first one runs."""
        name, options = self.preset.name, request.options
        path = check_input_file(request.input)
        request = DubRequest(path, check_output_file(request.output, path),
                             request.target_language, options)
        route = options.mode or self.preset.pipeline.mode
        if route not in MODES:
            raise InputError(f"preset {name!r} has unknown mode {route!r}; choose one of: "
                             f"{', '.join(MODES)}")
        if route != "cascade" and not self.backends.has("speech_translation"):
            raise InputError(f"preset {name!r} has no direct speech translator "
                             "([speech_translation] stage); use --mode cascade")
        offered = self.target_languages(route)
        target = check_language(request.target_language, offered, "target", name)
        source = options.source_language
        if source is not None:
            source = check_language(source, self.backends.get("transcription").languages,
                                    "source", name)
        if route != "direct":  # the preset's synthesizer speaks the translation
            check_intelligible(self.backends.get("synthesis"), target,
                               allow_robotic=options.allow_unintelligible_voice,
                               offered=offered)
        voice, note = self._voice_mode(request)
        if options.target_subtitles is not None and route != "cascade":
            raise InputError("--target-subtitles takes the translator's place: it needs --mode "
                             "cascade")
        cues = {flag: check_spec(spec, flag) for flag, spec in (
            ("--source-subtitles", options.source_subtitles),
            ("--target-subtitles", options.target_subtitles)) if spec is not None}
        return PreparedJob(request, route, target, source, voice, self._background_mode(request),
                           (note,) if note else (), cues.get("--source-subtitles"),
                           cues.get("--target-subtitles"))

    def _voice_mode(self, request: DubRequest) -> tuple[str, str]:
        """``keep`` or ``stock``, and why it is not what was asked for (or "")."""
        options = request.options
        can_keep = self.backends.has("voice")
        if options.voice == "keep" and not can_keep:
            raise InputError(f"preset {self.preset.name!r} cannot keep voices (it has no "
                             "[voice] stage); use --voice stock or another preset")
        wanted = options.voice or ("keep" if can_keep else "stock")
        if wanted == "keep" and options.consent is None:
            return "stock", ("stock voices: keeping a speaker's voice needs their consent "
                             "(--consent FILE, --consent-self or --i-have-consent)")
        if wanted == "keep":
            self.backends.get("voice")  # its models found now, not after the translation
        return wanted, ""

    def _background_mode(self, request: DubRequest) -> str:
        mode = request.options.background or self.preset.mix.background
        if mode == "auto":
            return "keep" if self.backends.has("separation") else "duck"
        if mode == "keep" and not self.backends.has("separation"):
            raise InputError(f"preset {self.preset.name!r} cannot separate the background (it "
                             "has no [separation] stage); use --background duck or drop")
        return mode

    # -- a job ------------------------------------------------------------------------------

    def run(self, job: PreparedJob, shared_caches: Sequence[Path] = (), *,
            store: Path | None = None, until: str | None = None) -> Project:
        """Dub ``job.request.input`` into its output; returns the finished project.
        ``shared_caches`` are cache folders of jobs on the same input whose results this one may
        take (the analysis of the source, done once for several target languages). ``store``
        is a cache folder shared by many jobs (a batch's): results missing here are taken from
        it and new ones are added to it. ``until`` names the last step to run (a batch
        analyses a source once, up to ``ANALYSIS_UNTIL``); the job is then "analysed".

        Raises ``NoSpeech`` (after recording it in project.json) when there is nothing to dub,
        ``OutputExists`` when the output is not this job's own and ``force`` is off, ``JobBusy``
        when another process is working in the job folder.
        """
        paths = JobPaths.for_output(job.request.output)
        check_job_folder(paths.job_dir, job.request.options.force)
        with job_lock(paths.job_dir):
            return self._run(job, paths, shared_caches, store, until)

    def _run(self, job: PreparedJob, paths: JobPaths, shared_caches: Sequence[Path],
             store: Path | None, until: str | None) -> Project:
        request, options = job.request, job.request.options
        try:
            previous = load_project(paths.job_dir)
        except ProjectError:
            if options.resume:
                raise
            previous = None  # --no-resume starts over from a damaged project.json
        hashes = known_hashes(_recorded_files(previous, request.output), request.output)
        if not options.resume:
            previous = None  # start over: neither cached results nor edits are used
        watermark = self.backends.watermarker(options.watermark_key)

        # Media problems surface here, before anything is written.
        started = time.perf_counter()
        info = media.probe(request.input)
        track = media.check_audio_track(info, options.audio_track)
        # decided from the probed streams: video in a file named .wav fails here, not at mux
        plan = media.check_output_for(info, request.output, options.keep_original, track.index)
        source_cues, target_cues = (_subtitles(info, spec, found, flag) for spec, found, flag in (
            (options.source_subtitles, job.source_cues, "--source-subtitles"),
            (options.target_subtitles, job.target_cues, "--target-subtitles")))
        audio = media.decode_audio(request.input, rate=ANALYSIS_RATE, mono=True,
                                   stream_index=track.index)
        decode_seconds = time.perf_counter() - started
        # every file this job writes is checked before the first one is written
        check_ours([paths.output, *sidecar_files(JobPaths.for_output(request.output, job.source),
                                                 job.source)], hashes, options.force)
        stat = request.input.stat()
        input_sha = sha256_file(request.input)
        if previous is not None and previous.input.get("sha256") != input_sha:
            previous = None  # a different input under the same output: its edits do not apply

        paths.job_dir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(paths.job_dir)
        samples_id = audio_id(audio)
        project = Project(
            input={
                "path": str(request.input), "sha256": input_sha,
                "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "duration": info.duration,
                "format": info.format_name,
                "streams": info.to_dict()["streams"],
                "analysis_track": store_track(paths.job_dir, audio, samples_id),
            },
            target_language=job.target,
            preset={"name": self.preset.name, "fingerprint": self.preset.fingerprint(),
                    "config": self.preset.to_dict()},
            options={"keep_original": options.keep_original,
                     "num_speakers": options.num_speakers,
                     "source_language_requested": options.source_language,
                     "mode": job.route, "voice": job.voice, "background": job.background,
                     "consent": None,
                     "audio_track": options.audio_track, "audio_stream": track.index,
                     "watermark": _watermark_record(watermark, previous),
                     "source_subtitles": options.source_subtitles,
                     "target_subtitles": options.target_subtitles,
                     "notes": list(job.notes) + list(plan.dropped)},
            outputs=previous.outputs if previous else {},
            timings={"decode": round(decode_seconds, 4)},
        )
        if previous is not None:
            project.continues(previous)
        if options.consent is not None:
            project.options["consent"] = options.consent.record(paths.job_dir)
        # a batch's analysis of a source writes its results straight into the store
        context = self._context(project, paths, samples_id, options.resume, shared_caches,
                                store, in_store=until is not None)
        state = seq.DubState(
            input=request.input, output=request.output, route=job.route, target=job.target,
            source=job.source, voice_mode=job.voice, background=job.background,
            keep_original=options.keep_original, num_speakers=options.num_speakers,
            consent=options.consent, watermarker=watermark,
            payload=watermark_payload(project.options["watermark"]), audio=audio,
            previous=previous, hashes=hashes, force=options.force, stream=track.index,
            source_cues=source_cues, target_cues=target_cues)
        steps = STEPS[job.route]
        if until is not None:
            steps = steps[:[s.name for s in steps].index(until) + 1]
        self._steps(context, state, steps)
        if until is not None:
            project.status = "analysed"
            context.checkpoint()
        return project

    def render(self, output: Path, from_step: str, lines: Sequence[str] | None = None,
               watermark_key: str | None = None, force: bool = False) -> Project:
        """Run the finished job that made ``output`` again from the step ``from_step`` (one
        of ``RENDER_FROM``) for ``lines`` (ids; None: every line), taking what the steps
        before it made from project.json and the cache: the input is not decoded and hashed
        for analysis again, only read for the mix. What a redone step makes replaces what the
        user edited there (a line redone from ``translate`` takes the machine's text again);
        edits to its inputs are used (an edited source text is translated)."""
        if from_step not in RENDER_FROM:
            raise InputError(f"cannot render from {from_step!r}; choose one of: "
                             f"{', '.join(RENDER_FROM)}")
        paths = JobPaths.for_output(Path(output))
        if not (paths.job_dir / "project.json").is_file():
            raise InputError(f"{output} has no job folder ({paths.job_dir}): dub it first with "
                             "`dubkit translate`")
        with job_lock(paths.job_dir):
            return self._render(paths, from_step, lines, watermark_key, force)

    def _render(self, paths: JobPaths, from_step: str, lines: Sequence[str] | None,
                watermark_key: str | None, force: bool) -> Project:
        output = paths.output
        project = load_project(paths.job_dir)
        if project is None:
            raise InputError(f"{output} has no job folder ({paths.job_dir}): dub it first with "
                             "`dubkit translate`")
        # a job that finished once may be rendered again, also after a render that failed
        if not project.outputs.get("media_sha256") or project.status in ("running",
                                                                          "no-speech"):
            raise InputError(f"the job in {paths.job_dir} is {project.status} and has not "
                             "finished: run the same `dubkit translate` command first")
        if project.preset.get("fingerprint") != self.preset.fingerprint():
            raise InputError(f"the job was made with preset {project.preset.get('name')!r} as "
                             f"it was then; render it with that preset ({self.preset.name!r} "
                             "differs)")
        ids = {s.id for s in project.segments}
        chosen = None if lines is None else frozenset(lines)
        if chosen is not None and (not chosen or not chosen <= ids):
            unknown = sorted(chosen - ids) or ["(none given)"]
            raise InputError(f"no line {unknown[0]!r} in the job; its lines are "
                             f"{', '.join(sorted(ids)[:10])}{' ...' if len(ids) > 10 else ''}")
        source_path = Path(project.input["path"])
        try:
            stat = source_path.stat()
        except OSError:
            raise InputError(f"the job's input {source_path} is gone: a render mixes over it") \
                from None
        if (stat.st_size, stat.st_mtime_ns) != (project.input["size"],
                                               project.input.get("mtime_ns")):
            raise InputError(f"{source_path} changed since the job ran: run `dubkit translate` "
                             "again")
        watermark = self.backends.watermarker(watermark_key)
        recorded = project.options["watermark"]
        if recorded.get("key_id") != watermark.key_id:
            raise InputError("the watermark key is not the one the job was made with: give the "
                             "same --watermark-key (or DUBKIT_WATERMARK_KEY)")
        audio, samples_id = load_track(paths.job_dir, project.input.get("analysis_track"))
        hashes = known_hashes(_recorded_files(project, paths.output), paths.output)
        options = project.options
        project.status, project.timings = "running", {}
        context = self._context(project, JobPaths.for_output(paths.output,
                                                             project.source_language),
                                samples_id, True, ())
        route = options["mode"]
        state = seq.DubState(
            input=source_path, output=paths.output, route=route,
            target=project.target_language, source=project.source_language,
            voice_mode=options["voice"], background=options["background"],
            keep_original=options["keep_original"], num_speakers=options["num_speakers"],
            consent=None, watermarker=watermark, payload=watermark_payload(recorded),
            audio=audio, previous=project, hashes=hashes, force=force, lines=chosen,
            stream=options["audio_stream"])
        check_ours([paths.output, *sidecar_files(context.paths, project.source_language)],
                   hashes, force)
        steps = STEPS[route]
        start = [s.name for s in steps].index(from_step)
        return self._steps(context, state, steps, start)

    def _context(self, project: Project, paths: JobPaths, samples_id: str, resume: bool,
                 shared_caches: Sequence[Path], store: Path | None = None,
                 in_store: bool = False) -> JobContext:
        folder = store if in_store and store is not None else paths.cache_dir
        cache = StageCache(folder, enabled=resume, shared=shared_caches, store=store)
        return JobContext(self.preset, self.backends, self.progress, project, cache, paths,
                          samples_id, self.keep_models)

    def _steps(self, job: JobContext, state: seq.DubState, steps: Sequence[seq.JobStep],
               start: int = 0) -> Project:
        """Restore ``steps[:start]``, run the rest; record how the job ended whatever
        happens (a resume picks up from the cache either way)."""
        project = job.project
        try:
            job.checkpoint()
            for i, step in enumerate(steps):
                if i < start:
                    step.resume(job, state)
                else:
                    step.run(job, state)
            return project
        except NoSpeech:
            raise  # recorded as "no-speech" already
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            project.status = "interrupted" if interrupted else "failed"
            project.message = ("interrupted: run the same command again to resume"
                               if interrupted else _one_line(exc))
            try:
                job.checkpoint()
            except Exception:  # noqa: BLE001 - the disk may be what failed; keep the cause
                pass
            raise


def _subtitles(info: media.MediaInfo, spec: str | None, found: tuple[Cue, ...] | None,
               flag: str) -> tuple[Cue, ...] | None:
    """A subtitle option's cues, read from the media for ``track:N``, checked against its
    length."""
    if spec is None:
        return None
    number = track_number(spec)
    cues = track_cues(info, number, flag) if number is not None else found
    check_times(cues, info.duration, f"{flag} {spec}")
    return cues


def _watermark_record(watermark, previous: Project | None) -> dict:
    """The job's watermark: a random 32-bit job id kept across re-runs, the backend and the
    key's id (never the key)."""
    old = (previous.options.get("watermark") if previous else None) or {}
    payload = old.get("payload") or f"{secrets.randbits(32):08x}"
    return {"backend": watermark.name, "payload": payload, "format": FORMAT_VERSION,
            "key_id": watermark.key_id}


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
