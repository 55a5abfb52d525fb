"""RTTM reading and writing."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from dubkit.analysis.rttm import read_rttm, write_rttm
from dubkit.errors import InputError
from dubkit.types import Turn

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_write_exact_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.rttm"
    write_rttm([Turn(1.0, 2.5, "SPEAKER_00"), Turn(3.1234, 4.0, "SPEAKER_01")], path, "clip")
    assert path.read_text().splitlines() == [
        "SPEAKER clip 1 1.000 1.500 <NA> <NA> SPEAKER_00 <NA> <NA>",
        "SPEAKER clip 1 3.123 0.877 <NA> <NA> SPEAKER_01 <NA> <NA>",
    ]


def test_round_trip_through_a_file_object() -> None:
    turns = [Turn(0.5, 1.25, "SPEAKER_00"), Turn(1.5, 7.12, "SPEAKER_01")]
    buffer = io.StringIO()
    write_rttm(turns, buffer, "x")
    buffer.seek(0)
    assert read_rttm(buffer) == {"x": turns}


def test_read_several_recordings_sorted(tmp_path: Path) -> None:
    path = tmp_path / "b.rttm"
    path.write_text(
        ";; a comment\n\n"
        "SPKR-INFO a 1 <NA> <NA> <NA> unknown s1 <NA>\n"
        "SPEAKER b 1 5.0 1.0 <NA> <NA> s2 <NA> <NA>\n"
        "SPEAKER a 1 2.0 1.0 <NA> <NA> s1 <NA> <NA>\n"
        "SPEAKER a 1 0.0 1.0 <NA> <NA> s2 <NA> <NA>\n"
    )
    got = read_rttm(path)
    assert list(got) == ["b", "a"]
    assert got["a"] == [Turn(0.0, 1.0, "s2"), Turn(2.0, 3.0, "s1")]


@pytest.mark.parametrize("line", ["SPEAKER a 1 0.0", "SPEAKER a 1 x 1.0 <NA> <NA> s <NA> <NA>",
                                  "SPEAKER a 1 0.0 -1 <NA> <NA> s <NA> <NA>"])
def test_malformed_lines(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.rttm"
    path.write_text(line + "\n")
    with pytest.raises(InputError, match="bad.rttm:1"):
        read_rttm(path)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_rttm(tmp_path / "missing.rttm")
    with pytest.raises(InputError):
        write_rttm([], tmp_path / "c.rttm", "has space")
    with pytest.raises(InputError):
        write_rttm([Turn(0, 1, "two words")], tmp_path / "c.rttm", "ok")


def test_reads_the_shared_references() -> None:
    folder = DATA / "diar_pyannote_sample"
    if not folder.exists():
        pytest.skip(f"shared recordings not found at {DATA.resolve()}")
    turns = read_rttm(folder / "sample.rttm")["sample"]
    assert len(turns) == 10 and {t.speaker for t in turns} == {"speaker90", "speaker91"}
    assert turns[0] == Turn(6.69, 7.12, "speaker90")
    falcon = read_rttm(DATA / "diar_picovoice_falcon" / "test.rttm")
    assert [t.speaker for t in falcon["test"]] == ["spk1", "spk2", "spk3"]
