"""What a batch is asked to dub: folders, manifests and their errors, one job per input and
language, nothing written before every job is known."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubkit.batch.items import collect_items, plan_jobs
from dubkit.errors import InputError
from dubkit.request import DubOptions


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_a_folder_is_walked_for_media_leaving_out_dubkits_own_files(tmp_path):
    a = _touch(tmp_path / "a.mp4")
    b = _touch(tmp_path / "season" / "b.wav")
    _touch(tmp_path / "notes.txt")
    _touch(tmp_path / "a.ja.mp4")  # a dub: its job folder is beside it
    (tmp_path / "a.ja.dubkit").mkdir()
    _touch(tmp_path / "a.ja.dubkit" / "segments" / "x.wav")
    _touch(tmp_path / ".hidden" / "c.mp4")
    items = collect_items([tmp_path], ["ja"], DubOptions())
    assert [i.input for i in items] == [a, b]
    assert all(i.languages == ("ja",) for i in items)


def test_csv_manifest_rows_carry_their_own_languages_and_options(tmp_path):
    _touch(tmp_path / "ep1.mp4")
    _touch(tmp_path / "media" / "ep2.mp4")
    (tmp_path / "consent.txt").write_text("Both speakers agreed.\n")
    manifest = tmp_path / "season.csv"
    manifest.write_text("input,languages,speakers,voice,consent,output,from\n"
                        "ep1.mp4,ja;es,2,keep,consent.txt,pilot,en\n"
                        "media/ep2.mp4,,,stock,,,\n")
    first, second = collect_items([manifest], ["fr"], DubOptions(background="duck"))
    assert first.input == tmp_path / "ep1.mp4" and first.languages == ("ja", "es")
    assert first.options.num_speakers == 2 and first.options.voice == "keep"
    assert first.options.consent.kind == "statement" and first.options.source_language == "en"
    assert first.options.background == "duck"  # the batch's options under the row's
    assert first.name == "pilot"
    assert second.languages == ("fr",) and second.options.voice == "stock"
    assert second.options.consent is None and second.name is None
    jobs = plan_jobs([first, second], tmp_path / "out")
    assert [j.output.name for j in jobs] == ["pilot.ja.mp4", "pilot.es.mp4", "ep2.fr.mp4"]


def test_jsonl_manifest(tmp_path):
    _touch(tmp_path / "ep1.mp4")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"input": "ep1.mp4", "languages": ["ja", "es"],
                                    "consent": "self"}) + "\n\n")
    [item] = collect_items([manifest], [], DubOptions())
    assert item.languages == ("ja", "es") and item.options.consent.kind == "self"


@pytest.mark.parametrize("rows, message", [
    ("input,language\nep1.mp4,ja\n", r"m.csv:2: unknown column 'language'; known: input"),
    ("input\nmissing.mp4\n", r"m.csv:2: .*missing.mp4 does not exist"),
    ("input,speakers\nep1.mp4,two\n", r"m.csv:2: 'speakers' must be a whole number"),
    ("input,voice\nep1.mp4,mine\n", r"m.csv:2: --voice 'mine' is not one of: keep, stock"),
    ("input,output\nep1.mp4,../x\n", r"m.csv:2: 'output' is a file name without a folder"),
    ("input\n", r"m.csv has no rows"),
])
def test_manifest_errors_name_the_row(tmp_path, rows, message):
    _touch(tmp_path / "ep1.mp4")
    (tmp_path / "m.csv").write_text(rows)
    with pytest.raises(InputError, match=message):
        collect_items([tmp_path / "m.csv"], ["ja"], DubOptions())


def test_bad_jsonl_line_is_named(tmp_path):
    (tmp_path / "m.jsonl").write_text('{"input": "a.mp4"}\n[1, 2\n')
    _touch(tmp_path / "a.mp4")
    with pytest.raises(InputError, match=r"m.jsonl:2: not a JSON object"):
        collect_items([tmp_path / "m.jsonl"], ["ja"], DubOptions())


def test_missing_inputs_and_languages_are_refused(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        collect_items([tmp_path / "nope.mp4"], ["ja"], DubOptions())
    with pytest.raises(InputError, match="holds no media files"):
        collect_items([tmp_path], ["ja"], DubOptions())
    _touch(tmp_path / "a.mp4")
    with pytest.raises(InputError, match="no target language for .*a.mp4: give --to"):
        collect_items([tmp_path / "a.mp4"], [], DubOptions())


def test_two_inputs_that_would_write_one_output_are_refused(tmp_path):
    a = _touch(tmp_path / "one" / "talk.mp4")
    b = _touch(tmp_path / "two" / "talk.mp4")
    items = collect_items([a, b], ["ja"], DubOptions())
    with pytest.raises(InputError, match="would both be dubbed into .*talk.ja.mp4"):
        plan_jobs(items, tmp_path / "out")
    # beside their inputs they do not collide; the same input given twice is one job
    assert len(plan_jobs(items, None)) == 2
    assert len(plan_jobs(collect_items([a, a], ["ja"], DubOptions()), None)) == 1
