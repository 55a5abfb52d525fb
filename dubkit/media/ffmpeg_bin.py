"""Find the ffmpeg (and, when there is one, ffprobe) binary and run it.

Lookup order: ``$DUBKIT_FFMPEG``, ``ffmpeg`` on PATH, then the binary that imageio-ffmpeg ships
(which has no ffprobe beside it, so probing falls back to parsing ``ffmpeg -i``). ffprobe:
``$DUBKIT_FFPROBE`` (empty turns it off), the one beside ffmpeg, then the one on PATH.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache

from dubkit.errors import DiskFull, InputError, MediaError

# Lines that say only that something failed, not why: skipped when picking the line to report.
_GENERIC = re.compile(
    r"^(conversion failed!?|error opening (input|output) files?\b.*|"
    r"error (opening|initializing) output stream.*|exiting normally.*|"
    r"nothing was written into output file.*|task finished with error code.*|"
    r"terminating thread with return code.*|.*misdetection possible!?|"
    r"at least one output file must be specified|error while filtering.*|"
    r"error closing file.*|error writing trailer.*)$",
    re.IGNORECASE,
)
_CONTEXT = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\]\s*)+")  # "[flac @ 0x55...] "
_LEVEL = re.compile(r"^\[(error|fatal|panic|warning|info|verbose|debug|trace)\]\s*")


@cache
def ffmpeg_path() -> str:
    """Path of the ffmpeg binary dubkit runs."""
    env = os.environ.get("DUBKIT_FFMPEG")
    if env:
        found = shutil.which(env)
        if found is None:
            raise InputError(f"DUBKIT_FFMPEG={env} is not an executable file; fix or unset it")
        return found
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - a declared dependency
        raise MediaError(
            "no ffmpeg found: install ffmpeg, or `pip install imageio-ffmpeg`, or set DUBKIT_FFMPEG"
        ) from None
    return imageio_ffmpeg.get_ffmpeg_exe()


@cache
def ffprobe_path() -> str | None:
    """Path of an ffprobe to use: ``$DUBKIT_FFPROBE``, the one beside ffmpeg, the one on PATH,
    or None (imageio-ffmpeg ships none)."""
    env = os.environ.get("DUBKIT_FFPROBE")
    if env is not None:
        return shutil.which(env) if env else None  # DUBKIT_FFPROBE="" turns ffprobe off
    beside = os.path.join(os.path.dirname(ffmpeg_path()), "ffprobe")
    return shutil.which(beside) or shutil.which("ffprobe")


def clear_cache() -> None:
    """Forget the binaries found so far (after changing DUBKIT_FFMPEG / DUBKIT_FFPROBE)."""
    ffmpeg_path.cache_clear()
    ffprobe_path.cache_clear()
    encoders.cache_clear()
    ffmpeg_identity.cache_clear()


def error_line(stderr: bytes | str) -> str:
    """The most useful line of ffmpeg's stderr: the first specific message, with the generic
    "Invalid data ..." reason that often follows it appended when it differs."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    found: list[str] = []
    for raw in text.splitlines():
        line = _LEVEL.sub("", _CONTEXT.sub("", raw.strip()))
        line = re.sub(r"^error opening input( file)?:\s*", "", line, flags=re.IGNORECASE)
        if line.lower().startswith("error opening input files:"):
            line = line.split(":", 1)[1].strip()
        line = re.sub(r"^file:.+?: (?=[A-Z])", "", line)  # "file:a.mp4: Invalid data ..."
        if not line or _GENERIC.match(line) or line in found:
            continue
        found.append(line)
    if not found:
        return "ffmpeg failed without saying why"
    return "; ".join(found[:2])[:400]


def run_ffmpeg(args: Sequence[str], input: bytes | None = None) -> bytes:
    """Run ffmpeg quietly with ``args`` and return its stdout.

    Raises ``MediaError`` carrying ffmpeg's most useful stderr line when it exits non-zero.
    """
    cmd = [ffmpeg_path(), "-hide_banner", "-nostdin", "-v", "error", *args]
    try:
        proc = subprocess.run(
            cmd,
            input=input,
            capture_output=True,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except OSError as e:
        raise MediaError(
            f"cannot run ffmpeg at {cmd[0]}: {e}; set DUBKIT_FFMPEG to a working one"
        ) from e
    if proc.returncode != 0:
        reason = error_line(proc.stderr)
        if any(os.strerror(code) in reason for code in (errno.ENOSPC, errno.EDQUOT)):
            raise DiskFull(f"no space left on the device while ffmpeg wrote ({reason}): free "
                           "some space (or choose another output folder with -o), then run "
                           "the same command again")
        raise MediaError(f"ffmpeg failed: {reason}")
    return proc.stdout


@cache
def encoders() -> frozenset[str]:
    """Names of the encoders this ffmpeg build has (``ffmpeg -encoders``)."""
    out = run_ffmpeg(["-encoders"]).decode("utf-8", "replace")
    names = set()
    for line in out.splitlines():
        # " A....D libopus   libopus Opus (codec opus)"
        m = re.match(r"^\s*[VASD.][A-Z.]{5}\s+(\S+)\s", line)
        if m and m.group(1) != "=":
            names.add(m.group(1))
    return frozenset(names)


def has_encoder(name: str) -> bool:
    """Whether this ffmpeg build can encode with ``name`` (e.g. "libopus")."""
    return name in encoders()


@cache
def ffmpeg_identity() -> str:
    """A short string naming the ffmpeg (and ffprobe) builds in use, for cache keys: another
    version, other libraries or another configuration may decode the same file differently.

    e.g. ``"ffmpeg 5.1.9-0+deb12u1 avcodec=59.37.100 ... config=1a2b3c4d; ffprobe ..."``.
    """
    parts = [_identity("ffmpeg", ffmpeg_path())]
    probe = ffprobe_path()
    if probe is not None:  # probed durations and stream facts come from it
        parts.append(_identity("ffprobe", probe))
    return "; ".join(parts)


def _identity(name: str, exe: str) -> str:
    try:
        proc = subprocess.run([exe, "-version"], stdin=subprocess.DEVNULL, capture_output=True)
    except OSError as e:
        raise MediaError(f"cannot run {name} at {exe}: {e}; set DUBKIT_FFMPEG to a working one") \
            from e
    text = proc.stdout.decode("utf-8", "replace")
    first = text.splitlines()[0] if text.strip() else ""
    m = re.match(r"^\S+ version (\S+)", first)
    fields = [name, m.group(1) if m else (first[:80] or "unknown")]
    for lib, major, minor, micro in re.findall(
        r"^lib(\w+)\s+(\d+)\.\s*(\d+)\.\s*(\d+)", text, flags=re.MULTILINE
    ):
        fields.append(f"{lib}={major}.{minor}.{micro}")
    config = re.search(r"^configuration: (.*)$", text, flags=re.MULTILINE)
    if config:  # same version, other build options: other decoders (libdav1d, libopus, ...)
        fields.append("config=" + hashlib.sha256(config.group(1).encode()).hexdigest()[:8])
    return " ".join(fields)
