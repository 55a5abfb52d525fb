"""Language ID from windows: where the windows fall, how their distributions combine, and when the
answer is refused. Synthetic regions and distributions, no model."""
from __future__ import annotations

import json

import pytest

from dubkit.analysis.language_id import (
    WHISPER_THRESHOLDS,
    LanguageEvidence,
    Thresholds,
    WindowGuess,
    choose_windows,
    combine,
    decide,
)
from dubkit.errors import InputError, UncertainLanguage
from dubkit.types import SpeechRegion


def _seconds(window) -> float:
    return sum(e - s for s, e in window)


def _flat(top: str, p: float, others=("ro", "nn", "sn", "de", "es", "pt", "it", "ja")) -> dict:
    """A distribution like Whisper's on music: ``top`` at ``p``, the rest spread thin."""
    rest = (1.0 - p) / len(others)
    return {top: p, **{c: rest for c in others if c != top}}


def test_no_regions_no_windows():
    assert choose_windows([]) == []
    assert choose_windows([SpeechRegion(1.0, 1.0)]) == []


def test_short_speech_is_heard_whole_in_one_window():
    regions = [SpeechRegion(0.5, 2.0), SpeechRegion(3.0, 4.2)]
    assert choose_windows(regions, count=5, seconds=10.0) == [((0.5, 2.0), (3.0, 4.2))]


def test_up_to_count_windows_cut_all_the_speech_into_equal_parts():
    regions = [SpeechRegion(0.0, 12.0), SpeechRegion(20.0, 32.0)]  # 24 s of speech
    windows = choose_windows(regions, count=5, seconds=10.0)
    assert len(windows) == 3
    assert [round(_seconds(w), 6) for w in windows] == [8.0, 8.0, 8.0]
    assert windows[1] == ((8.0, 12.0), (20.0, 24.0))  # pauses are left out


def test_long_input_windows_spread_over_the_whole_file_at_long_regions():
    # 100 regions of 2 s every 6 s (600 s), and one long region in each fifth of the speech
    regions = [SpeechRegion(6.0 * i, 6.0 * i + 2.0) for i in range(100)]
    for i in (10, 30, 50, 70, 90):
        regions[i] = SpeechRegion(6.0 * i, 6.0 * i + 5.5)
    windows = choose_windows(regions, count=5, seconds=10.0)
    assert len(windows) == 5
    assert all(abs(_seconds(w) - 10.0) < 1e-6 for w in windows)
    assert [w[0][0] for w in windows] == [60.0, 180.0, 300.0, 420.0, 540.0]  # the long ones
    assert windows[-1][-1][1] > 500.0  # the last fifth of the file is heard, not only the start


def test_stretches_inside_one_long_region_get_centred_windows():
    windows = choose_windows([SpeechRegion(0.0, 100.0)], count=5, seconds=10.0)
    # the first stretch holds the region's start; the others lie inside it
    assert [w[0] for w in windows] == [(0.0, 10.0), (25.0, 35.0), (45.0, 55.0), (65.0, 75.0),
                                       (85.0, 95.0)]


def test_music_windows_do_not_outvote_the_speech():
    # three windows of a music intro (flat, a different top each time) and two of English
    music = [WindowGuess(10.0, _flat(top, 0.3)) for top in ("ro", "nn", "ro")]
    speech = [WindowGuess(8.0, {"en": 0.95, "de": 0.03, "ro": 0.02})] * 2
    estimate = combine(music + speech)
    assert estimate.language == "en"
    assert estimate.probability > 0.6 and estimate.margin > 0.5
    assert estimate.agreement > 0.8  # the music windows weigh little
    assert decide(estimate, WHISPER_THRESHOLDS)[0] == "en"


def test_longer_windows_weigh_more():
    short = WindowGuess(1.0, {"es": 0.9, "fr": 0.1})
    long = WindowGuess(9.0, {"fr": 0.9, "es": 0.1})
    assert combine([short, long]).language == "fr"
    assert combine([WindowGuess(9.0, short.probabilities), WindowGuess(1.0, long.probabilities)]
                   ).language == "es"


def test_combined_distribution_is_normalised_and_ranked():
    estimate = combine([WindowGuess(5.0, {"fr": 0.6, "es": 0.3, "it": 0.1}),
                        WindowGuess(5.0, {"fr": 0.5, "es": 0.4, "it": 0.1})])
    probabilities = [p for _, p in estimate.candidates]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0)
    assert estimate.seconds == 10.0 and estimate.agreement == 1.0


def test_disagreeing_windows_are_refused():
    estimate = combine([WindowGuess(5.0, {"fr": 0.9, "es": 0.1}),
                        WindowGuess(5.0, {"es": 0.9, "fr": 0.1})])
    with pytest.raises(UncertainLanguage):
        decide(estimate, WHISPER_THRESHOLDS)


def test_weak_answer_names_the_candidates_and_asks_for_from():
    estimate = combine([WindowGuess(6.0, {"fr": 0.45, "es": 0.35, "it": 0.2})])
    with pytest.raises(UncertainLanguage) as caught:
        decide(estimate, WHISPER_THRESHOLDS)
    message = str(caught.value)
    assert "\n" not in message and "--from" in message
    assert "French (fr) 45%" in message and "Spanish (es) 35%" in message
    assert isinstance(caught.value, InputError) and caught.value.exit_code == 2


def test_short_speech_needs_a_surer_answer():
    sure_enough = {"ko": 0.85, "ja": 0.15}
    assert decide(combine([WindowGuess(5.0, sure_enough)]), WHISPER_THRESHOLDS)[0] == "ko"
    with pytest.raises(UncertainLanguage):
        decide(combine([WindowGuess(1.5, sure_enough)]), WHISPER_THRESHOLDS)
    assert decide(combine([WindowGuess(1.5, {"ko": 0.97, "ja": 0.03})]),
                  WHISPER_THRESHOLDS)[0] == "ko"


def test_unmeasured_models_are_not_refused():
    estimate = combine([WindowGuess(3.0, {"it": 0.07, "ja": 0.06, "hi": 0.06})])
    assert decide(estimate, None) == ("it", pytest.approx(estimate.probability))


def test_evidence_survives_the_cache_as_json():
    evidence = LanguageEvidence((WindowGuess(2.5, {"en": 0.9, "de": 0.1}),),
                                Thresholds(0.4, 0.2, 0.5, 2.0, 0.9))
    again = LanguageEvidence.from_dict(json.loads(json.dumps(evidence.to_dict())))
    assert again == evidence
    bare = LanguageEvidence((WindowGuess(1.0, {"en": 1.0}),), None)
    assert LanguageEvidence.from_dict(json.loads(json.dumps(bare.to_dict()))) == bare


def test_combine_needs_a_window():
    with pytest.raises(ValueError):
        combine([])
