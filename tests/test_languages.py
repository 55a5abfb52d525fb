import pytest

from dubkit.errors import UnsupportedLanguage
from dubkit.languages import check_language, language_name, to_iso639_2


def test_iso639_2_tags():
    assert to_iso639_2("ja") == "jpn"
    assert to_iso639_2("fr") == "fre"
    assert to_iso639_2("de") == "ger"
    assert to_iso639_2("xx") == "und"
    assert language_name("es") == "Spanish"


def test_unknown_code_names_supported():
    with pytest.raises(UnsupportedLanguage, match="not an ISO 639-1 .* es, ja"):
        check_language("jp", {"ja", "es"}, "target", "p")


def test_unsupported_code_names_supported():
    with pytest.raises(UnsupportedLanguage, match="cannot use German \\(de\\) .* es, ja"):
        check_language("de", {"ja", "es"}, "target", "p")


def test_codes_are_normalised():
    assert check_language(" JA ", {"ja"}, "target", "p") == "ja"
