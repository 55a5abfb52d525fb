"""Voice, consent, background, mode, QA, provenance and verify on the sample with tiny models."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dubkit import Dubber
from dubkit.cli.main import cli
from dubkit.hashing import sha256_file
from dubkit.jobs.consent import STATEMENT_FILE, Consent
from dubkit.jobs.provenance import manifest_path

SAMPLE = Path(__file__).parents[1] / "samples" / "jfk.mp4"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dubber():
    return Dubber(preset="tiny-test")


@pytest.fixture
def talk(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "talk.mp4")
    return tmp_path / "talk.mp4"


def test_keeping_voices_without_consent_falls_back_to_stock_voices(dubber, talk):
    result = dubber.translate(talk, to="es", source_language="en")
    assert result.options["voice"] == "stock"
    assert any("consent" in note for note in result.notes)
    assert "convert" not in result.work
    assert result.options["consent"] is None


def test_consent_statement_keeps_voices_and_is_recorded(dubber, talk, tmp_path):
    statement = tmp_path / "consent.txt"
    statement.write_text("I, the speaker, agree that my voice is kept in the Spanish dub.\n")
    result = dubber.translate(talk, to="es", source_language="en", consent=statement,
                              voice="keep")
    assert result.options["voice"] == "keep" and not result.notes
    assert result.work["convert"]["computed"] >= 1
    record = result.options["consent"]
    assert record["kind"] == "statement"
    assert record["sha256"] == Consent.from_file(statement).sha256
    assert (result.job_dir / STATEMENT_FILE).read_text() == statement.read_text()
    profiles = json.loads((result.job_dir / "analysis" / "speakers.json").read_text())
    prosody = json.loads((result.job_dir / "analysis" / "prosody.json").read_text())
    assert set(profiles) == {s.id for s in result.speakers}
    assert set(prosody) == {s.id for s in result.segments}
    manifest = json.loads(manifest_path(result.output).read_text())
    assert manifest["consent"] == {"kind": "statement", "sha256": record["sha256"]}
    assert manifest["voice"] == "keep"


def test_stock_voice_needs_no_consent_and_converts_nothing(dubber, talk):
    result = dubber.translate(talk, to="es", source_language="en", voice="stock")
    assert result.options["voice"] == "stock" and not result.notes
    assert "convert" not in result.work
    qa = json.loads(result.qa_file.read_text())
    # measured by the diarizer's speaker model, and never a reason to review a stock voice
    assert qa["overview"]["overall"]["similarity_model"] == "mfcc"
    assert all(s["similarity"] is not None for s in qa["segments"])
    assert not any(i["check"] == "similarity" for s in qa["segments"] for i in s["issues"])


def test_a_kept_voice_is_held_to_the_speaker_models_limit_or_the_presets(talk, tmp_path,
                                                                           monkeypatch):
    from dubkit.analysis.mfcc_embedder import MfccEmbedder

    monkeypatch.setattr(MfccEmbedder, "same_speaker_threshold", 0.55)
    kept = Dubber(preset="tiny-test").translate(talk, to="es", source_language="en",
                                                voice="keep", consent=Consent.declared("declared"))
    assert json.loads(kept.qa_file.read_text())["thresholds"]["similarity"] == 0.55
    preset = (Path(__file__).parents[1] / "presets" / "tiny-test.toml").read_text()
    (tmp_path / "strict.toml").write_text(preset + "\n[qa]\nmin_similarity = 0.42\n")
    strict = Dubber(preset=str(tmp_path / "strict.toml")).translate(
        talk, to="es", source_language="en", voice="keep", consent=Consent.declared("declared"),
        output=tmp_path / "strict.mp4")
    assert json.loads(strict.qa_file.read_text())["thresholds"]["similarity"] == 0.42


def test_qa_report_and_provenance_describe_the_output(dubber, talk):
    result = dubber.translate(talk, to="es", source_language="en")
    qa = json.loads(result.qa_file.read_text())
    placed = [s for s in result.segments if s.placement is not None]
    assert [s["id"] for s in qa["segments"]] == [s.id for s in placed]
    for seg in qa["segments"]:
        assert seg["slot"] > 0 and 0.85 <= seg["tempo"] <= 1.2
    assert result.qa["overall"]["lines"] == len(placed)
    manifest = json.loads(result.provenance_file.read_text())
    assert manifest["output"]["sha256"] == sha256_file(result.output)
    assert manifest["input"]["sha256"] == sha256_file(talk)
    assert manifest["watermark"]["payload"] == result.options["watermark"]["payload"]
    assert "key" not in manifest["watermark"]  # only its id
    assert {m["name"] for m in manifest["models"]} == {"tiny-whisper", "tiny-t5", "tiny-vits"}
    assert manifest["synthesized"] and all(
        line["models"] == ["tiny-vits"] for line in manifest["synthesized"])


def test_watermark_payload_is_kept_across_reruns(dubber, talk):
    first = dubber.translate(talk, to="es", source_language="en")
    again = dubber.translate(talk, to="es", source_language="en")
    assert first.options["watermark"]["payload"] == again.options["watermark"]["payload"]


def test_a_watermark_key_changes_the_recorded_key_id(dubber, talk):
    default = dubber.translate(talk, to="es", source_language="en")
    keyed = dubber.translate(talk, to="es", source_language="en", watermark_key="s3cret",
                             force=True)
    assert default.options["watermark"]["key_id"] != keyed.options["watermark"]["key_id"]
    assert "s3cret" not in result_text(keyed)


def test_dubbed_lines_never_talk_over_each_other(dubber, talk):
    result = dubber.translate(talk, to="es", source_language="en")
    placed = sorted((s for s in result.segments if s.placement), key=lambda s: s.start)
    assert len(placed) >= 2
    for before, after in zip(placed, placed[1:]):
        if before.end <= after.start:  # the source lines did not overlap
            assert before.placement.end <= after.placement.start, (before, after)


def result_text(result) -> str:
    return (result.project_file.read_text() + result.provenance_file.read_text())


@pytest.mark.parametrize("background", ["duck", "drop"])
def test_verify_finds_the_mark_of_a_dub_and_not_in_the_source(talk, background):
    """Ducked, the original is mixed 15 dB under the dub; the mark is placed over it."""
    runner = CliRunner()
    out = runner.invoke(cli, ["translate", str(talk), "--preset", "tiny-test", "--to", "es",
                              "--from", "en", "--background", background, "--json"])
    assert out.exit_code == 0, out.output
    dubbed = Path(json.loads(out.stdout)["output"])
    found = runner.invoke(cli, ["verify", str(dubbed), "--json"])
    assert found.exit_code == 0, found.output
    report = json.loads(found.stdout)
    manifest = json.loads(manifest_path(dubbed).read_text())
    assert report["job_id"] == manifest["watermark"]["payload"]
    assert report["manifest_checks"] == {"file": True, "key": True, "payload": True}
    assert report["ranges"]
    assert report["layers"]["spread-spectrum"]["found"]
    assert report["layers"]["band-energy"]["found"]
    clean = runner.invoke(cli, ["verify", str(talk)])
    assert clean.exit_code == 3, clean.output
    other = runner.invoke(cli, ["verify", str(dubbed), "--key", "not-the-key"])
    assert other.exit_code == 3


@pytest.mark.parametrize("args, message", [
    (["--background", "keep"], "cannot separate"),
    (["--mode", "direct"], "no direct speech translator"),
    (["--consent", "missing.txt"], "does not exist"),
    (["--consent-self", "--i-have-consent"], "not several"),
])
def test_options_the_preset_cannot_serve_are_one_line_errors(talk, args, message):
    out = CliRunner().invoke(cli, ["translate", str(talk), "--preset", "tiny-test", "--to", "es",
                                   *args])
    assert out.exit_code == 2, out.output
    assert message in out.output
    assert "Traceback" not in out.output
    assert not (talk.parent / "talk.es.mp4").exists()


def test_empty_consent_statement_is_refused(talk, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    out = CliRunner().invoke(cli, ["translate", str(talk), "--preset", "tiny-test", "--to", "es",
                                   "--consent", str(empty)])
    assert out.exit_code == 2 and "is empty" in out.output


def test_consent_self_cannot_cover_several_speakers(dubber, tmp_path):
    from dubkit import media
    from dubkit.errors import InputError
    from dubkit.testing.signals import two_voices

    media.write_audio(two_voices()[0], tmp_path / "two.wav")
    with pytest.raises(InputError, match="only speaker, but 2 speakers"):
        dubber.translate(tmp_path / "two.wav", to="es", source_language="en", voice="keep",
                         consent=Consent.declared("self"))
    # stock voices need no consent, and a declaration for everyone covers both
    done = dubber.translate(tmp_path / "two.wav", to="es", source_language="en",
                            voice="keep", consent=Consent.declared("declared"))
    assert done.options["voice"] == "keep" and len(done.speakers) == 2


def test_a_source_already_in_the_target_language_is_refused_unless_asked(dubber, talk,
                                                                         monkeypatch):
    from dubkit.errors import InputError
    from dubkit.stages import analysis

    monkeypatch.setattr(analysis, "detect_language", lambda job, audio, regions: ("es", 0.97))
    with pytest.raises(InputError, match=r"already in Spanish \(es, detected\).*--from es"):
        dubber.translate(talk, to="es")
    revoiced = dubber.translate(talk, to="es", source_language="es")  # on purpose
    assert revoiced.source_language == "es" and revoiced.segments


def test_unknown_options_are_named(dubber, talk):
    from dubkit.errors import InputError

    with pytest.raises(InputError, match="unknown option 'voices'.*voice"):
        dubber.translate(talk, to="es", voices="keep")
    with pytest.raises(InputError, match="--mode 'fast' is not one of"):
        dubber.translate(talk, to="es", mode="fast")


def test_a_voice_measured_unintelligible_is_refused_unless_allowed(talk, monkeypatch):
    from dubkit.errors import UnintelligibleVoice
    from dubkit.synth import intelligibility

    dubber = Dubber(preset="tiny-test")
    name = dubber.pipeline.backends.get("synthesis").name
    monkeypatch.setitem(intelligibility.MEASURED, name, {"ja": 0.9, "es": 0.1})
    out = CliRunner().invoke(cli, ["translate", str(talk), "--preset", "tiny-test", "--to", "ja",
                                   "--from", "en"])
    assert out.exit_code == 2, out.output
    assert "unintelligible" in out.output and "intelligible voices: es" in out.output
    assert "--allow-unintelligible-voice" in out.output
    assert "Traceback" not in out.output and not (talk.parent / "talk.ja.mp4").exists()
    with pytest.raises(UnintelligibleVoice):
        dubber.translate(talk, to="ja", source_language="en")
    done = dubber.translate(talk, to="ja", source_language="en",
                            allow_unintelligible_voice=True)
    assert done.output.exists()
