"""``dubkit live``: interpret speech from a microphone (or a recording at real-time pace) into
another language, phrase by phrase; ``dubkit devices``: the audio devices to choose from."""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from dubkit.cli.options import consent_from, consent_options, dub_options
from dubkit.errors import InputError
from dubkit.inputs import check_input_file
from dubkit.live.interpreter import DEFAULT_PRESET, Caption, Event, Interpreter, Notice, Speech

OUTPUT_RATE = 24_000  # Hz of the recording and the loudspeaker


@click.command()
@click.option("--to", "target", required=True, help="Language to speak (ISO 639-1, e.g. es).")
@click.option("--from", "source", default=None,
              help="Language spoken (default: detected from the first phrase).")
@click.option("--input", "input_file", default=None, type=click.Path(dir_okay=False, path_type=str),
              help="A recording fed at real-time pace, as if it were the microphone.")
@click.option("--input-device", type=int, default=None,
              help="Microphone index (see dubkit devices; default: the system's).")
@click.option("--output", "output_file", default=None, type=click.Path(dir_okay=False,
                                                                         path_type=Path),
              help="Record what would be played to this .wav, aligned with the input, "
                   "instead of playing it.")
@click.option("--output-device", type=int, default=None,
              help="Loudspeaker index (see dubkit devices; default: the system's).")
@click.option("--captions", "captions_file", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Write the translated captions to this .vtt (or .srt) as they come.")
@click.option("--preset", default=DEFAULT_PRESET, show_default=True, help="Preset to use.")
@click.option("--max-phrase", type=float, default=8.0, show_default=True,
              help="Seconds after which a phrase without a pause is cut and translated.")
@click.option("--fast", is_flag=True, help="With --input: feed the recording as fast as it is "
              "translated, not at real-time pace (for tests).")
@dub_options("voice", "allow_unintelligible_voice", "watermark_key")
@consent_options
@click.option("--force", is_flag=True, help="Replace existing --output / --captions files.")
def live(target: str, source: str | None, input_file: str | None, input_device: int | None,
         output_file: Path | None, output_device: int | None, captions_file: Path | None,
         preset: str, max_phrase: float, fast: bool, voice: str | None,
         allow_unintelligible_voice: bool, watermark_key: str | None, force: bool,
         **consent_flags: Any) -> None:
    """Interpret live: listen, and speak each phrase's translation as soon as it is final."""
    from dubkit.live.audio_io import (
        CaptionFile,
        DevicePlayer,
        DeviceSource,
        FileSource,
        Recorder,
    )
    from dubkit.live.session import run_session

    if input_file is not None and input_device is not None:
        raise InputError("give --input or --input-device, not both")
    if output_file is not None and output_device is not None:
        raise InputError("give --output or --output-device, not both")
    if fast and input_file is None:
        raise InputError("--fast feeds a recording: it needs --input")
    consent = consent_from(consent_flags)
    for path in (output_file, captions_file):
        if path is not None:
            _check_new_file(path, force, input_file)
    if output_file is not None:
        from dubkit.jobs.provenance import manifest_path

        _check_new_file(manifest_path(output_file), force, input_file)
    console = Console(stderr=True)
    source_audio = FileSource(check_input_file(input_file), realtime=not fast) \
        if input_file is not None else DeviceSource(input_device)
    captions = CaptionFile(captions_file) if captions_file is not None else None
    try:
        with console.status("loading models"):
            interpreter = Interpreter(preset, to=target, source=source, max_phrase=max_phrase,
                                      voice=voice, consent=consent,
                                      watermark_key=watermark_key,
                                      allow_unintelligible_voice=allow_unintelligible_voice)
            interpreter.warm_up()
    except KeyboardInterrupt:  # nothing was written yet: nothing to resume either
        console.print("stopped before listening")
        raise SystemExit(130) from None
    player = Recorder(output_file, OUTPUT_RATE) if output_file is not None \
        else DevicePlayer(output_device, OUTPUT_RATE)
    listening = "listening" if input_file is None else f"playing {Path(input_file).name}"
    console.print(f"[bold]{listening}[/] -> {interpreter.target} (Ctrl-C to stop)")
    try:
        report = run_session(interpreter, source_audio.chunks(), player, captions,
                             gate=output_file is None,
                             on_event=lambda event: _show(console, event,
                                                          interpreter.pending))
    except BaseException:
        if isinstance(player, Recorder):
            player.abandon()
        raise
    if output_file is not None:
        _write_manifest(output_file, input_file, interpreter, report)
    _summary(console, report.latencies, report.notices, report.interrupted, output_file,
             captions_file)


def _write_manifest(output: Path, input_file: str | None, interpreter: Interpreter,
                    report) -> None:
    """``<output>.provenance.json``, as ``translate`` writes: ``dubkit verify`` then confirms
    the session's own payload, a far stronger test than a blind search."""
    from dubkit.hashing import sha256_file
    from dubkit.jobs import provenance

    source = ({"name": Path(input_file).name, "sha256": sha256_file(Path(input_file))}
              if input_file is not None else {"name": "microphone", "sha256": None})
    data = provenance.manifest(
        input=source, output=output,
        languages={"source": interpreter.source, "target": interpreter.target},
        preset=interpreter.preset, models=provenance.without_silent_voices(
            interpreter.backends.model_records(), set(interpreter.models_speaking())),
        mode="live",
        voice="keep" if interpreter.keep_voice else "stock",
        consent={"kind": interpreter.consent.kind, "sha256": interpreter.consent.sha256}
        if interpreter.consent else None,
        watermark=interpreter.watermark_record(),
        synthesized=[{"start": round(a, 3), "end": round(b, 3), "speaker": "live"}
                     for _, a, b in report.played])
    provenance.write_json(provenance.manifest_path(output), data)


def _check_new_file(path: Path, force: bool, input_file: str | None) -> None:
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist")
    if input_file is not None and path.exists() and path.resolve() == Path(input_file).resolve():
        raise InputError(f"{path} is the input; choose another file")
    if path.exists() and not force:
        raise InputError(f"{path} exists; use --force to replace it")


def _show(console: Console, event: Event, pending: int) -> None:
    if isinstance(event, Caption) and event.revises:
        console.print(f"[dim]{event.start:7.1f}s revised, as one sentence:[/] "
                      f"[cyan]{event.target_text}[/]")
    elif isinstance(event, Caption):
        console.print(f"[dim]{event.start:7.1f}s[/] {event.source_text}\n"
                      f"         [bold cyan]{event.target_text}[/]")
    elif isinstance(event, Speech) and event.part == 0:
        waiting = f", {pending - 1} more waiting" if pending > 1 else ""
        console.print(f"[dim]         speaking after {event.latency:.2f} s{waiting}[/]")
    elif isinstance(event, Notice):
        console.print(f"[yellow]{event.text}[/]")


def _summary(console: Console, latencies: list[float], notices: list[str], interrupted: bool,
             output: Path | None, captions: Path | None) -> None:
    if interrupted:
        console.print("stopped")
    if latencies:
        p95 = sorted(latencies)[max(0, int(round(0.95 * len(latencies))) - 1)]
        console.print(f"{len(latencies)} phrases spoken; latency p50 "
                      f"{statistics.median(latencies):.2f} s, p95 {p95:.2f} s")
    skipped = sum("skipped" in n for n in notices)
    if skipped:
        what = "phrase was" if skipped == 1 else "phrases were"
        console.print(f"[yellow]{skipped} {what} skipped because translation fell behind[/]")
    for label, path in (("recording", output), ("captions", captions)):
        if path is not None:
            console.print(f"{label}: {path}")


@click.command()
def devices() -> None:
    """List the audio devices (index, name, inputs, outputs) for --input/--output-device."""
    from dubkit.live.audio_io import list_devices

    found = list_devices()
    if not found:
        raise InputError("no audio devices found")
    table = Table("index", "name", "inputs", "outputs", "rate")
    for d in found:
        table.add_row(str(d["index"]), d["name"], str(d["inputs"]), str(d["outputs"]),
                      f"{d['rate']:.0f}")
    Console().print(table)
