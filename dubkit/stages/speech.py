"""The dub's speech, line by line: spoken (or taken from a direct speech translator), moved to the
source speaker's voice and prosody, and fitted to its slot. (The watermark goes onto all lines
together when they are mixed: see ``render``.)

Timing follows "first the words, then the audio": a line that would need more than
``fit.max_tempo`` is translated again under a character budget (``fit.shorten_attempts`` times)
before its tempo changes; tempo stays within ``fit.min_tempo``..``fit.max_tempo``, and what tempo
cannot do is taken from or given to the line's pauses (``fit.min_pause``, ``fit.max_pause_fill``);
a line may run into the silence after it (at most ``fit.max_borrow`` seconds); a line that still
runs late pushes the next one back (which then has less time) rather than talking over it, unless
the source lines overlapped there.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import soundfile as sf

from dubkit import dsp
from dubkit.analysis.prosody import SegmentProsody
from dubkit.analysis.speaker_profile import SpeakerProfile
from dubkit.jobs.wavfile import write_wav
from dubkit.progress import StageProgress
from dubkit.registry import model_names, voice_models
from dubkit.stages import text as text_stage
from dubkit.stages.context import JobContext
from dubkit.steps.speech import ConvertVoice, FitTiming, Slotting, Speakable, Synthesize, Voicing
from dubkit.synth.fit import TRIM_DB, TRIM_KEEP, TempoFitter
from dubkit.translate import spans
from dubkit.types import Audio, Placement, Seconds, Segment

SHORTEN_MARGIN = 0.95  # aim a little under the budget: the translator's lengths vary
LINE_GAP: Seconds = 0.1  # a line pushed back by the one before it starts this long after it ends
MIN_SQUEEZE = 0.5  # a pushed-back line keeps at least this share of its source's time
SOURCE_TRIM_DB = -35.0  # below the line's loudest frame: the VAD's padding and room noise

@dataclass(frozen=True)
class Spoken:
    """A line's speech, the cache key it is stored under, and the catalog names of the models
    that made it (what provenance.json lists for the line)."""

    audio: Audio
    key: str
    models: tuple[str, ...]


SpeechSource = Callable[[Segment, str], Spoken]  # (segment, text) -> its speech


@dataclass
class VoicePlan:
    """How lines are voiced: moved to their speaker's voice (``keep``) or left in the stock
    voices."""

    keep: bool = False
    profiles: dict[str, SpeakerProfile] = field(default_factory=dict)
    prosody: dict[str, SegmentProsody] = field(default_factory=dict)


def slot_limit(seg: Segment, segments: list[Segment], max_borrow: Seconds) -> Seconds:
    """The latest time ``seg``'s dub may end: into the following silence, up to ``max_borrow``
    seconds and never past the next line's start; exactly its end where the source overlapped."""
    later = [s.start for s in segments if s.id != seg.id and s.start >= seg.start]
    next_start = min(later, default=seg.end + max_borrow)
    if next_start < seg.end:
        return seg.end
    return min(next_start, seg.end + max_borrow)


def spoken_slot(source: Audio, seg: Segment) -> tuple[Seconds, Seconds]:
    """Where the source line's speech starts and how long it lasts, without the VAD's padding
    at its edges: the time its dub should fill."""
    clip = source.slice(seg.start, seg.end)
    a, b = dsp.speech_bounds(clip, SOURCE_TRIM_DB, TRIM_KEEP)
    if b - a < clip.rate * 0.1:  # nothing clear to measure: the whole segment
        return seg.start, seg.duration
    return seg.start + a / clip.rate, (b - a) / clip.rate


def synthesizer_source(job: JobContext, target: str) -> SpeechSource:
    """Lines spoken by the preset's synthesizer in each speaker's stock voice."""
    voices = {s.id: s.voice or "" for s in job.project.speakers}
    step = Synthesize(job.backends)
    config = job.preset.stages["synthesis"]

    def speak(seg: Segment, text: str) -> Spoken:
        voice = voices.get(seg.speaker, "")
        with job.timed("synthesize"):
            audio, key = job.runner.run_keyed(step, Speakable(text, target, voice))
        return Spoken(audio, key, tuple(voice_models(config, voice)))

    return speak


def speak_lines(job: JobContext, segments: list[Segment], source: str, target: str,
                speak: SpeechSource, voice: VoicePlan, source_speech: Audio,
                can_shorten: bool = True, only: frozenset[str] | None = None) -> list[Segment]:
    """Each line's final dub written to ``segments/<id>.wav``, with its placement and flags.
    A dub starts where its source line's speech starts in ``source_speech`` (16 kHz mono), or
    after an earlier line that ran late (``after_earlier_lines``), and is fitted to the time
    until that speech ends. ``only`` (a render): just these lines are spoken again; the others
    keep their dub and placement."""
    fit = job.preset.fit
    fitter = TempoFitter(max_tempo=fit.max_tempo, min_tempo=fit.min_tempo,
                         max_pause_fill=fit.max_pause_fill, min_pause=fit.min_pause)
    shorten_ok = can_shorten and text_stage.can_shorten(job, source, target)
    job.paths.segments_dir.mkdir(parents=True, exist_ok=True)
    out: list[Segment] = []
    with StageProgress(job.progress, "synthesize", len(segments)) as bar:
        for span in spans.sentence_spans(segments):  # in time order
            lines = [segments[i] for i in span]
            alone = len(span) == 1
            sentence_flags: tuple[str, ...] = ()
            whole = only is None or all(s.id in only for s in lines)
            if not alone and whole and shorten_ok and not any("edited" in s.flags for s in lines):
                lines, sentence_flags = _fit_sentence(job, segments, span, source, target, speak,
                                                      voice, source_speech)
            for seg in lines:
                if only is not None and seg.id not in only:
                    out.append(seg)
                    bar.advance(seg.id)
                    continue
                slot = after_earlier_lines(spoken_slot(source_speech, seg), seg, out)
                out.append(_line(job, seg, segments, source, target, speak, voice, fitter,
                                 shorten_ok and alone and "edited" not in seg.flags, slot,
                                 sentence_flags))
                bar.advance(seg.id)
    order = {s.id: i for i, s in enumerate(segments)}
    return sorted(out, key=lambda s: order[s.id])


def _fit_sentence(job: JobContext, segments: list[Segment], span: list[int], source: str,
                  target: str, speak: SpeechSource, voice: VoicePlan,
                  source_speech: Audio) -> tuple[list[Segment], tuple[str, ...]]:
    """The lines of a sentence span, translated again under a character budget while the
    sentence as a whole needs more than ``fit.max_tempo``: its lines share one translation, so
    they are shortened together (each line alone would lose the sentence's grammar). Returns
    the lines with their texts, and the flags that shortening gave."""
    fit = job.preset.fit
    lines = [segments[i] for i in span]
    room = sum(spoken_slot(source_speech, s)[1] for s in lines) * fit.max_tempo
    texts = [s.target_text.strip() for s in lines]
    length = _sentence_length(job, lines, texts, speak, voice)
    flags: tuple[str, ...] = ()
    for _ in range(fit.shorten_attempts):
        chars = sum(len(t) for t in texts)
        if length <= room or not chars:
            break
        budget = max(1, int(chars * room / length * SHORTEN_MARGIN))
        shorter, more_flags = text_stage.shorten(job, segments, span, source, target, budget)
        shorter = [t.strip() for t in shorter]
        if not all(shorter) or sum(len(t) for t in shorter) >= chars:
            break
        shorter_length = _sentence_length(job, lines, shorter, speak, voice)
        if shorter_length >= length:
            break
        texts, length = shorter, shorter_length
        flags = tuple(dict.fromkeys(flags + ("shortened",) + more_flags))
    if not flags:
        return lines, flags
    return [s.replace(target_text=t, machine_text=t) for s, t in zip(lines, texts)], flags


def _sentence_length(job: JobContext, lines: list[Segment], texts: list[str],
                     speak: SpeechSource, voice: VoicePlan) -> Seconds:
    """Seconds of speech the lines of a sentence take with ``texts`` (voiced as they will be,
    so the work is cached for the lines themselves)."""
    return sum(_spoken_length(_voiced(job, seg, text, speak, voice).audio)
               for seg, text in zip(lines, texts) if text)


def after_earlier_lines(slot: tuple[Seconds, Seconds], seg: Segment,
                        placed: list[Segment]) -> tuple[Seconds, Seconds]:
    """``slot`` moved to start after the dubs of earlier lines that ran late, unless their
    source overlapped ``seg``'s (people talking at once may be dubbed at once). It keeps its
    end, so its dub has less time, but never under ``MIN_SQUEEZE`` of it."""
    start, duration = slot
    ends = [p.placement.end for p in placed if p.placement is not None and p.end <= seg.start]
    earliest = max(ends, default=-1.0) + LINE_GAP
    if start >= earliest:
        return slot
    return earliest, max(start + duration - earliest, duration * MIN_SQUEEZE)


def _line(job: JobContext, seg: Segment, segments: list[Segment], source: str, target: str,
          speak: SpeechSource, voice: VoicePlan, fitter: TempoFitter,
          may_shorten: bool, slot: tuple[Seconds, Seconds],
          sentence_flags: tuple[str, ...] = ()) -> Segment:
    """One line spoken, shortened when it may be and must, fitted and placed at ``slot``;
    ``sentence_flags`` are what shortening its whole sentence gave it."""
    flags = tuple(f for f in seg.flags
                  if f not in ("empty-text", "overflow", "shortened", "pauses-fitted"))
    flags = tuple(f for f in flags if f != "translation-too-long") + sentence_flags
    text = seg.target_text.strip()
    if not text:
        return seg.replace(audio_file=None, placement=None,
                           flags=tuple(dict.fromkeys(flags + ("empty-text",))))
    spoken = _voiced(job, seg, text, speak, voice)
    fit = job.preset.fit
    start, duration = slot
    for _ in range(fit.shorten_attempts if may_shorten else 0):
        length = _spoken_length(spoken.audio)
        if length <= duration * fit.max_tempo:
            break
        budget = int(len(text) * duration * fit.max_tempo / length * SHORTEN_MARGIN)
        index = next(i for i, s in enumerate(segments) if s.id == seg.id)
        (shorter,), more_flags = text_stage.shorten(job, segments, [index], source, target,
                                                    max(1, budget))
        if not shorter.strip() or len(shorter) >= len(text):
            break
        candidate = _voiced(job, seg, shorter.strip(), speak, voice)
        if _spoken_length(candidate.audio) >= length:
            break
        text, spoken = shorter.strip(), candidate
        flags = tuple(dict.fromkeys(flags + ("shortened",) + more_flags))

    with job.timed("fit"):
        fitted = job.runner.run(FitTiming(fitter), Slotting(spoken.key, spoken.audio, duration))
        tempo, length = fitted.tempo, fitted.length
        if fitted.pause_change:
            flags = tuple(dict.fromkeys(flags + ("pauses-fitted",)))
        audio_file = job.paths.segments_dir / f"{seg.id}.wav"
        write_wav(audio_file, fitted.audio)

    allowed = slot_limit(seg, segments, job.preset.fit.max_borrow) - start
    overflow = max(0.0, length - allowed)
    placement = Placement(round(start, 3), round(start + length, 3), round(tempo, 4),
                          round(overflow, 3))
    if overflow > 0:
        flags = tuple(dict.fromkeys(flags + ("overflow",)))
    # what the line now says is the machine's own unless the user wrote it
    machine = seg.machine_text if "edited" in flags else text
    return seg.replace(target_text=text, machine_text=machine, flags=flags, placement=placement,
                       audio_file=str(audio_file.relative_to(job.paths.job_dir)),
                       spoken_by=spoken.models)


def _voiced(job: JobContext, seg: Segment, text: str, speak: SpeechSource,
            voice: VoicePlan) -> Spoken:
    """``text`` spoken for ``seg``, converted to its speaker's voice when the plan says so."""
    spoken = speak(seg, text)
    profile = voice.profiles.get(seg.speaker)
    if not voice.keep or profile is None:
        return spoken
    voicing = Voicing(spoken.key, spoken.audio, profile, voice.prosody.get(seg.id))
    with job.timed("convert"):
        audio, key = job.runner.run_keyed(ConvertVoice(job.backends), voicing)
    converter = model_names(job.preset.stages["voice"])
    return Spoken(audio, key, tuple(dict.fromkeys(spoken.models + tuple(converter))))


def _spoken_length(speech: Audio) -> Seconds:
    """Seconds of ``speech`` once its edge silence is trimmed, as the fitter will."""
    return dsp.trim_silence(speech, TRIM_DB, TRIM_KEEP).duration


def segment_audio(job: JobContext, seg: Segment) -> Audio:
    """The final dub of ``seg`` as written in the job folder."""
    samples, rate = sf.read(job.paths.job_dir / seg.audio_file, dtype="float32")
    return Audio(samples, rate)
