"""Several target languages from one analysis of the source (``--to ja,es``): the second job
reuses the first one's analysis, every language is checked before any work, and each job folder
stays whole on its own."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import dubkit
from dubkit.cli.main import cli
from dubkit.errors import InputError

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"
ANALYSIS = ("vad", "diarize", "transcribe")

pytestmark = pytest.mark.slow


@pytest.fixture
def talk(tmp_path) -> Path:
    shutil.copy(SAMPLE, tmp_path / "talk.mp4")
    return tmp_path / "talk.mp4"


def test_the_source_is_analysed_once_for_several_languages(talk):
    ja, es = dubkit.Dubber(preset="tiny-test").translate(talk, to=["ja", "es"],
                                                         source_language="en")
    assert ja.output.name == "talk.ja.mp4" and es.output.name == "talk.es.mp4"
    assert ja.output.is_file() and es.output.is_file()
    assert all(ja.work[s]["computed"] > 0 for s in ANALYSIS)
    assert all(es.work[s]["computed"] == 0 and es.work[s]["reused"] > 0 for s in ANALYSIS)
    assert es.work["translate"]["computed"] > 0  # the language's own work is its own
    assert [s.source_text for s in es.segments] == [s.source_text for s in ja.segments]
    # the Spanish job folder holds everything it used: it resumes alone, without the Japanese
    shutil.rmtree(ja.job_dir)
    again = dubkit.Dubber(preset="tiny-test").translate(talk, to="es", source_language="en")
    assert again.model_work == 0


def test_every_language_is_checked_before_the_first_job(talk):
    with pytest.raises(InputError):
        dubkit.Dubber(preset="tiny-test").translate(talk, to=["ja", "xx"],
                                                    source_language="en")
    assert sorted(p.name for p in talk.parent.iterdir()) == ["talk.mp4"]  # nothing written


@pytest.mark.parametrize("to, output, needle", [
    (["ja", "ja"], None, "once"),
    (["ja", "es"], "out.mp4", "beside the input"),
    ([], None, "once"),
])
def test_bad_language_lists(talk, to, output, needle):
    with pytest.raises(InputError, match=needle):
        dubkit.Dubber(preset="tiny-test").translate(
            talk, to=to, output=talk.parent / output if output else None)


def test_the_command_line_takes_a_comma_separated_list(talk):
    result = CliRunner().invoke(cli, ["translate", str(talk), "--to", "ja,es", "--from", "en",
                                      "--preset", "tiny-test", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["target_language"] for d in data] == ["ja", "es"]
    bad = CliRunner().invoke(cli, ["translate", str(talk), "--to", "ja,", "--preset",
                                   "tiny-test"])
    assert bad.exit_code == 2
