"""``dubkit review``: a local web page to listen to a dub line by line, edit it and render it
again."""
from __future__ import annotations

import errno
import socket
import webbrowser

import click

from dubkit.errors import BackendUnavailable, InputError


@click.command()
@click.argument("job", type=click.Path(path_type=str))
@click.option("--port", type=click.IntRange(0, 65535), default=0,
              help="Port on 127.0.0.1 (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the URL without opening a browser.")
@click.option("--watermark-key", envvar="DUBKIT_WATERMARK_KEY", default=None, metavar="KEY",
              help="The job's watermark key, if it was not dubkit's (renders need it). Env: "
                   "DUBKIT_WATERMARK_KEY.")
def review(job: str, port: int, no_browser: bool, watermark_key: str | None) -> None:
    """Review the dub JOB (the output of `dubkit translate`, or its .dubkit folder) in the
    browser: play lines against the original, edit them, render again. Ctrl-C stops it."""
    try:
        import uvicorn

        from dubkit.review.server import create_app, new_token
    except ImportError:
        raise BackendUnavailable("the review page needs its web server: pip install "
                                 "'dubkit[review]'") from None
    from dubkit.review.session import ReviewSession, find_job

    session = ReviewSession(find_job(job), watermark_key)
    token = new_token()
    sock = _listen(port)
    address = f"http://127.0.0.1:{sock.getsockname()[1]}/?token={token}"
    click.echo(f"reviewing {session.job_dir} at {address}")
    click.echo("(Ctrl-C stops the server)")
    if not no_browser:
        webbrowser.open(address)
    config = uvicorn.Config(create_app(session, token), log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InputError(f"port {port} is in use: choose another with --port, or leave "
                             "it out for a free one") from None
        raise
    sock.listen(64)
    return sock
