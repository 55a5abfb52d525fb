"""``dubkit verify``: is dubkit's watermark in this file, and does the file match its manifest?"""
from __future__ import annotations

import json

import click

from dubkit.errors import InputError
from dubkit.registry import get_spec, load_class

NOT_FOUND_EXIT = 3  # found: 0; not found: 3; errors: 1 or 2 as everywhere


@click.command()
@click.argument("file", type=click.Path(path_type=str))
@click.option("--key", envvar="DUBKIT_WATERMARK_KEY", default=None, metavar="KEY",
              help="The key the dub was marked with (default: dubkit's public key). "
                   "Env: DUBKIT_WATERMARK_KEY.")
@click.option("--backend", default="layered", show_default=True,
              help="Watermark backend the file was marked with (layered also finds marks of "
                   "spread-spectrum alone).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.pass_context
def verify(ctx: click.Context, file: str, key: str | None, backend: str, as_json: bool) -> None:
    """Look for dubkit's watermark in FILE; exit 0 when found, 3 when not."""
    from dubkit.watermark.verify import verify_file

    if key is not None and not key.strip():
        raise InputError("the watermark key must not be empty")
    watermarker = load_class(get_spec("watermark", backend))(key=key)
    result = verify_file(file, watermarker)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        _print(result.to_dict())
    ctx.exit(0 if result.found else NOT_FOUND_EXIT)


def _print(d: dict) -> None:
    if d["watermark"]:
        where = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in d["ranges"]) or "whole file"
        if d["job_id"]:
            how = ("confirms the manifest's job id" if d["mode"] == "claimed"
                   else "read without the manifest")
            payload = f"job {d['job_id']} (format {d['format']}), {how}"
        else:
            payload = "payload not readable"
        click.echo(f"watermark found: {payload}, score {d['score']:.1f}, key {d['key_id']}, "
                   f"at {where}")
        if d.get("layers"):
            click.echo("  layers: " + ", ".join(
                f"{name} {'found' if layer['found'] else 'not found'} ({layer['score']:.1f})"
                for name, layer in d["layers"].items()))
            if not d["job_id"]:
                click.echo("  the key's mark survived, the job id did not (low-bitrate coding, "
                           "a speed change or sound mixed over the dub)")
    else:
        claimed = (f", {d['claimed_score']:.1f} for the manifest's job id"
                   if d.get("claimed_score") is not None else "")
        click.echo(f"no dubkit watermark found (score {d['blind_score']:.1f}{claimed}, key "
                   f"{d['key_id']}); a different key, noise, music or low-bitrate coding over "
                   "the dub also give this answer")
    if d["manifest"]:
        checks = d["manifest_checks"]
        words = {"file": ("file is exactly as dubkit wrote it",
                          "file differs from the one dubkit wrote (re-encoded or edited)"),
                 "key": ("same key id as the manifest", "manifest names another key id"),
                 "payload": ("payload matches the manifest", "payload differs from the manifest")}
        for name, ok in checks.items():
            click.echo(f"  manifest: {words[name][0] if ok else words[name][1]}")
