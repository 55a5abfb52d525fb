"""The job-level steps a dub is made of, by name, and what they hand on to each other
(``DubState``). ``dubkit.pipeline`` declares which steps each mode runs, in order.

Each step either runs (computes what it owns, from the cache where it can) or, when a render
starts after it, restores what it owns from project.json and the cache, so later steps see the
job as the user left it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dubkit import media
from dubkit.analysis.background import measure_background
from dubkit.errors import InputError, NoSpeech
from dubkit.jobs import provenance
from dubkit.jobs.consent import Consent
from dubkit.jobs.outputs import StagedOutputs, check_ours
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.project import Project, line_edits
from dubkit.languages import language_name
from dubkit.media.subtitles import Cue
from dubkit.segmentation import segments_from_turns
from dubkit.stages import analysis, direct, quality, render, script, speech, text, voice
from dubkit.stages.context import JobContext
from dubkit.types import Audio, SpeechRegion, Turn
from dubkit.watermark import Payload


@dataclass
class DubState:
    """What one run of a job knows so far, handed from step to step."""

    input: Path
    output: Path
    route: str  # cascade | direct | text-then-tts
    target: str
    source: str | None  # None until given or detected
    voice_mode: str  # keep | stock
    background: str  # keep | duck | drop
    keep_original: bool
    num_speakers: int | None
    consent: Consent | None
    watermarker: object
    payload: Payload
    audio: Audio  # the 16 kHz mono analysis track
    previous: Project | None  # the last run's record, for the user's edits
    hashes: set[tuple[str, str]]  # (name, sha256) of files this job wrote before
    force: bool = False
    lines: frozenset[str] | None = None  # a render's lines to redo; None: every line
    regions: list[SpeechRegion] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    separated: render.Separated | None = None
    speech_only: bool = False  # background "keep" found nothing besides speech to keep
    voice_plan: speech.VoicePlan = field(default_factory=speech.VoicePlan)
    speak: speech.SpeechSource | None = None
    stream: int | None = None  # the absolute index of the dubbed audio stream
    source_cues: tuple[Cue, ...] | None = None  # --source-subtitles: what is said
    target_cues: tuple[Cue, ...] | None = None  # --target-subtitles: what the dub says
    _soundtrack: Audio | None = None

    def soundtrack(self) -> Audio:
        """The input's dubbed audio track at its own rate and channels, decoded once."""
        if self._soundtrack is None:
            self._soundtrack = media.decode_audio(self.input, stream_index=self.stream)
        return self._soundtrack

    @property
    def source_speech(self) -> Audio:
        """The 16 kHz source speech lines are timed and voiced from (without the music when
        the background was separated)."""
        return self.separated.speech_16k if self.separated is not None else self.audio


@dataclass(frozen=True)
class JobStep:
    """A named step of a job: ``run`` computes what it owns; ``restore`` takes it from
    project.json and the cache when a render starts after it (default: run again, which the
    cache makes free)."""

    name: str
    run: Callable[[JobContext, DubState], None]
    restore: Callable[[JobContext, DubState], None] | None = None

    def resume(self, job: JobContext, state: DubState) -> None:
        (self.restore or self.run)(job, state)


def find_speech(job: JobContext, state: DubState) -> None:
    state.regions = analysis.find_speech(job, state.audio)
    if not state.regions:
        project = job.project
        project.status = "no-speech"
        project.message = "no speech was found, so there is nothing to dub"
        job.checkpoint()
        raise NoSpeech(f"no speech found in {state.input.name}: nothing to dub")
    job.checkpoint()


def find_speakers(job: JobContext, state: DubState) -> None:
    """Turns, the lines cut from them (with the user's speaker and time edits kept) and each
    speaker's stock voice."""
    project = job.project
    state.turns = analysis.diarize(job, state.audio, state.regions, state.num_speakers)
    segments = segments_from_turns(state.turns, state.regions,
                                   job.preset.segmentation.max_segment)
    project.speakers = analysis.describe_speakers(job, state.audio, state.turns, state.target)
    _check_consent_covers(state.consent, len(project.speakers), state.voice_mode)
    project.segments = line_edits(state.previous, segments, {s.id for s in project.speakers})
    job.checkpoint()


def restore_speakers(job: JobContext, state: DubState) -> None:
    state.turns = analysis.diarize(job, state.audio, state.regions, state.num_speakers)


def _check_consent_covers(consent: Consent | None, speakers: int, voice_mode: str) -> None:
    """``--consent-self`` speaks for one person: it cannot cover several speakers' voices."""
    if voice_mode == "keep" and consent is not None and consent.kind == "self" and speakers > 1:
        raise InputError(f"--consent-self declares you are the only speaker, but {speakers} "
                         "speakers were found: give --consent FILE or --i-have-consent, or "
                         "--voice stock")


def identify_language(job: JobContext, state: DubState) -> None:
    project = job.project
    if state.source is None:
        source, probability = analysis.detect_language(job, state.audio, state.regions)
        if source == state.target:
            raise InputError(
                f"{state.input.name} is already in {language_name(source)} ({source}, detected); "
                f"to re-voice it without translating, give --from {source} explicitly")
        project.source_language_detected = True
        project.language_probability = probability
        check_ours([JobPaths.for_output(state.output, source).source_subtitles], state.hashes,
                   state.force)
        state.source = source
    project.source_language = state.source
    job.paths = JobPaths.for_output(state.output, state.source)


def restore_language(job: JobContext, state: DubState) -> None:
    state.source = job.project.source_language
    job.paths = JobPaths.for_output(state.output, state.source)


def separate_background(job: JobContext, state: DubState) -> None:
    """The background under the speech, separated only when there is something to keep: a
    recording of speech alone is kept between the lines and silent under them. Separating one
    gives back no background, only some of its own speech (11-29 dB below it on the clean
    recordings of ../shared/data), at about 30 s a minute."""
    if state.background != "keep":
        return
    with job.timed("separate"):
        level = measure_background(state.audio, state.regions)
    if level.something_to_keep:
        state.separated = render.separate(job, state.soundtrack(), state.regions)
        return
    state.speech_only = True
    notes = job.project.options.setdefault("notes", [])
    note = (f"no music or effects found ({level.describe()}): the background was not separated; "
            "the original plays between the lines and is silent under them")
    if note not in notes:
        notes.append(note)


def source_speech_id(job: JobContext, state: DubState) -> str:
    """How ``state.source_speech`` was made, for the keys of what is measured on it."""
    if state.separated is not None:
        return "separated-" + job.backends.fingerprint("separation")
    return "original"


def plan_voices(job: JobContext, state: DubState) -> None:
    """Profiles and prosody from the source speech: the separated speech when the background
    was separated (no music in the statistics), else the track itself."""
    if state.voice_mode != "keep":
        return
    source_id = source_speech_id(job, state)
    profiles = voice.speaker_profiles(job, state.source_speech, source_id, state.turns)
    prosody = voice.segment_prosody(job, state.source_speech, source_id, job.project.segments)
    state.voice_plan = speech.VoicePlan(True, profiles, prosody)


def keep_lines(job: JobContext, state: DubState) -> None:
    """What the step made for each line is in project.json already (a render after it)."""


def transcribe(job: JobContext, state: DubState) -> None:
    if state.source_cues is not None:
        job.project.segments = script.with_source_texts(job.project.segments, state.source_cues,
                                                        state.source)
    else:
        job.project.segments = text.transcribe(job, state.audio, job.project.segments,
                                               state.source, state.lines)
    job.checkpoint()
    job.done_with("vad", "diarization", "separation")  # the transcriber listens to the dub


def translate_text(job: JobContext, state: DubState) -> None:
    if state.target_cues is not None:
        job.project.segments = script.with_target_texts(job.project.segments,
                                                        state.target_cues, state.target)
    else:
        job.project.segments = text.translate(job, state.audio, job.project.segments,
                                              state.source, state.target, state.previous,
                                              state.lines)
    job.checkpoint()


def translate_speech(job: JobContext, state: DubState) -> None:
    """The direct speech translator's text (and, in ``direct`` mode, its speech)."""
    job.project.segments = direct.translate(job, state.audio, job.project.segments,
                                            state.source, state.target, state.previous,
                                            speech=state.route == "direct", lines=state.lines)
    job.checkpoint()


def keep_translation(job: JobContext, state: DubState) -> None:
    """The texts in project.json as they are (a render after ``translate``): a line whose text
    differs from the machine's is the user's, and stays theirs in later runs."""
    job.project.segments = [
        s.replace(flags=tuple(dict.fromkeys(s.flags + ("edited",))))
        if s.machine_text is not None and s.target_text != s.machine_text else s
        for s in job.project.segments]


def synthesize(job: JobContext, state: DubState) -> None:
    if state.route == "direct":
        speak = direct.direct_source(job, state.audio, job.project.segments, state.source,
                                     state.target)
    else:
        speak = speech.synthesizer_source(job, state.target)
    job.project.segments = speech.speak_lines(
        job, job.project.segments, state.source, state.target, speak, state.voice_plan,
        state.source_speech, can_shorten=state.route != "direct", only=state.lines)
    job.checkpoint()
    job.done_with("translation", "speech_translation", "synthesis", "voice")


def write_outputs(job: JobContext, state: DubState) -> None:
    """Mix, mux, subtitles and provenance, made in the job folder with their hashes recorded as
    pending, then moved in place: a job killed at any point still knows every file beside the
    output as its own."""
    project, paths = job.project, job.paths
    segments = project.segments
    staging = StagedOutputs(paths, state.source)
    render.mix_and_mux(job, state, staging.paths.output, segments)
    render.write_subtitles(job, staging.paths, segments)
    project.models = job.backends.model_records()
    provenance.write_manifest(project, staging.paths, job.preset, staging.hashes())
    project.outputs = {**project.outputs, "pending": staging.hashes()}
    job.checkpoint()
    written = staging.place()
    project.outputs = {**project.outputs, "files": written,
                       "media": str(paths.output), "media_sha256": written[paths.output.name]}


def report_quality(job: JobContext, state: DubState) -> None:
    project, paths = job.project, job.paths
    project.options["qa"] = quality.report(job, state.source_speech,
                                           source_speech_id(job, state), project.segments,
                                           state.voice_plan, state.target)
    project.outputs = {
        "media": str(paths.output),
        "media_sha256": project.outputs["media_sha256"],
        "subtitles": {state.target: str(paths.subtitles),
                      f"{state.target}-vtt": str(paths.subtitles_vtt),
                      state.source: str(paths.source_subtitles)},
        "qa": str(paths.job_dir / quality.QA_FILE),
        "provenance": str(provenance.manifest_path(paths.output)),
        "files": project.outputs["files"],
    }
    project.status = "complete"
    job.checkpoint()
    job.done_with("transcription")
