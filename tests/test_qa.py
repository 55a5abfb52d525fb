"""The QA report: F0 correlation, duration and overflow checks, similarity, qa.json shape."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubkit import dsp
from dubkit.errors import InputError
from dubkit.models import model_status
from dubkit.qa import QaInput, QaReport, QaThresholds, SegmentQa, build_report, f0_correlation
from dubkit.types import Audio

RATE = 16_000
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def voice(seconds: float, f0_start: float, f0_end: float, rate: int = RATE) -> Audio:
    """A buzzy vowel-like tone whose pitch glides from ``f0_start`` to ``f0_end`` Hz, with a
    little vibrato-free wobble in the middle so the contour is not a straight line."""
    t = np.arange(int(seconds * rate)) / rate
    u = t / seconds
    f0 = f0_start + (f0_end - f0_start) * u + 15 * np.sin(2 * np.pi * 1.5 * u)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    return Audio(dsp.fade(0.2 * x / np.max(np.abs(x)), rate, 0.02, 0.02), rate)


class DotEmbedder:
    """Embeds by pitch only: a unit vector at an angle set by the median F0."""

    def embed(self, audio: Audio) -> np.ndarray:
        from dubkit.analysis.pitch import median_f0

        angle = (median_f0(audio) or 0.0) / 50.0  # 50 Hz apart: cosine 0.54, 10 Hz: 0.98
        return np.array([np.cos(angle), np.sin(angle)])


def test_f0_correlation_follows_the_contour_shape_not_length_or_level() -> None:
    rise = voice(1.5, 120, 200)
    assert f0_correlation(rise, voice(2.2, 200, 330)) > 0.9  # longer, a woman's range
    assert f0_correlation(rise, voice(1.0, 200, 120)) < -0.5  # falls instead
    silence = Audio.silence(1.0, RATE)
    assert f0_correlation(rise, silence) is None


def test_report_flags_with_reasons_and_serialises() -> None:
    good = QaInput("s1", "SPEAKER_00", voice(1.5, 120, 180), voice(1.5, 125, 190), slot=1.55,
                   tempo=1.05)
    bad = QaInput("s2", "SPEAKER_01", voice(1.5, 120, 180), voice(2.0, 300, 180), slot=1.5,
                  tempo=1.3, overflow=0.4)
    report = build_report([good, bad], DotEmbedder())
    s1, s2 = report.segments
    assert s1.passed and s1.duration_ratio == pytest.approx(1.5 / 1.55, abs=0.03)
    assert {i.check for i in s2.issues} == {"similarity", "f0_correlation", "duration_ratio",
                                            "overflow"}
    assert any("too long" in i.message for i in s2.issues)
    assert [s.id for s in report.flagged] == ["s2"]
    d = json.loads(json.dumps(report.to_dict()))  # qa.json is plain JSON
    assert d["version"] == 1 and d["thresholds"]["similarity"] == 0.6
    assert d["summary"]["segments"] == 2 and d["summary"]["flagged"] == 1
    assert d["summary"]["flagged_by_check"]["overflow"] == ["s2"]
    assert set(d["summary"]["speakers"]) == {"SPEAKER_00", "SPEAKER_01"}
    assert d["summary"]["overflow"]["max"] == pytest.approx(0.4)
    assert d["segments"][1]["issues"][0]["check"] == "similarity"
    # a line's figures come back whole from the cache's JSON
    assert [SegmentQa.from_dict(json.loads(json.dumps(s.to_dict())))
            for s in report.segments] == list(report.segments)


def test_a_stock_voice_is_measured_but_never_flagged_for_not_being_the_speaker() -> None:
    source, other = voice(1.5, 120, 180), voice(1.5, 300, 400)  # a far higher voice
    kept = QaInput("s1", "A", source, other, slot=1.5)
    stock = QaInput("s2", "A", source, other, slot=1.5, voice_kept=False)
    s1, s2 = build_report([kept, stock], DotEmbedder()).segments
    assert s1.similarity == pytest.approx(s2.similarity) and s2.similarity < 0.6
    assert "similarity" in {i.check for i in s1.issues}
    assert "similarity" not in {i.check for i in s2.issues}


def test_most_kept_voices_short_of_the_speaker_are_said_once_not_line_by_line() -> None:
    from dubkit.qa import QaIssue
    from dubkit.stages.quality import short_summary
    from dubkit.types import Segment

    def line(i: str, similarity: float, *checks: str) -> SegmentQa:
        issues = tuple(QaIssue(c, 0.0, 0.3, f"{c} failed") for c in checks)
        return SegmentQa(i, "A", similarity, 0.5, 1.0, 1.0, 1.0, 0.0, 1.0, issues=issues)

    segments = [Segment(i, float(n), n + 1.0, "A", "x") for n, i in enumerate("abc")]
    th = QaThresholds(similarity=0.3)
    most = QaReport((line("a", 0.1, "similarity"), line("b", 0.2, "similarity", "cer"),
                     line("c", 0.5)), th)
    summary = short_summary(most, segments, "eres2net", {"a", "b", "c"})
    assert "2 of 3 kept-voice lines score under 0.30" in summary["overall"]["voice_note"]
    assert "(eres2net, mean 0.27)" in summary["overall"]["voice_note"]
    assert summary["review"] == [{"id": "b", "speaker": "A", "reasons": ["cer failed"]}]
    few = QaReport((line("a", 0.1, "similarity"), line("b", 0.5), line("c", 0.5)), th)
    summary = short_summary(few, segments, "eres2net", {"a", "b", "c"})
    assert summary["overall"]["voice_note"] is None
    assert summary["review"] == [{"id": "a", "speaker": "A", "reasons": ["similarity failed"]}]


def test_unmeasurable_figures_are_noted_not_flagged() -> None:
    silent_dub = QaInput("s1", "A", voice(1.0, 120, 150), Audio.silence(0.05, RATE), slot=1.0)
    report = build_report([silent_dub], embedder=None)
    seg = report.segments[0]
    assert seg.similarity is None and seg.f0_correlation is None
    assert any("F0" in n for n in seg.notes)
    assert [i.check for i in seg.issues] == ["duration_ratio"]  # an empty dub is too short
    assert report.summary()["similarity"] is None
    loose = QaThresholds(duration_ratio=(0.0001, 10.0))
    with pytest.raises(InputError):
        QaThresholds(duration_ratio=(1.2, 1.1))
    assert build_report([silent_dub], thresholds=loose).segments[0].duration_ratio == 0.0


@pytest.mark.skipif(not model_status("resemblyzer").available,
                    reason="resemblyzer weights not installed: pip install resemblyzer==0.1.4")
def test_real_speaker_similarity_separates_same_from_other_voice() -> None:
    wav = DATA / "diar_pyannote_sample" / "sample.wav"
    if not wav.exists():
        pytest.skip(f"shared recordings not found at {DATA}")
    from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder
    from dubkit.analysis.rttm import read_rttm

    x, rate = sf.read(wav, dtype="float32")
    audio = Audio(x, rate)
    turns = [t for t in read_rttm(wav.with_suffix(".rttm"))["sample"] if t.duration > 1.5]
    by = {}
    for t in turns:
        by.setdefault(t.speaker, []).append(audio.slice(t.start, t.end))
    same = next(v for v in by.values() if len(v) >= 2)
    other = next(v[0] for v in by.values() if v is not same)
    records = [QaInput("same", "A", same[0], same[1], slot=same[1].duration),
               QaInput("other", "A", same[0], other, slot=other.duration)]
    report = build_report(records, ResemblyzerEmbedder())
    s_same, s_other = (s.similarity for s in report.segments)
    assert s_same > 0.75 and s_same > s_other + 0.1, (s_same, s_other)


def test_a_dub_heard_as_something_else_is_flagged_with_what_was_heard() -> None:
    from dubkit.textmetrics import char_error_rate

    assert char_error_rate("Hola, ¿qué tal?", "hola que tal") == pytest.approx(0.1)  # é
    assert char_error_rate("こんにちは。", "こんにちわ") == pytest.approx(0.2)
    assert char_error_rate("", "") == 0.0 and char_error_rate("", "eh") == 1.0
    clear = QaInput("s1", "A", voice(1.5, 120, 180), voice(1.5, 120, 180), slot=1.5,
                    text="Pregunta qué puedes hacer.", heard="pregunta que puedes hacer")
    garbled = QaInput("s2", "A", voice(1.5, 120, 180), voice(1.5, 120, 180), slot=1.5,
                      text="Pregunta qué puedes hacer.", heard="bla bla")
    unheard = QaInput("s3", "A", voice(1.5, 120, 180), voice(1.5, 120, 180), slot=1.5,
                      text="Pregunta.")
    report = build_report([clear, garbled, unheard])
    s1, s2, s3 = report.segments
    assert s1.cer == pytest.approx(1 / 22, abs=1e-3) and s1.passed
    assert [i.check for i in s2.issues] == ["cer"] and "bla bla" in s2.issues[0].message
    assert s3.cer is None and s3.passed
    assert report.summary()["cer"]["measured"] == 2


def test_lines_whose_translation_failed_a_check_are_listed_for_review():
    from dubkit.qa import QaReport
    from dubkit.stages.quality import short_summary
    from dubkit.types import Segment

    lines = [Segment("s1", 0.0, 1.0, "A", "Ask not.", "Pregunta.",
                     flags=("translation-negation", "shortened")),
             Segment("s2", 1.0, 2.0, "B", "Yes.", "Sí.")]
    review = short_summary(QaReport(()), lines)["review"]
    assert review == [{"id": "s1", "speaker": "A",
                       "reasons": ["translation check failed: negation"]}]
