"""Direct speech-to-speech translation (SeamlessM4T v2 and the like): each line's source speech
in, its target text (and, in ``direct`` mode, its target speech) out, in length-sorted batches.

Results are cached per line. A line whose target text the user edited in project.json is spoken
by the preset's synthesizer instead, since the direct model cannot speak a given text.
"""
from __future__ import annotations

from dubkit.jobs.cache import content_key
from dubkit.jobs.project import Project, user_edit
from dubkit.progress import StageProgress
from dubkit.stages.context import JobContext
from dubkit.stages.speech import SpeechSource, synthesizer_source
from dubkit.types import Audio, Segment


def translate(job: JobContext, audio: Audio, segments: list[Segment], source: str, target: str,
              previous: Project | None, speech: bool) -> list[Segment]:
    """Target text for every line from the speech translator (its speech cached for
    ``direct_source`` when ``speech``); a line edited in project.json keeps the user's text."""
    translator = job.backends.get("speech_translation")
    fingerprint = job.backends.fingerprint("speech_translation")
    keys = {s.id: _key(job, s, source, target, speech, fingerprint) for s in segments}
    texts = {}
    for seg in segments:
        record = job.cache.get_json("direct", keys[seg.id])
        # the speech is checked too: a damaged one is translated again, not replaced by a voice
        if record is not None and (
                not speech or record.get("speech") is False
                or job.cache.get_audio("direct", keys[seg.id], count=False) is not None):
            texts[seg.id] = record["text"]
    todo = [s for s in segments if s.id not in texts]
    with job.timed("translate"), StageProgress(job.progress, "translate", len(segments)) as bar:
        for seg in segments:
            if seg.id in texts:
                bar.advance(seg.id)
        if todo:
            clips = [audio.slice(s.start, s.end) for s in todo]
            run = translator.translate if speech else translator.translate_text_only
            for seg, result in zip(todo, run(clips, source, target), strict=True):
                spoken = speech and result.speech is not None
                if spoken:
                    job.cache.put_audio("direct", keys[seg.id], result.speech, count=False)
                job.cache.put_json("direct", keys[seg.id],
                                   {"text": result.target_text, "speech": spoken})
                texts[seg.id] = result.target_text
                bar.advance(seg.id)
    edited = {}
    if previous is not None and previous.target_language == target:
        edited = {s.id: s for s in previous.segments}
    out = []
    for seg in segments:
        machine = texts[seg.id]
        keep = tuple(f for f in seg.flags if f != "edited")
        edit = user_edit(edited.get(seg.id), seg, machine)
        if edit is not None:
            out.append(seg.replace(target_text=edit, machine_text=machine,
                                   flags=keep + ("edited",)))
        else:
            out.append(seg.replace(target_text=machine, machine_text=machine, flags=keep))
    return out


def direct_source(job: JobContext, segments: list[Segment], source: str,
                  target: str) -> SpeechSource:
    """The translator's own speech for each line; the synthesizer for edited text."""
    fingerprint = job.backends.fingerprint("speech_translation")
    synthesize = synthesizer_source(job, target)
    by_id = {s.id: s for s in segments}

    def speak(seg: Segment, text: str) -> tuple[Audio, str]:
        key = _key(job, by_id.get(seg.id, seg), source, target, True, fingerprint)
        record = job.cache.get_json("direct", key)
        if record is not None and record["text"].strip() == text:
            speech = job.cache.get_audio("direct", key, count=False)
            if speech is not None:
                return speech, key
        return synthesize(seg, text)

    return speak


def _key(job: JobContext, seg: Segment, source: str, target: str, speech: bool,
         fingerprint: str) -> str:
    return content_key("direct", job.audio_id, seg.start, seg.end, source, target, speech,
                       fingerprint)
