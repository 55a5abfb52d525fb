"""``dubkit translate``: dub a media file into another language."""
from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from dubkit.api import DEFAULT_PRESET, Dubber, DubResult
from dubkit.cli.progress import RichProgress
from dubkit.jobs.consent import Consent


@click.command()
@click.argument("input", type=click.Path(dir_okay=True, path_type=str))
@click.option("--to", "target", required=True, metavar="LANG[,LANG...]",
              help="Target language, ISO 639-1 (ja, es, fr, de, en, ...); several, comma-"
                   "separated, dub each from one analysis of the source.")
@click.option("--from", "source", metavar="LANG", default=None,
              help="Source language; detected when omitted.")
@click.option("-o", "--output", type=click.Path(path_type=str), default=None,
              help="Output file (default: <input stem>.<LANG>.<ext> beside the input).")
@click.option("--preset", default=DEFAULT_PRESET, show_default=True,
              help="Preset name (see `dubkit presets`) or a .toml file.")
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Reuse finished work in the job folder.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--keep-original/--no-keep-original", default=True, show_default=True,
              help="Keep the original audio as a second track (video only).")
@click.option("--num-speakers", type=int, default=None, help="Number of speakers, if known.")
@click.option("--voice", type=click.Choice(["keep", "stock"]), default=None,
              help="keep: each line in its speaker's voice (needs consent; the default where "
                   "the preset can); stock: the synthesizer's voices.")
@click.option("--consent", "consent_file", type=click.Path(dir_okay=False, path_type=str),
              default=None, help="A statement of the speakers' consent to keep their voices "
                                 "(stored with the job, hashed into the provenance).")
@click.option("--consent-self", is_flag=True, help="Declare that you are the only speaker.")
@click.option("--i-have-consent", is_flag=True,
              help="Declare that you hold every speaker's consent to keep their voice.")
@click.option("--background", type=click.Choice(["keep", "duck", "drop"]), default=None,
              help="Music and effects: keep them under the dub (separated), duck the whole "
                   "original under it, or drop them (default: the preset's).")
@click.option("--mode", type=click.Choice(["cascade", "direct", "text-then-tts"]),
              default=None,
              help="direct: a speech-to-speech model speaks the translation; text-then-tts: "
                   "its text is spoken by the synthesizer; cascade: ASR, text MT, synthesis "
                   "(default: the preset's).")
@click.option("--watermark-key", envvar="DUBKIT_WATERMARK_KEY", default=None, metavar="KEY",
              help="Secret key of the watermark (default: dubkit's public key). "
                   "Env: DUBKIT_WATERMARK_KEY.")
@click.option("--audio-track", type=click.IntRange(min=0), default=None, metavar="N",
              help="Which audio track to dub, counted from 0 (default: the one marked "
                   "default, else the first). Other tracks are kept after the original.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def translate(input: str, target: str, source: str | None, output: str | None, preset: str,
              resume: bool, force: bool, keep_original: bool, num_speakers: int | None,
              voice: str | None, consent_file: str | None, consent_self: bool,
              i_have_consent: bool, background: str | None, mode: str | None,
              watermark_key: str | None, audio_track: int | None, as_json: bool) -> None:
    """Dub INPUT (video or audio) into language --to."""
    consent = consent_from_options(consent_file, consent_self, i_have_consent)
    targets = [t.strip() for t in target.split(",")]
    if not all(targets):
        raise click.UsageError(f"--to {target!r}: give languages separated by commas")
    console = Console(stderr=True)
    with RichProgress(console) as progress:
        dubber = Dubber(preset=preset, progress=progress, keep_models=False)  # one file
        results = dubber.translate(
            input, to=targets if len(targets) > 1 else targets[0], source_language=source,
            output=output, resume=resume, force=force, keep_original=keep_original,
            num_speakers=num_speakers, voice=voice, background=background, consent=consent,
            watermark_key=watermark_key, mode=mode, audio_track=audio_track,
        )
    results = results if isinstance(results, list) else [results]
    for note in dict.fromkeys(n for r in results for n in r.notes):
        console.print(f"[yellow]note:[/] {note}")
    if as_json:  # one object, or a list of them for several languages
        data = [r.to_dict() for r in results]
        click.echo(json.dumps(data if len(data) > 1 else data[0], ensure_ascii=False))
    else:
        for result in results:
            _summary(Console(), result)


def consent_from_options(consent_file: str | None, consent_self: bool,
                         i_have_consent: bool) -> Consent | None:
    """The consent the options state (at most one of them), or None."""
    given = [flag for flag, on in (("--consent", consent_file is not None),
                                   ("--consent-self", consent_self),
                                   ("--i-have-consent", i_have_consent)) if on]
    if len(given) > 1:
        raise click.UsageError(f"give one of {', '.join(given)}, not several")
    return (Consent.from_file(consent_file) if consent_file is not None
            else Consent.declared("self") if consent_self
            else Consent.declared("declared") if i_have_consent else None)


def _summary(console: Console, result: DubResult) -> None:
    console.print(
        f"[bold]Dubbed[/] {result.source_language} -> {result.target_language}: "
        f"{len(result.segments)} lines, {len(result.speakers)} speakers -> {result.output}"
    )
    for lang, path in result.subtitles.items():
        console.print(f"  subtitles ({lang}): {path}")
    console.print(f"  job folder: {result.job_dir}")
    if result.provenance_file:
        console.print(f"  provenance: {result.provenance_file}")
    _qa_table(console, result)
    table = Table("stage", "seconds", "computed", "reused", box=None, pad_edge=False)
    for stage, seconds in result.timings.items():
        work = result.work.get(stage, {})
        table.add_row(stage, f"{seconds:.2f}", str(work.get("computed", "")),
                      str(work.get("reused", "")))
    console.print(table)


def _qa_table(console: Console, result: DubResult) -> None:
    """The QA summary: how close the dub is to the source, and the lines to review."""
    qa = result.qa
    if not qa:
        return
    overall = qa.get("overall", {})
    console.print(
        f"  quality: speaker similarity {_fmt(overall.get('speaker_similarity'))}, "
        f"intonation correlation {_fmt(overall.get('f0_correlation'))}, "
        f"lines within 10% of their slot {_fmt(overall.get('within_slot'), pct=True)} "
        f"({result.qa_file})"
    )
    review = qa.get("review", [])
    if review:
        table = Table("line", "speaker", "why", box=None, pad_edge=False,
                      title=f"{len(review)} lines to review", title_justify="left")
        for item in review[:20]:
            table.add_row(item["id"], item.get("speaker", ""), "; ".join(item["reasons"]))
        console.print(table)


def _fmt(value, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.0f}%" if pct else f"{value:.2f}"
