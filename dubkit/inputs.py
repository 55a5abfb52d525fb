"""The door: every path and option a user gives is checked here, once, with errors that say
what is accepted. Inner code trusts what passed."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dubkit.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a")
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS


def check_input_file(path: str | os.PathLike[str]) -> Path:
    """An existing, readable, non-empty media file with a supported extension."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"input {p} does not exist")
    if p.is_dir():
        raise InputError(f"input {p} is a directory; give a media file")
    if p.suffix.lower() not in MEDIA_EXTENSIONS:
        raise InputError(
            f"input {p} has an unsupported extension {p.suffix or '(none)'!r}; "
            f"accepted: {', '.join(MEDIA_EXTENSIONS)}"
        )
    if not os.access(p, os.R_OK):
        raise InputError(f"input {p} is not readable")
    if p.stat().st_size == 0:
        raise InputError(f"input {p} is empty (0 bytes)")
    return p.resolve()


def check_output_file(output: Path, input_path: Path) -> Path:
    """An output path whose folder exists and is writable, with a media extension that fits the
    input (video in, same container out; audio in, any audio format out)."""
    out = Path(output).expanduser()
    if out.is_symlink():
        raise InputError(f"output {out} is a symbolic link (to {os.readlink(out)}); dubkit "
                         "does not write through links: give the real path with -o")
    # the folder may be reached through links; the file itself is never one
    out = out.parent.resolve() / out.name
    if out == input_path:
        raise InputError(f"output {out} is the input itself; choose another path with -o")
    if out.is_dir():
        raise InputError(f"output {out} is a directory; give a file name")
    ext = out.suffix.lower()
    source_ext = input_path.suffix.lower()
    # video keeps its container (the video stream is copied); audio may change format
    allowed = (source_ext,) if source_ext in VIDEO_EXTENSIONS else AUDIO_EXTENSIONS
    if ext not in allowed:
        raise InputError(
            f"output {out.name} must end in {', '.join(allowed)} for a {input_path.suffix} input"
        )
    folder = out.parent
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    try:  # a real write: os.access says yes to root even on read-only file systems
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        raise InputError(f"output folder {folder} is not writable; choose another with -o") \
            from None
    return out
