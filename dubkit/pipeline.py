"""The stage graph of a dubbing job: decode, vad, diarize, language, transcribe, translate,
synthesize, fit, mix, mux, subtitles.

Each model stage works segment by segment and stores every result in the job's content-addressed
cache as soon as it exists, and project.json is rewritten after each stage; so a job killed in
the middle resumes where it stopped, and a finished job re-run does no model work.
"""
from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubkit import media
from dubkit.analysis.pitch import estimate_gender
from dubkit.backends import StageBackends
from dubkit.config import Preset
from dubkit.errors import NoSpeech, OutputExists, ProjectError
from dubkit.hashing import sha256_file
from dubkit.jobs.cache import StageCache, content_key
from dubkit.jobs.paths import JobPaths
from dubkit.jobs.project import Project, load_project
from dubkit.languages import check_language, is_language
from dubkit.progress import ProgressHook, StageProgress, ignore_progress
from dubkit.segmentation import segments_from_turns
from dubkit.synth.base import VoiceRequest
from dubkit.synth.fit import TempoFitter
from dubkit.synth.mix import mix_dub
from dubkit.translate.base import TranslationRequest
from dubkit.types import ANALYSIS_RATE, Audio, Placement, Segment, Speaker, SpeechRegion, Turn

SILENCE_DBFS = -80.0  # below this peak level the input counts as silent
LANGUAGE_PROBE_SECONDS = 30.0  # speech used to detect the source language


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


def _concat(audio: Audio, spans: list[tuple[float, float]], limit: float) -> Audio:
    """The samples of ``spans`` joined, at most ``limit`` seconds."""
    parts, total = [], 0.0
    for start, end in spans:
        take = min(end - start, limit - total)
        if take <= 0:
            break
        parts.append(audio.slice(start, start + take).samples)
        total += take
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return Audio(samples, audio.rate)


class DubbingPipeline:
    """Runs ``DubRequest``s with the backends of one preset."""

    def __init__(self, preset: Preset, progress: ProgressHook = ignore_progress) -> None:
        self.preset = preset
        self.backends = StageBackends(preset)
        self.progress = progress

    # -- helpers -------------------------------------------------------------------------

    @contextmanager
    def _timed(self, project: Project, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            project.timings[stage] = round(
                project.timings.get(stage, 0.0) + time.perf_counter() - start, 4
            )

    def _checkpoint(self, project: Project, paths: JobPaths, cache: StageCache) -> None:
        project.work = {
            stage: {"computed": cache.computed.get(stage, 0), "reused": cache.reused.get(stage, 0)}
            for stage in sorted(set(cache.computed) | set(cache.reused))
        }
        project.save(paths.job_dir)

    def target_languages(self) -> frozenset[str]:
        langs = self.backends.get("synthesis").languages
        if self.backends.has("translation"):
            langs = langs & (self.backends.get("translation").languages | {"en"})
        return frozenset(langs)

    # -- the job -------------------------------------------------------------------------

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
        analysis = media.decode_audio(request.input, rate=ANALYSIS_RATE, mono=True)
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
        self._checkpoint(project, paths, cache)

        regions = self._vad(project, analysis, input_sha, cache)
        if not regions:
            project.status = "no-speech"
            project.message = "no speech was found, so there is nothing to dub"
            self._checkpoint(project, paths, cache)
            raise NoSpeech(f"no speech found in {request.input.name}: nothing to dub")
        self._checkpoint(project, paths, cache)

        turns = self._diarize(project, analysis, regions, input_sha, request.num_speakers, cache)
        segments = segments_from_turns(turns, regions, self.preset.segmentation.max_segment)
        project.speakers = self._speakers(analysis, turns, target)
        self._checkpoint(project, paths, cache)

        if source is None:
            source, probability = self._detect_language(project, analysis, regions, input_sha,
                                                        cache)
            project.source_language_detected = True
            project.language_probability = probability
        project.source_language = source
        paths = JobPaths.for_output(request.output, source)

        segments = self._transcribe(project, analysis, segments, source, input_sha, cache)
        project.segments = segments
        self._checkpoint(project, paths, cache)
        segments = self._translate(project, analysis, segments, source, target, previous,
                                   input_sha, cache)
        project.segments = segments
        self._checkpoint(project, paths, cache)
        segments = self._synthesize_and_fit(project, segments, target, paths, cache)
        project.segments = segments
        self._checkpoint(project, paths, cache)

        with self._timed(project, "mix"):
            original = media.decode_audio(request.input)
            placed = [
                (s.placement.start, self._segment_audio(paths, s))
                for s in segments if s.placement is not None and s.audio_file
            ]
            mixed = mix_dub(original, placed, duck_db=self.preset.mix.duck_db,
                            ramp=self.preset.mix.ramp)
        with self._timed(project, "mux"):
            media.mux_dub(request.input, mixed, request.output, dub_language=target,
                          source_language=source, keep_original=request.keep_original)
        with self._timed(project, "subtitles"):
            self._write_subtitles(paths, segments)
        project.outputs = {
            "media": str(paths.output),
            "media_sha256": sha256_file(paths.output),
            "subtitles": {target: str(paths.subtitles), f"{target}-vtt": str(paths.subtitles_vtt),
                          source: str(paths.source_subtitles)},
        }
        project.status = "complete"
        self._checkpoint(project, paths, cache)
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

    # -- analysis ------------------------------------------------------------------------

    def _vad(self, project: Project, audio: Audio, input_sha: str,
             cache: StageCache) -> list[SpeechRegion]:
        with self._timed(project, "vad"):
            peak = float(np.max(np.abs(audio.samples))) if audio.num_samples else 0.0
            if peak <= 10 ** (SILENCE_DBFS / 20):
                return []
            key = content_key("vad", input_sha, self.backends.fingerprint("vad"))
            cached = cache.get_json("vad", key)
            if cached is not None:
                return [SpeechRegion(*r) for r in cached]
            with StageProgress(self.progress, "vad", None):
                regions = self.backends.get("vad").detect(audio)
            cache.put_json("vad", key, [[r.start, r.end] for r in regions])
            return regions

    def _diarize(self, project: Project, audio: Audio, regions: list[SpeechRegion],
                 input_sha: str, num_speakers: int | None, cache: StageCache) -> list[Turn]:
        with self._timed(project, "diarize"):
            key = content_key("diarize", input_sha, [[r.start, r.end] for r in regions],
                              num_speakers, self.backends.fingerprint("diarization"))
            cached = cache.get_json("diarize", key)
            if cached is not None:
                return [Turn(*t) for t in cached]
            with StageProgress(self.progress, "diarize", None):
                turns = self.backends.get("diarization").diarize(audio, regions, num_speakers)
            cache.put_json("diarize", key, [[t.start, t.end, t.speaker] for t in turns])
            return turns

    def _speakers(self, audio: Audio, turns: list[Turn], target: str) -> list[Speaker]:
        """Each speaker's speech time, pitch-estimated gender and synthesis voice."""
        synth = None
        speakers = []
        for speaker_id in dict.fromkeys(t.speaker for t in turns):
            spans = [(t.start, t.end) for t in turns if t.speaker == speaker_id]
            gender = estimate_gender(_concat(audio, spans, 30.0))
            synth = synth or self.backends.get("synthesis")
            voice = synth.voice_for(VoiceRequest(speaker_id, target, gender))
            total = round(sum(e - s for s, e in spans), 3)
            speakers.append(Speaker(speaker_id, total, voice, gender))
        return speakers

    # -- language --------------------------------------------------------------------------

    def _detect_language(self, project: Project, audio: Audio, regions: list[SpeechRegion],
                         input_sha: str, cache: StageCache) -> tuple[str, float]:
        with self._timed(project, "language"):
            key = content_key("language", input_sha, self.backends.fingerprint("transcription"))
            cached = cache.get_json("language", key)
            if cached is not None:
                return cached[0], cached[1]
            speech = _concat(audio, [(r.start, r.end) for r in regions], LANGUAGE_PROBE_SECONDS)
            with StageProgress(self.progress, "language", None):
                language, probability = self.backends.get("transcription").detect_language(speech)
            cache.put_json("language", key, [language, float(probability)])
            return language, float(probability)

    def _transcribe(self, project: Project, audio: Audio, segments: list[Segment], source: str,
                    input_sha: str, cache: StageCache) -> list[Segment]:
        fingerprint = self.backends.fingerprint("transcription")
        out = []
        with self._timed(project, "transcribe"), \
                StageProgress(self.progress, "transcribe", len(segments)) as bar:
            for seg in segments:
                key = content_key("transcribe", input_sha, seg.start, seg.end, source, fingerprint)
                text = cache.get_json("transcribe", key)
                if text is None:
                    clip = audio.slice(seg.start, seg.end)
                    text = self.backends.get("transcription").transcribe(clip, source).text
                    cache.put_json("transcribe", key, text)
                out.append(seg.replace(source_text=text))
                bar.advance(seg.id)
        return out

    def _translate(self, project: Project, audio: Audio, segments: list[Segment], source: str,
                   target: str, previous: Project | None, input_sha: str,
                   cache: StageCache) -> list[Segment]:
        """Machine translation per segment, with its neighbours as context; a target text the
        user edited in project.json wins over the machine's, as long as the source line is the
        same.

        Into English, a transcriber that can translate speech (Whisper) does it directly from the
        audio when the preset says so: one model pass instead of two, and no text in between
        to lose meaning."""
        edited = {}
        if previous is not None and previous.target_language == target:
            edited = {s.id: s for s in previous.segments}
        transcriber = self.backends.get("transcription")
        via_asr = (self.preset.pipeline.english_via_asr and target == "en" and source != "en"
                   and getattr(transcriber, "can_translate", False))
        route = "same" if source == target else "asr" if via_asr else "text"
        stage = {"same": "translation", "asr": "transcription", "text": "translation"}[route]
        fingerprint = self.backends.fingerprint(stage) if route != "same" else "same"
        out = []
        with self._timed(project, "translate"), \
                StageProgress(self.progress, "translate", len(segments)) as bar:
            for i, seg in enumerate(segments):
                request = TranslationRequest(
                    seg.source_text,
                    previous=segments[i - 1].source_text if i else "",
                    next=segments[i + 1].source_text if i + 1 < len(segments) else "",
                )
                key = content_key("translate", route, request.text, request.previous,
                                  request.next, source, target, fingerprint,
                                  [input_sha, seg.start, seg.end] if route == "asr" else None)
                cached = cache.get_json("translate", key)
                if cached is None:
                    cached = self._machine_translation(route, request, audio, seg, source, target)
                    cache.put_json("translate", key, cached)
                machine, machine_flags = cached["text"], tuple(cached["flags"])
                keep = tuple(f for f in seg.flags
                             if f != "edited" and not f.startswith("translation-"))
                text, flags = machine, keep + machine_flags
                old = edited.get(seg.id)
                if old is not None and old.source_text == seg.source_text \
                        and old.target_text != machine:
                    text, flags = old.target_text, keep + ("edited",)
                out.append(seg.replace(target_text=text, flags=flags))
                bar.advance(seg.id)
        return out

    def _machine_translation(self, route: str, request: TranslationRequest, audio: Audio,
                             seg: Segment, source: str, target: str) -> dict:
        """``{"text": ..., "flags": [...]}`` for one line by the chosen route."""
        if route == "same" or not request.text.strip():
            return {"text": request.text, "flags": []}
        if route == "asr":
            clip = audio.slice(seg.start, seg.end)
            text = self.backends.get("transcription").transcribe(clip, source, "translate").text
            return {"text": text, "flags": []}
        translator = self.backends.get("translation")
        if hasattr(translator, "translate_with_flags"):
            text, flags = translator.translate_with_flags([request], source, target)[0]
            return {"text": text, "flags": list(flags)}
        return {"text": translator.translate([request], source, target)[0], "flags": []}

    # -- synthesis -----------------------------------------------------------------------

    def _synthesize_and_fit(self, project: Project, segments: list[Segment], target: str,
                            paths: JobPaths, cache: StageCache) -> list[Segment]:
        """Speak each target line with its speaker's voice, then fit it to its slot: it starts
        where the source line starts and is sped up (pitch kept) up to ``fit.max_tempo``."""
        voices = {s.id: s.voice for s in project.speakers}
        fingerprint = self.backends.fingerprint("synthesis")
        fitter = TempoFitter(max_tempo=self.preset.fit.max_tempo)
        paths.segments_dir.mkdir(parents=True, exist_ok=True)
        out = []
        with StageProgress(self.progress, "synthesize", len(segments)) as bar:
            for seg in segments:
                text = seg.target_text.strip()
                if not text:
                    out.append(seg.replace(audio_file=None, placement=None,
                                           flags=tuple(dict.fromkeys(seg.flags + ("empty-text",)))))
                    bar.advance(seg.id)
                    continue
                voice = voices.get(seg.speaker) or ""
                synth_key = content_key("synthesize", text, target, voice, fingerprint)
                with self._timed(project, "synthesize"):
                    speech = cache.get_audio("synthesize", synth_key)
                    if speech is None:
                        speech = self.backends.get("synthesis").synthesize(text, target, voice)
                        cache.put_audio("synthesize", synth_key, speech)
                with self._timed(project, "fit"):
                    fit_key = content_key("fit", synth_key, seg.duration, fitter.max_tempo)
                    fitted = cache.get_json("fit", fit_key)
                    if fitted is None or not cache.audio_path("fit", fit_key).is_file():
                        result = fitter.fit(speech, seg.duration)
                        cache.put_audio("fit", fit_key, result.audio, count=False)
                        fitted = [result.tempo, result.overflow, result.audio.duration]
                        cache.put_json("fit", fit_key, fitted)
                    tempo, overflow, length = fitted
                    audio_file = paths.segments_dir / f"{seg.id}.wav"
                    shutil.copyfile(cache.audio_path("fit", fit_key), audio_file)
                placement = Placement(seg.start, round(seg.start + length, 3),
                                      round(tempo, 4), round(overflow, 3))
                flags = tuple(f for f in seg.flags if f not in ("empty-text", "overflow"))
                if placement.overflow > 0:
                    flags = tuple(dict.fromkeys(flags + ("overflow",)))
                out.append(seg.replace(
                    audio_file=str(audio_file.relative_to(paths.job_dir)),
                    placement=placement, flags=flags,
                ))
                bar.advance(seg.id)
        return out

    @staticmethod
    def _segment_audio(paths: JobPaths, seg: Segment) -> Audio:
        import soundfile as sf

        samples, rate = sf.read(paths.job_dir / seg.audio_file, dtype="float32")
        return Audio(samples, rate)

    # -- subtitles -----------------------------------------------------------------------

    @staticmethod
    def _write_subtitles(paths: JobPaths, segments: list[Segment]) -> None:
        """Target subtitles follow where the dub is heard; source ones, the original speech."""
        target_cues = [
            media.Cue(s.placement.start if s.placement else s.start,
                      max(s.placement.end if s.placement else s.end, s.end), s.target_text)
            for s in segments
        ]
        source_cues = [media.Cue(s.start, s.end, s.source_text) for s in segments]
        media.write_subtitles(target_cues, paths.subtitles)
        media.write_subtitles(target_cues, paths.subtitles_vtt)
        media.write_subtitles(source_cues, paths.source_subtitles)
