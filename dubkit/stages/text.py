"""What is said and what the dub should say: transcription and translation, line by line."""
from __future__ import annotations

from dubkit.jobs.project import Project, user_edit
from dubkit.progress import StageProgress
from dubkit.stages.context import JobContext
from dubkit.steps.text import Passage, Sentence, Transcribe, TranscribePassage, Translate, Utterance
from dubkit.translate import spans
from dubkit.translate.base import TranslationRequest
from dubkit.types import Audio, Segment


def transcribe(job: JobContext, audio: Audio, segments: list[Segment], source: str,
               lines: frozenset[str] | None = None) -> list[Segment]:
    """Every line with its source text (only ``lines`` heard again, when given). Where the
    transcriber times words in ``source``, lines close together (of any speaker, not
    overlapping) are heard in one pass and their words shared back out by time
    (``TranscribePassage``): Whisper reads a 30 s window whatever it is given, so a line heard
    alone pays for a whole window. Otherwise, and for a line on its own, each is heard alone."""
    transcriber = job.backends.get("transcription")
    groups = (spans.passages(segments, any_speaker=True) if source in transcriber.word_times
              else [[i] for i in range(len(segments))])
    todo = [g for g in groups if lines is None or any(segments[i].id in lines for i in g)]
    alone, together = Transcribe(job.backends), TranscribePassage(job.backends)
    out = list(segments)
    with job.timed("transcribe"), \
            StageProgress(job.progress, "transcribe", sum(len(g) for g in todo)) as bar:
        for group in todo:
            first, last = segments[group[0]], segments[group[-1]]
            speech = Utterance(job.audio_id, first.start, last.end,
                               audio.slice(first.start, last.end), source)
            if len(group) == 1:
                texts = [job.runner.run(alone, speech)]
            else:
                passage = Passage(speech, tuple((segments[i].start, segments[i].end)
                                                for i in group))
                texts = job.runner.run(together, passage)
            for i, text in zip(group, texts, strict=True):
                if lines is None or segments[i].id in lines:
                    out[i] = segments[i].replace(source_text=text)
                bar.advance(segments[i].id)
    return out


def translation_route(job: JobContext, source: str, target: str) -> str:
    """``same`` (nothing to translate), ``asr`` (the transcriber translates the speech into
    English itself) or ``text`` (the text translator)."""
    if source == target:
        return "same"
    via_asr = (job.preset.pipeline.english_via_asr and target == "en"
               and job.backends.get("transcription").can_translate)
    return "asr" if via_asr else "text"


def translate(job: JobContext, audio: Audio, segments: list[Segment], source: str, target: str,
              previous: Project | None, lines: frozenset[str] | None = None) -> list[Segment]:
    """Machine translation sentence by sentence, with the neighbouring lines as context: the
    lines of a sentence that pauses cut apart are translated together and the translation is
    shared out among them by their time (``translate.spans``). A target text the user edited
    in project.json wins over the machine's, as long as the source line is the same.

    ``lines`` (a render): only the sentences holding these lines are translated again, and
    these lines take the machine's text (their edits give way); other lines stay as they are.

    Into English, a transcriber that can translate speech (Whisper) does it directly from the
    audio when the preset says so: one model pass instead of two, and no text in between
    to lose meaning."""
    edited = {}
    if previous is not None and previous.target_language == target:
        edited = {s.id: s for s in previous.segments if lines is None or s.id not in lines}
    route = translation_route(job, source, target)
    out = list(segments)
    todo = [span for span in spans.sentence_spans(segments)
            if lines is None or any(segments[i].id in lines for i in span)]
    with job.timed("translate"), \
            StageProgress(job.progress, "translate", sum(len(s) for s in todo)) as bar:
        for span in todo:
            pieces, span_flags = span_translation(job, route, audio, segments, span, source,
                                                  target)
            done = [(i, piece, span_flags) for i, piece in zip(span, pieces)]
            if len(span) > 1 and not all(pieces):  # fewer words than lines: each alone
                alone = [span_translation(job, route, audio, segments, [i], source, target)
                         for i in span]
                done = [(i, texts[0], flags) for i, (texts, flags) in zip(span, alone)]
            for i, machine, machine_flags in done:
                seg = segments[i]
                keep = tuple(f for f in seg.flags
                             if f != "edited" and not f.startswith("translation-"))
                text, flags = machine, keep + machine_flags
                edit = user_edit(edited.get(seg.id), seg, machine)
                if edit is not None:
                    text, flags = edit, keep + ("edited",)
                out[i] = seg.replace(target_text=text, machine_text=machine, flags=flags)
                bar.advance(seg.id)
    return out


def span_request(segments: list[Segment], span: list[int],
                 max_chars: int | None = None) -> TranslationRequest:
    """The request for one sentence span: its lines' text as one sentence, with the lines
    just before and after it as context."""
    first, last = span[0], span[-1]
    text = spans.joined_source(segments, span) if len(span) > 1 else segments[first].source_text
    return TranslationRequest(
        text,
        previous=segments[first - 1].source_text if first else "",
        next=segments[last + 1].source_text if last + 1 < len(segments) else "",
        max_chars=max_chars,
    )


def span_translation(job: JobContext, route: str, audio: Audio, segments: list[Segment],
                     span: list[int], source: str, target: str,
                     max_chars: int | None = None) -> tuple[list[str], tuple[str, ...]]:
    """The machine translation of a sentence span (cached), one piece per line, and its flags.
    With ``max_chars`` it is a rendering under that budget, for a span that does not fit."""
    if route == "same":
        return [segments[i].source_text for i in span], ()
    request = span_request(segments, span, max_chars)
    first, last = segments[span[0]], segments[span[-1]]
    utterance = None
    if route == "asr":
        utterance = Utterance(job.audio_id, first.start, last.end,
                              audio.slice(first.start, last.end), source)
    step = Translate(job.backends, shorten=max_chars is not None)
    result = job.runner.run(step, Sentence(route, request, source, target, utterance))
    weights = [segments[i].duration for i in span]
    return spans.share_out(result.text, weights, target), result.flags


def can_shorten(job: JobContext, source: str, target: str) -> bool:
    """Whether the text translator can be asked for a shorter rendering of a line."""
    if source == target or not job.backends.has("translation"):
        return False
    languages = job.backends.get("translation").languages
    return source in languages and target in languages


def shorten(job: JobContext, segments: list[Segment], span: list[int], source: str,
            target: str, max_chars: int) -> tuple[list[str], tuple[str, ...]]:
    """A rendering of a sentence span in at most ``max_chars`` characters (the translator
    tries; it may still run over), one piece per line, and its flags."""
    with job.timed("shorten"):  # asked for while lines are spoken: its own line in timings
        return span_translation(job, "text", Audio.silence(0, 16000), segments, span, source,
                                target, max_chars)
