"""The intelligibility check: measured figures decide, a router says which backend speaks."""
from __future__ import annotations

import datetime

import numpy as np
import pytest

from dubkit.config import load_preset
from dubkit.errors import InputError, UnintelligibleVoice
from dubkit.synth import intelligibility
from dubkit.synth.intelligibility import (
    MAX_CER,
    check_intelligible,
    intelligible_languages,
    is_intelligible,
    measured_cer,
)
from dubkit.synth.router import LanguageRouter
from dubkit.types import Audio


class Fake:
    def __init__(self, name, languages):
        self.name, self.languages = name, frozenset(languages)

    def voice_for(self, request):
        return "v"

    def synthesize(self, text, language, voice):
        return Audio(np.zeros(10, np.float32), 16_000)

    def backend_for(self, language):
        return self.name


@pytest.fixture
def measured(monkeypatch):
    table = {"neural": {"ja": 0.05, "fr": 0.12, "hi": 0.9},
             "robot": {"fr": 0.7, "it": 0.2, "ko": 0.95, "ja": 0.6}}
    monkeypatch.setattr(intelligibility, "MEASURED", table)
    return table


def router():
    return LanguageRouter([("kokoro", Fake("neural", {"ja", "hi"})),
                           ("espeak", Fake("robot", {"fr", "it", "ko", "ja", "sw"}))])


def test_the_router_names_the_backend_that_speaks_a_language():
    r = router()
    assert r.backend_for("ja") == "neural"  # the first that has it, though both do
    assert r.backend_for("fr") == "robot"


def test_an_unintelligible_voice_is_refused_with_one_line_naming_the_good_ones(measured):
    with pytest.raises(UnintelligibleVoice) as caught:
        check_intelligible(router(), "ko")
    message = str(caught.value)
    assert "\n" not in message
    assert "robot voice for Korean (ko)" in message
    assert "intelligible voices: it, ja;" in message  # fr is spoken by the robot, hi too badly
    assert "--allow-unintelligible-voice" in message
    assert isinstance(caught.value, InputError) and caught.value.exit_code == 2


def test_allowing_the_robotic_voice_passes(measured):
    check_intelligible(router(), "ko", allow_robotic=True)
    check_intelligible(router(), "hi", allow_robotic=True)


def test_measured_intelligible_and_unmeasured_pairs_pass(measured):
    check_intelligible(router(), "ja")  # the router picks the neural voice, not the robot's 0.6
    check_intelligible(router(), "it")
    check_intelligible(router(), "sw")  # never measured: nothing to refuse it on
    assert measured_cer("robot", "sw") is None and is_intelligible("robot", "sw") is None


def test_the_limit_itself_passes(measured):
    measured["robot"]["it"] = MAX_CER
    check_intelligible(router(), "it")
    measured["robot"]["it"] = MAX_CER + 0.001
    with pytest.raises(UnintelligibleVoice):
        check_intelligible(router(), "it")


def test_offered_narrows_the_suggestions(measured):
    assert intelligible_languages(router()) == ["it", "ja"]
    assert intelligible_languages(router(), offered={"ja", "ko"}) == ["ja"]
    with pytest.raises(UnintelligibleVoice, match="intelligible voices: none;"):
        check_intelligible(router(), "ko", offered={"ko"})


def test_the_table_records_how_it_was_measured():
    datetime.date.fromisoformat(intelligibility.MEASURED_ON)
    assert "benchmarks/intelligibility.py" in intelligibility.COMMAND
    assert intelligibility.MEASURED, "no figures"
    for name, figures in intelligibility.MEASURED.items():
        assert figures, name
        assert all(0.0 <= cer for cer in figures.values()), name


def test_every_language_the_cpu_preset_gives_kokoro_was_measured_intelligible():
    kokoro = load_preset("cpu").stages["synthesis"].options["backends"]["kokoro"]
    name = f"kokoro:{kokoro['model']}"
    for language in kokoro["languages"]:
        cer = measured_cer(name, language)
        assert cer is not None and cer <= MAX_CER, (language, cer)
