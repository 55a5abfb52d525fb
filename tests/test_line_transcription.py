"""Lines close together (of any speaker) are heard in one pass and their words shared back out
by time; a transcriber that times no words hears each line alone (the text stage, with fake
models)."""
from __future__ import annotations

from contextlib import nullcontext
from types import SimpleNamespace

from dubkit.jobs.cache import StageCache
from dubkit.progress import ignore_progress
from dubkit.runners.cached import CachedRunner
from dubkit.stages import text
from dubkit.translate.spans import sentence_spans
from dubkit.types import Audio, Segment, Transcript, Word

LINES = [
    Segment("seg-0001", 0.5, 2.5, "S1"),
    Segment("seg-0002", 3.0, 4.0, "S1"),
    Segment("seg-0003", 4.5, 9.5, "S1"),
    Segment("seg-0004", 12.0, 13.0, "S2"),  # over 2 s after the run: a pass of its own
]
SENTENCE = [  # what the whole run says, timed from 0.5 s: "ask not" in the second line
    Word(" And", 0.0, 0.4), Word(" so,", 0.5, 1.0), Word(" my", 1.1, 1.3),
    Word(" fellow", 1.3, 1.6), Word(" Americans,", 1.6, 2.0), Word(" ask", 2.6, 3.0),
    Word(" not", 3.0, 3.4), Word(" what", 4.1, 4.5), Word(" your", 4.5, 4.8),
    Word(" country", 4.8, 5.3), Word(" can", 5.3, 5.6), Word(" do.", 5.6, 6.0),
]


class FakeTranscriber:
    """Hears the run above in one pass; alone, a line comes back as a sentence of its own."""

    languages = frozenset({"en"})

    def __init__(self, word_times: frozenset[str], words: list[Word] = SENTENCE):
        self.word_times = word_times
        self.words = words
        self.passes: list[float] = []  # the length of each clip heard in one pass
        self.alone: list[float] = []

    def transcribe_words(self, audio: Audio, language: str) -> list[Word]:
        self.passes.append(round(audio.duration, 3))
        return self.words

    def transcribe(self, audio: Audio, language: str, task: str = "transcribe") -> Transcript:
        self.alone.append(round(audio.duration, 3))
        return Transcript(f"ALONE {audio.duration:.1f}!", language)


def fake_job(tmp_path, transcriber):
    backends = SimpleNamespace(get=lambda stage: transcriber, fingerprint=lambda stage: "fake")
    cache = StageCache(tmp_path / "cache")
    return SimpleNamespace(backends=backends, cache=cache, runner=CachedRunner(cache),
                           audio_id="0" * 64, timed=lambda stage: nullcontext(),
                           progress=ignore_progress)


def test_a_run_of_lines_is_heard_once_and_reads_as_one_sentence(tmp_path):
    whisper = FakeTranscriber(frozenset({"en"}))
    out = text.transcribe(fake_job(tmp_path, whisper), Audio.silence(14.0, 16000), LINES, "en")
    assert whisper.passes == [9.0]  # seg-0001 to seg-0003, pauses included
    assert [s.source_text for s in out] == [
        "And so, my fellow Americans,", "ask not", "what your country can do.", "ALONE 1.0!"]
    assert whisper.alone == [1.0]  # S2's line, on its own
    assert sentence_spans(out) == [[0, 1, 2], [3]]  # so the sentence is translated once


def test_close_lines_of_two_speakers_are_heard_in_one_pass(tmp_path):
    """Whisper reads a 30 s window per call: a conversation's turns heard alone would pay one
    each. Each word goes to the line it was spoken in."""
    lines = [Segment("a", 0.5, 2.5, "S1"), Segment("b", 3.0, 4.0, "S2")]
    whisper = FakeTranscriber(frozenset({"en"}), words=SENTENCE[:7])
    out = text.transcribe(fake_job(tmp_path, whisper), Audio.silence(5.0, 16000), lines, "en")
    assert whisper.passes == [3.5] and whisper.alone == []
    assert [s.source_text for s in out] == ["And so, my fellow Americans,", "ask not"]


def test_a_line_no_word_fell_in_is_heard_alone(tmp_path):
    whisper = FakeTranscriber(frozenset({"en"}), words=SENTENCE[:5])  # "ask not..." unheard
    out = text.transcribe(fake_job(tmp_path, whisper), Audio.silence(14.0, 16000), LINES, "en")
    assert [s.source_text for s in out[:3]] == [
        "And so, my fellow Americans,", "ALONE 1.0!", "ALONE 5.0!"]


def test_without_word_times_every_line_is_heard_alone(tmp_path):
    whisper = FakeTranscriber(frozenset())
    out = text.transcribe(fake_job(tmp_path, whisper), Audio.silence(14.0, 16000), LINES, "en")
    assert whisper.passes == [] and whisper.alone == [2.0, 1.0, 5.0, 1.0]
    assert [s.source_text for s in out] == ["ALONE 2.0!", "ALONE 1.0!", "ALONE 5.0!",
                                            "ALONE 1.0!"]


def test_a_render_of_one_line_changes_only_that_line_and_reuses_the_pass(tmp_path):
    whisper = FakeTranscriber(frozenset({"en"}))
    job = fake_job(tmp_path, whisper)
    audio = Audio.silence(14.0, 16000)
    first = text.transcribe(job, audio, LINES, "en")
    edited = [s.replace(source_text="typed by hand") for s in first]
    again = text.transcribe(job, audio, edited, "en", lines=frozenset({"seg-0002"}))
    assert whisper.passes == [9.0]  # the passage came from the cache
    assert [s.source_text for s in again] == [
        "typed by hand", "ask not", "typed by hand", "typed by hand"]
