import numpy as np
import pytest

from dubkit.config import StageConfig
from dubkit.errors import UnsupportedLanguage
from dubkit.registry import create_backend, model_names
from dubkit.synth.base import VoiceRequest
from dubkit.synth.router import LanguageRouter
from dubkit.types import Audio


class Fake:
    def __init__(self, name, languages, rate):
        self.name, self.languages, self.rate = name, frozenset(languages), rate

    def voice_for(self, request):
        return f"{request.gender or 'any'}-voice"

    def synthesize(self, text, language, voice):
        return Audio(np.full(10, len(voice), np.float32), self.rate)

    def stock_voices(self, language):
        return {"f1": "female", "m1": "male"}


def router():
    return LanguageRouter([("kokoro", Fake("k", {"ja", "es"}, 24000)),
                           ("piper", Fake("p", {"en"}, 22050)),
                           ("espeak", Fake("e", {"en", "es", "fr", "de"}, 22050))])


def test_first_backend_that_speaks_the_language_wins():
    r = router()
    assert r.languages == {"ja", "es", "en", "fr", "de"}
    assert r.voice_for(VoiceRequest("S0", "es", "female")) == "kokoro/female-voice"
    assert r.voice_for(VoiceRequest("S0", "en")) == "piper/any-voice"
    assert r.voice_for(VoiceRequest("S0", "fr", "male")) == "espeak/male-voice"
    assert r.synthesize("hola", "es", "kokoro/female-voice").rate == 24000
    assert r.synthesize("salut", "fr", "espeak/male-voice").rate == 22050


def test_stock_voices_are_those_of_the_backend_that_speaks_the_language():
    assert router().stock_voices("es") == {"kokoro/f1": "female", "kokoro/m1": "male"}
    assert router().stock_voices("fr") == {"espeak/f1": "female", "espeak/m1": "male"}


def test_unknown_language_names_the_supported_ones():
    with pytest.raises(UnsupportedLanguage, match="de, en, es, fr, ja"):
        router().voice_for(VoiceRequest("S0", "ko"))


def test_preset_tables_build_a_router(monkeypatch):
    config = StageConfig("by-language", {"backends": {
        "vits": {"backend": "hf-vits", "model": "tiny-vits", "device": "cpu"},
    }})
    assert model_names(config) == ["tiny-vits"]
    from dubkit.models import resolve_model

    built = create_backend("synthesis", config, {"tiny-vits": resolve_model("tiny-vits")})
    assert isinstance(built, LanguageRouter)
    assert "en" in built.languages
    voice = built.voice_for(VoiceRequest("S0", "en"))
    assert voice.startswith("vits/")
    assert built.synthesize("hello", "en", voice).num_samples > 0
