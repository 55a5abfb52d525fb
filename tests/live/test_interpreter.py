"""The live interpreter on the tiny-test preset (real loaders, tiny random weights): the same
lines as a batch job on the same recording, one continuous watermark over a session's
recording, no translating its own voice when it comes back into the microphone."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dubkit
from dubkit import media
from dubkit.errors import InputError
from dubkit.live.interpreter import Caption, Interpreter, Speech
from dubkit.live.session import run_session
from dubkit.types import ANALYSIS_RATE, Audio

SAMPLE = Path(__file__).parents[2] / "samples" / "jfk.mp4"
CHUNK = 1600  # 100 ms


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return media.decode_audio(SAMPLE, rate=ANALYSIS_RATE, mono=True).samples


def _interpret(samples: np.ndarray, **options) -> list:
    live = Interpreter(preset="tiny-test", to="es", source="en", **options)
    events = []
    for chunk in _in_step(live, samples):
        live.feed(chunk)
        events += live.events()
    return events + live.finish(timeout=120)


def test_phrases_are_the_regions_the_batch_job_finds(jfk):
    """The same VAD step on the same samples: every phrase is one of the batch job's regions
    (streamed, they come out the same as on the whole track)."""
    from dubkit.backends import StageBackends
    from dubkit.config import load_preset
    from dubkit.jobs.cache import audio_id
    from dubkit.steps.analysis import FindSpeech, Track

    track = Audio(jfk, ANALYSIS_RATE)
    regions = FindSpeech(StageBackends(load_preset("tiny-test"))).process(
        Track(track, audio_id(track)))
    # a revision spans the phrases of one sentence; the phrases' own captions are compared
    captions = [e for e in _interpret(jfk) if isinstance(e, Caption) and not e.revises]
    assert len(captions) >= len(regions) - 1  # a region whose text is empty says nothing
    for c in captions:
        assert any(abs(c.start - r.start) < 1e-3 and abs(c.end - r.end) < 1e-3
                   for r in regions)


@pytest.mark.slow
def test_stream_and_batch_hear_the_same_words(jfk, tmp_path):
    """The live preset's real models, as a batch job and live: the same words (the batch job
    joins pauses into longer lines, so the text is compared, not the cuts)."""
    jiwer = pytest.importorskip("jiwer")
    try:
        live = Interpreter(preset="live", to="es", source="en")
    except dubkit.errors.DubkitError as exc:  # models not installed here
        pytest.skip(f"the live preset's models are not available: {exc}")
    batch = dubkit.Dubber(preset="live").translate(
        SAMPLE, to="es", source_language="en", output=tmp_path / "dub.mp4")
    live.warm_up()
    events = []
    for chunk in _in_step(live, jfk):
        live.feed(chunk)
        events += live.events()
    events += live.finish(timeout=300)

    def words(texts):
        return " ".join(t.lower().strip(" .,?!") for t in texts if t.strip())

    streamed = words(e.source_text for e in events if isinstance(e, Caption))
    batched = words(s.source_text for s in batch.segments)
    assert "your country" in streamed
    assert jiwer.wer(batched, streamed) < 0.2, (batched, streamed)
    assert {s.speaker for s in batch.segments} == {"SPEAKER_00"}


def test_speech_follows_its_phrase_and_one_voice_plays_at_a_time(jfk):
    events = _interpret(jfk)
    speech = [e for e in events if isinstance(e, Speech)]
    captions = {e.index: e for e in events if isinstance(e, Caption)}
    assert speech and all(s.index in captions for s in speech)
    for s in speech:
        assert s.start >= s.ready_at - 1e-6 and s.ready_at > captions[s.index].end - 0.2
        assert s.latency >= 0 and set(s.stages) >= {"endpoint", "transcribe", "translate",
                                                      "speak", "queue"}
    for a, b in zip(speech, speech[1:]):
        assert b.start >= a.start + a.audio.duration - 1e-3


def _record_session(tmp_path, samples, preset="tiny-test", to="es"):
    from dubkit.live.audio_io import Recorder

    live = Interpreter(preset=preset, to=to, source="en")
    live.warm_up()
    recorder = Recorder(tmp_path / "out.wav", 24_000)
    report = run_session(live, _in_step(live, samples), recorder, gate=False)
    return live, report, media.decode_audio(tmp_path / "out.wav")


def _in_step(live: Interpreter, samples: np.ndarray):
    """Chunks fed as fast as the interpreter keeps up: each waits until every phrase heard so
    far is spoken, so none is skipped however slow the machine (as if it worked in no time)."""
    for i in range(0, samples.size, CHUNK):
        live.wait()
        yield samples[i:i + CHUNK]


def test_a_session_recording_is_aligned_with_the_input_and_marked(jfk, tmp_path):
    from dubkit.watermark.spread_spectrum import SpreadSpectrumWatermarker

    session = np.tile(jfk, 3)  # several phrases and periods of the mark
    live, report, recorded = _record_session(tmp_path, session)
    assert len(report.played) == live.counts["spoken"] >= 9 and not live.counts["skipped"]
    assert recorded.duration == pytest.approx(max(session.size / ANALYSIS_RATE,
                                                  report.played[-1][2]), abs=0.05)
    for _, start, end in report.played:  # sound where the report says
        a, b = int(start * recorded.rate), int(end * recorded.rate)
        assert np.abs(recorded.mono().samples[a:b]).max() > 0.01
    assert SpreadSpectrumWatermarker().detect(recorded).found
    # phrases marked apart keep the band-energy pattern's phase too: one mark over the recording,
    # found by the search anchored at the recording's start (not only "anywhere in the period")
    assert _anchored_band_score(recorded) >= _ANCHORED_THRESHOLD


@pytest.mark.slow
def test_the_whole_recording_carries_the_sessions_payload(jfk, tmp_path):
    """Phrases marked apart but in phase with the recording's timeline add up to one mark that
    confirms the session's own payload (what ``dubkit verify`` checks with the manifest)."""
    from dubkit.watermark.spread_spectrum import SpreadSpectrumWatermarker

    try:
        live, report, recorded = _record_session(tmp_path, np.tile(jfk, 2), "live", "ja")
    except dubkit.errors.DubkitError as exc:
        pytest.skip(f"the live preset's models are not available: {exc}")
    marker = SpreadSpectrumWatermarker()
    claimed = marker.detect(recorded, expected=live.payload)
    assert claimed.found and claimed.payload == live.payload
    other = type(live.payload)(live.payload.job_id ^ 0xFFFF)
    assert not marker.detect(recorded, expected=other).found


def _anchored_band_score(recorded: Audio) -> float:
    """The band-energy layer's best score with its pattern starting within a frame or three of
    the recording's start (what a recording of phrases kept in phase gives)."""
    from dubkit import dsp
    from dubkit.watermark import band_energy as be

    marker = be.BandEnergyWatermarker()
    mono = dsp.resample(recorded.mono(), be.RATE).samples.astype(np.float64)
    energy, centres = be._detector_energy(mono)
    return float(marker.phase_grid(energy, centres, be._norms(energy, centres))[:, be._NEAR].max())


_ANCHORED_THRESHOLD = 4.8  # the anchored search's threshold (28 tests, half of 1e-4)


class EchoRoom:
    """A loudspeaker heard by the microphone: what plays comes back into the input."""

    def __init__(self) -> None:
        self.cursor = 0.0
        self.sound = np.zeros(0, np.float32)  # on the input's 16 kHz clock

    def play(self, audio: Audio, at: float) -> float:
        start = max(at, self.cursor)
        x = audio.mono()
        from dubkit import dsp

        x = dsp.resample(x, ANALYSIS_RATE).samples
        a = int(round(start * ANALYSIS_RATE))
        if self.sound.size < a + x.size:
            self.sound = np.pad(self.sound, (0, a + x.size - self.sound.size))
        self.sound[a:a + x.size] += 0.8 * x / max(1e-6, float(np.abs(x).max()))
        self.cursor = start + x.size / ANALYSIS_RATE
        return start

    def close(self, until=None) -> None:
        pass

    def heard(self, samples: np.ndarray, live: Interpreter):
        """The microphone's chunks; the input's clock waits while the interpreter works (as
        if it worked in no time), so that its speech comes back after it was made."""
        for i in range(0, samples.size, CHUNK):
            live.wait()
            chunk = samples[i:i + CHUNK].copy()
            echo = self.sound[i:i + chunk.size]
            chunk[:echo.size] += echo
            yield chunk


@pytest.mark.parametrize("gate", [True, False])
def test_it_never_translates_its_own_voice(jfk, gate):
    quiet = np.concatenate([jfk, np.zeros(8 * ANALYSIS_RATE, np.float32)])  # room to echo
    room = EchoRoom()
    live = Interpreter(preset="tiny-test", to="es", source="en")
    report = run_session(live, room.heard(quiet, live), room, gate=gate)
    phrases = {c.index for c in report.captions}
    alone = {e.index for e in _interpret(jfk) if isinstance(e, Caption)}
    if gate:
        assert len(phrases) <= len(alone)
    else:  # without the gate the echo is heard as new phrases: the test can tell
        assert len(phrases) > len(alone)


def test_bad_chunks_are_one_clear_error():
    live = Interpreter(preset="tiny-test", to="es", source="en")
    with pytest.raises(InputError, match="NaN"):
        live.feed(np.array([0.0, np.nan], np.float32))
    with pytest.raises(InputError, match="mono"):
        live.feed(np.zeros((2, 2, 2), np.float32))
    live.feed(np.zeros((800, 2), np.float32), rate=8000)  # stereo at another rate is fine
    live.finish(timeout=30)
    with pytest.raises(InputError, match="finished"):
        live.feed(np.zeros(10, np.float32))


def test_unknown_languages_are_refused_before_listening():
    with pytest.raises(InputError):
        Interpreter(preset="tiny-test", to="xx", source="en")


def test_an_unintelligible_voice_is_refused_unless_allowed(monkeypatch):
    from dubkit.errors import UnintelligibleVoice
    from dubkit.synth import intelligibility

    live = Interpreter(preset="tiny-test", to="es", source="en")
    name = live.backends.get("synthesis").name
    monkeypatch.setitem(intelligibility.MEASURED, name, {"es": 0.8})
    with pytest.raises(UnintelligibleVoice, match="allow-unintelligible-voice"):
        Interpreter(preset="tiny-test", to="es", source="en", backends=live.backends)
    Interpreter(preset="tiny-test", to="es", source="en", backends=live.backends,
                allow_unintelligible_voice=True)


def test_the_speakers_voice_is_kept_once_heard_with_consent(jfk):
    from dubkit.jobs.consent import Consent
    from dubkit.live.interpreter import PROFILE_SECONDS, Notice

    with pytest.raises(InputError, match="consent"):
        Interpreter(preset="tiny-test", to="es", source="en", voice="keep")
    kept = _interpret(jfk, consent=Consent.declared("self"))
    stock = _interpret(jfk, voice="stock", consent=Consent.declared("self"))
    made = [e for e in kept if isinstance(e, Notice) and "voice profile" in e.text]
    assert len(made) == 1 and made[0].at >= PROFILE_SECONDS
    assert not any(isinstance(e, Notice) and "voice profile" in e.text for e in stock)
    kept_speech = {e.index: e.audio for e in kept if isinstance(e, Speech) and e.part == 0}
    stock_speech = {e.index: e.audio for e in stock if isinstance(e, Speech) and e.part == 0}
    first, last = min(kept_speech), max(kept_speech)

    def likeness(a, b):  # the watermarks differ (each session its own payload): ~0.999
        n = min(a.num_samples, b.num_samples)
        return float(np.corrcoef(a.samples[:n], b.samples[:n])[0, 1])

    assert likeness(kept_speech[first], stock_speech[first]) > 0.99  # stock until the profile
    assert likeness(kept_speech[last], stock_speech[last]) < 0.9  # then converted


def test_a_sentence_cut_across_phrases_is_revised_in_the_captions_only(jfk, tmp_path):
    from dubkit.live.audio_io import CaptionFile

    live = Interpreter(preset="tiny-test", to="es", source="en", max_phrase=1.5)
    captions = CaptionFile(tmp_path / "live.vtt")
    report = run_session(live, _in_step(live, jfk), None, captions)
    firsts = [c for c in report.captions if not c.revises]
    revisions = [c for c in report.captions if c.revises]
    assert len(firsts) >= 3  # jfk's one sentence, cut every 1.5 s
    # tiny-test's transcripts never end a sentence: each phrase revises the open one
    assert revisions
    for r in revisions:
        covered = [c for c in firsts if c.index in r.revises]
        assert len(covered) == len(r.revises) <= 3 and r.index == r.revises[-1]
        assert r.start == covered[0].start and r.end == covered[-1].end
        assert r.source_text == " ".join(c.source_text for c in covered)
    # the file holds one cue per sentence as revised, in time order, never overlapping
    cues = captions.cues
    assert len(cues) == len(firsts) - sum(len(r.revises) - 1 for r in revisions
                                          if not any(set(r.revises) < set(o.revises)
                                                     for o in revisions))
    assert all(a.end <= b.start + 1e-6 for a, b in zip(cues, cues[1:]))


def test_a_revision_translates_again_only_the_sentence_the_pause_cut():
    from dubkit.steps.text import Translated

    live = Interpreter(preset="tiny-test", to="es", source="en")
    asked = []

    def translate(item):
        asked.append((item.request.text, item.request.previous))
        return Translated(f"<{item.request.text}>")

    live._translate.process = translate
    # two phrases as spoken: "It rained. We stayed" | "at home. It was fine."
    live._said = {"It rained.": "Llovió.", "We stayed": "Nos quedamos",
                  "at home.": "en casa.", "It was fine.": "Estuvo bien."}
    live._open, live._open_context = Caption(0, 0.0, 2.0, "It rained. We stayed", "-"), "Hi."
    live._revise(Caption(1, 2.5, 5.0, "at home. It was fine.", "-"), "We stayed")
    assert asked == [("We stayed at home.", "It rained.")]
    [revision] = [e for e in live.events() if isinstance(e, Caption)]
    assert revision.target_text == "Llovió. <We stayed at home.> Estuvo bien."
    assert revision.revises == (0, 1) and (revision.start, revision.end) == (0.0, 5.0)
    assert live._open is None and live._said == {}  # the sentence ended: nothing left open
    # a phrase waiting: no revision at all, the new phrase opens the next one
    live._open = Caption(2, 6.0, 7.0, "And then", "-")
    live._released += 1
    live._revise(Caption(3, 7.5, 8.0, "we left", "-"), "And then")
    assert len(asked) == 1 and not live.events() and live._open.index == 3


def test_speech_repeated_in_its_own_language_keeps_nothing_for_revisions(jfk):
    # no translation, no caption revisions: a long session must not pile up its sentences
    live = Interpreter(preset="tiny-test", to="en", source="en", max_phrase=1.5)
    for chunk in _in_step(live, jfk):
        live.feed(chunk)
    spoken = [e for e in live.events() + live.finish(timeout=120) if isinstance(e, Speech)]
    assert spoken and live._said == {}


def test_a_streaming_translator_is_spoken_clause_by_clause_as_it_writes(jfk):
    """With a translator that streams, each clause is spoken once the translation holds it
    whole, in order, and together they say the whole translation."""
    from dubkit.backends import StageBackends
    from dubkit.config import load_preset
    from dubkit.translate.llm import LlamaCppTranslator

    answer = "Una frase de prueba bastante larga, que sigue después de la coma, y termina aquí."
    backends = StageBackends(load_preset("tiny-test"))
    written = []  # the translation each clause was spoken from, as far as it was written

    def generate(messages, tokens):
        return answer

    llm = LlamaCppTranslator("stub", generate=generate)
    backends._built["translation"] = llm
    live = Interpreter(backends.preset, to="es", source="en", backends=backends)
    speak, spoken = live._speak, []

    def spy(work, text, part):
        spoken.append((work.phrase.index, part, text, written[-1] if written else ""))
        speak(work, text, part)

    live._speak = spy
    grown = llm.translate_stream

    def stream(request, source, target, on_text):
        return grown(request, source, target, lambda text: (written.append(text), on_text(text)))

    llm.translate_stream = stream
    events = []
    for chunk in _in_step(live, jfk):
        live.feed(chunk)
        events += live.events()
    events += live.finish(timeout=120)
    captions = [e for e in events if isinstance(e, Caption) and not e.revises]
    phrases = {index for index, _, _, _ in spoken}
    assert phrases and len(written) > 3
    for index in phrases:
        parts = [(part, text) for i, part, text, _ in spoken if i == index]
        assert [p for p, _ in parts] == list(range(len(parts)))
        caption = next(c for c in captions if c.index == index)
        assert " ".join(text for _, text in parts) == caption.target_text
    first = [(text, so_far) for _, part, text, so_far in spoken if part == 0]
    assert all(text == "Una frase de prueba bastante larga," for text, _ in first)
    assert any(so_far != answer for _, so_far in first)  # spoken before the rest was written
