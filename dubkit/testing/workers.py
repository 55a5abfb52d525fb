"""Work run in child processes by tests that must survive whatever a file does to dubkit: each
answer is ``("ok", detail)``, ``(a DubkitError's class name, its message)`` or ``("crash", the
traceback)``. They live in an importable module so that a *spawned* pool can run them: a forked
child of a process that already ran torch can deadlock in torch's thread pool."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable


def default_ctrl_c() -> None:
    """``preexec_fn`` of a child that a test stops with SIGINT, as Ctrl-C would: a shell
    without job control (``cmd &``, nohup, some CI runners) starts its children with SIGINT
    ignored, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def limit_memory(limit: int) -> None:
    """Pool initializer: at most ``limit`` bytes of address space."""
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def outcome(call: Callable[[], object]) -> tuple[str, str]:
    from dubkit.errors import DubkitError

    try:
        return "ok", str(call())
    except DubkitError as e:
        return type(e).__name__, str(e)
    except BaseException:  # noqa: BLE001 - what the tests look for
        return "crash", traceback.format_exc(limit=6)


def probe_and_decode(path: str) -> tuple[str, str]:
    """Probe ``path`` and decode it as the pipeline does."""
    from dubkit import media

    def run() -> str:
        info = media.probe(path)
        audio = media.decode_audio(path, rate=16_000, mono=True)
        return f"{len(info.streams)} streams, {audio.duration:.3f} s"

    return outcome(run)


def tiny_dub(path: str, output: str) -> tuple[str, str]:
    """A whole ``tiny-test`` dub of ``path`` into Spanish, and the output's duration."""
    import dubkit
    from dubkit import media

    def run() -> str:
        result = dubkit.Dubber(preset="tiny-test").translate(
            path, to="es", output=output, source_language="en")
        return f"{media.decode_audio(result.output).duration:.2f} s"

    return outcome(run)


_HOLD_LOCK = ("import sys, time\nfrom dubkit.jobs.lock import job_lock\n"
              "with job_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)\n")


def hold_job_lock(job_dir: str | os.PathLike[str]) -> subprocess.Popen:
    """Another process holding ``job_dir``'s lock (as a second dubkit would) until it is
    killed; returns once the lock is held."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(job_dir)],
                              stdout=subprocess.PIPE, text=True)
    if holder.stdout.readline().strip() != "held":
        holder.kill()
        raise RuntimeError(f"could not hold the lock of {job_dir}")
    return holder
