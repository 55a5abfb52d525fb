"""What is said and what the dub should say: transcription and translation, line by line."""
from __future__ import annotations

from dubkit.jobs.cache import content_key
from dubkit.jobs.project import Project
from dubkit.progress import StageProgress
from dubkit.stages.context import JobContext
from dubkit.translate.base import TranslationRequest
from dubkit.types import Audio, Segment


def transcribe(job: JobContext, audio: Audio, segments: list[Segment],
               source: str) -> list[Segment]:
    fingerprint = job.backends.fingerprint("transcription")
    out = []
    with job.timed("transcribe"), \
            StageProgress(job.progress, "transcribe", len(segments)) as bar:
        for seg in segments:
            key = content_key("transcribe", job.input_sha, seg.start, seg.end, source, fingerprint)
            text = job.cache.get_json("transcribe", key)
            if text is None:
                clip = audio.slice(seg.start, seg.end)
                text = job.backends.get("transcription").transcribe(clip, source).text
                job.cache.put_json("transcribe", key, text)
            out.append(seg.replace(source_text=text))
            bar.advance(seg.id)
    return out


def translation_route(job: JobContext, source: str, target: str) -> str:
    """``same`` (nothing to translate), ``asr`` (the transcriber translates the speech into
    English itself) or ``text`` (the text translator)."""
    if source == target:
        return "same"
    transcriber = job.backends.get("transcription")
    via_asr = (job.preset.pipeline.english_via_asr and target == "en"
               and getattr(transcriber, "can_translate", False))
    return "asr" if via_asr else "text"


def translate(job: JobContext, audio: Audio, segments: list[Segment], source: str, target: str,
              previous: Project | None) -> list[Segment]:
    """Machine translation per segment, with its neighbours as context; a target text the
    user edited in project.json wins over the machine's, as long as the source line is the
    same.

    Into English, a transcriber that can translate speech (Whisper) does it directly from the
    audio when the preset says so: one model pass instead of two, and no text in between
    to lose meaning."""
    edited = {}
    if previous is not None and previous.target_language == target:
        edited = {s.id: s for s in previous.segments}
    route = translation_route(job, source, target)
    stage = {"same": None, "asr": "transcription", "text": "translation"}[route]
    fingerprint = job.backends.fingerprint(stage) if stage else "same"
    out = []
    with job.timed("translate"), \
            StageProgress(job.progress, "translate", len(segments)) as bar:
        for i, seg in enumerate(segments):
            request = TranslationRequest(
                seg.source_text,
                previous=segments[i - 1].source_text if i else "",
                next=segments[i + 1].source_text if i + 1 < len(segments) else "",
            )
            key = content_key("translate", route, request.text, request.previous,
                              request.next, source, target, fingerprint,
                              [job.input_sha, seg.start, seg.end] if route == "asr" else None)
            cached = job.cache.get_json("translate", key)
            if cached is None:
                cached = machine_translation(job, route, request, audio, seg, source, target)
                job.cache.put_json("translate", key, cached)
            machine, machine_flags = cached["text"], tuple(cached["flags"])
            keep = tuple(f for f in seg.flags
                         if f != "edited" and not f.startswith("translation-"))
            text, flags = machine, keep + machine_flags
            old = edited.get(seg.id)
            if old is not None and old.source_text == seg.source_text \
                    and old.target_text != machine \
                    and old.target_text not in _shortenings(job, machine, target):
                text, flags = old.target_text, keep + ("edited",)
            out.append(seg.replace(target_text=text, flags=flags))
            bar.advance(seg.id)
    return out


def machine_translation(job: JobContext, route: str, request: TranslationRequest, audio: Audio,
                        seg: Segment, source: str, target: str) -> dict:
    """``{"text": ..., "flags": [...]}`` for one line by the chosen route."""
    if route == "same" or not request.text.strip():
        return {"text": request.text, "flags": []}
    if route == "asr":
        clip = audio.slice(seg.start, seg.end)
        text = job.backends.get("transcription").transcribe(clip, source, "translate").text
        return {"text": text, "flags": []}
    translator = job.backends.get("translation")
    if hasattr(translator, "translate_with_flags"):
        text, flags = translator.translate_with_flags([request], source, target)[0]
        return {"text": text, "flags": list(flags)}
    return {"text": translator.translate([request], source, target)[0], "flags": []}


def can_shorten(job: JobContext, source: str, target: str) -> bool:
    """Whether the text translator can be asked for a shorter rendering of a line."""
    if source == target or not job.backends.has("translation"):
        return False
    languages = job.backends.get("translation").languages
    return source in languages and target in languages


def shorten(job: JobContext, seg: Segment, segments: list[Segment], source: str, target: str,
            max_chars: int) -> tuple[str, tuple[str, ...]]:
    """A rendering of ``seg``'s source line in at most ``max_chars`` characters (the translator
    tries; it may still run over), and its flags. Remembered as a machine text of the line, so
    that project.json holding it is not taken for a user's edit."""
    i = next(i for i, s in enumerate(segments) if s.id == seg.id)
    request = TranslationRequest(
        seg.source_text,
        previous=segments[i - 1].source_text if i else "",
        next=segments[i + 1].source_text if i + 1 < len(segments) else "",
        max_chars=max_chars,
    )
    fingerprint = job.backends.fingerprint("translation")
    key = content_key("shorten", request.text, request.previous, request.next, max_chars,
                      source, target, fingerprint)
    cached = job.cache.get_json("shorten", key)
    if cached is None:
        cached = machine_translation(job, "text", request, Audio.silence(0, 16000), seg, source,
                                     target)
        job.cache.put_json("shorten", key, cached)
    known = _shortenings(job, seg.target_text, target)
    if cached["text"] not in known:
        job.cache.put_json("shortenings", content_key("shortenings", seg.target_text, target),
                           sorted(known | {cached["text"]}))
    return cached["text"], tuple(cached["flags"])


def _shortenings(job: JobContext, machine: str, target: str) -> set[str]:
    """The shorter renderings made so far of the machine translation ``machine``."""
    found = job.cache.get_json("shortenings", content_key("shortenings", machine, target))
    return set(found or ())
