"""The ``dubkit`` command group and its error handling.

Errors a user can cause print one line on stderr and exit 2 (the request was wrong) or 1 (the work
failed); a traceback only with ``--debug`` (or DUBKIT_DEBUG=1).
"""
from __future__ import annotations

import errno
import os
import signal
import sys

import click

from dubkit import __version__
from dubkit.errors import DubkitError, Terminated


class DubkitGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            what = "terminated" if isinstance(exc, Terminated) else "interrupted"
            click.echo(f"{what}: run the same command again to resume", err=True)
            ctx.exit(143 if isinstance(exc, Terminated) else 130)
        except BrokenPipeError:
            raise  # the reader went away: main() ends quietly
        except DubkitError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                click.echo(f"error: no space left on the device{where}: free some space, then "
                           "run the same command again", err=True)
            else:
                click.echo(f"error: {exc.strerror or exc}{where}", err=True)
            ctx.exit(1)
        except Exception as exc:  # an internal error: still one line unless --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            message = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(
                f"error: internal error ({type(exc).__name__}: {message}); "
                "run with --debug for the traceback and report it",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=DubkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="DUBKIT_DEBUG",
              help="Show tracebacks instead of one-line errors.")
@click.version_option(__version__, prog_name="dubkit")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Speech-to-speech translation and dubbing."""
    ctx.obj = {"debug": debug}


def _register() -> None:
    from dubkit.cli import (
        batch,
        diarize,
        doctor,
        live,
        models,
        presets,
        render,
        review,
        translate,
        verify,
    )

    cli.add_command(translate.translate)
    cli.add_command(render.render)
    cli.add_command(batch.batch)
    cli.add_command(review.review)
    cli.add_command(live.live)
    cli.add_command(live.devices)
    cli.add_command(diarize.diarize)
    cli.add_command(presets.presets)
    cli.add_command(doctor.doctor)
    cli.add_command(models.models)
    cli.add_command(verify.verify)


_register()


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signum)


def main() -> None:
    # Keep third-party libraries quiet on the user's terminal.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # dubkit draws its own progress
    # SIGTERM stops like Ctrl-C: the job records where it stopped, temporary files go
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(prog_name="dubkit", standalone_mode=True)
    except BrokenPipeError:
        # `dubkit presets | head -1`: the reader is gone; say nothing more on that pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)
    sys.exit(0)
