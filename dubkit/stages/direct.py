"""Direct speech-to-speech translation (SeamlessM4T v2 and the like): each line's source speech
in, its target text (and, in ``direct`` mode, its target speech) out, in length-sorted batches.

Results are cached per line. A line whose target text the user edited in project.json is spoken
by the preset's synthesizer instead, since the direct model cannot speak a given text.
"""
from __future__ import annotations

from dubkit.jobs.project import Project, user_edit
from dubkit.progress import StageProgress
from dubkit.registry import model_names
from dubkit.stages.context import JobContext
from dubkit.stages.speech import SpeechSource, Spoken, synthesizer_source
from dubkit.steps.direct import SpeechToTranslate, TranslateSpeech
from dubkit.steps.text import Utterance
from dubkit.types import Audio, Segment


def translate(job: JobContext, audio: Audio, segments: list[Segment], source: str, target: str,
              previous: Project | None, speech: bool,
              lines: frozenset[str] | None = None) -> list[Segment]:
    """Target text for every line from the speech translator (its speech cached for
    ``direct_source`` when ``speech``); a line edited in project.json keeps the user's text.
    A stored result whose speech is damaged is translated again, not replaced by a voice.
    ``lines`` (a render): only these lines are translated again, and their edits give way."""
    todo = [s for s in segments if lines is None or s.id in lines]
    items = [_item(job, audio, s, source, target, speech) for s in todo]
    with job.timed("translate"), StageProgress(job.progress, "translate", len(todo)) as bar:
        results = job.runner.run_many(TranslateSpeech(job.backends), items)
        for seg in todo:
            bar.advance(seg.id)
    texts = {seg.id: r.text for seg, r in zip(todo, results)}
    edited = {}
    if previous is not None and previous.target_language == target:
        edited = {s.id: s for s in previous.segments if lines is None or s.id not in lines}
    out = []
    for seg in segments:
        if seg.id not in texts:
            out.append(seg)
            continue
        machine = texts[seg.id]
        keep = tuple(f for f in seg.flags if f != "edited")
        edit = user_edit(edited.get(seg.id), seg, machine)
        if edit is not None:
            out.append(seg.replace(target_text=edit, machine_text=machine,
                                   flags=keep + ("edited",)))
        else:
            out.append(seg.replace(target_text=machine, machine_text=machine, flags=keep))
    return out


def direct_source(job: JobContext, audio: Audio, segments: list[Segment], source: str,
                  target: str) -> SpeechSource:
    """The translator's own speech for each line; the synthesizer for edited text."""
    synthesize = synthesizer_source(job, target)
    step = TranslateSpeech(job.backends)
    by_id = {s.id: s for s in segments}

    models = tuple(model_names(job.preset.stages["speech_translation"]))

    def speak(seg: Segment, text: str) -> Spoken:
        item = _item(job, audio, by_id.get(seg.id, seg), source, target, True)
        result, key = job.runner.run_keyed(step, item)  # stored by ``translate``
        if result.text.strip() == text and result.speech is not None:
            return Spoken(result.speech, key, models)
        return synthesize(seg, text)

    return speak


def _item(job: JobContext, audio: Audio, seg: Segment, source: str, target: str,
          speech: bool) -> SpeechToTranslate:
    clip = Utterance(job.audio_id, seg.start, seg.end, audio.slice(seg.start, seg.end), source)
    return SpeechToTranslate(clip, target, speech)
