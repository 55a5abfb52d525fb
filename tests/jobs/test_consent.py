"""Consent records: what is stored, what is hashed, and what is refused."""
from __future__ import annotations

import pytest

from dubkit.errors import InputError
from dubkit.jobs.consent import MAX_STATEMENT_BYTES, STATEMENT_FILE, Consent


def test_a_statement_is_stored_and_its_hash_changes_with_its_words(tmp_path):
    first = tmp_path / "a.txt"
    first.write_text("Ana agrees that her voice is kept in the Japanese dub.\n")
    second = tmp_path / "b.txt"
    second.write_text("Ana agrees that her voice is kept in the Spanish dub.\n")
    a, b = Consent.from_file(first), Consent.from_file(second)
    assert a.sha256 != b.sha256 and a.sha256 == Consent.from_file(first).sha256
    job = tmp_path / "job"
    job.mkdir()
    record = a.record(job)
    assert record["kind"] == "statement" and record["file"] == STATEMENT_FILE
    assert (job / STATEMENT_FILE).read_text() == first.read_text()


def test_declarations_are_recorded_as_such_without_a_file(tmp_path):
    record = Consent.declared("self").record(tmp_path)
    assert record["kind"] == "self" and "file" not in record
    assert not (tmp_path / STATEMENT_FILE).exists()
    assert Consent.declared("self").sha256 != Consent.declared("declared").sha256


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
    (b"x" * (MAX_STATEMENT_BYTES + 1), "write a short statement"),
])
def test_unusable_statements_are_refused(tmp_path, content, message):
    path = tmp_path / "consent.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        Consent.from_file(path)


def test_unknown_declaration_is_refused():
    with pytest.raises(InputError, match="unknown consent kind"):
        Consent.declared("maybe")
