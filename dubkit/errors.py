"""dubkit's exceptions: one base class, a few named kinds, each with the exit code the CLI uses.

Anything a user can cause raises one of these (never an assert). Messages are one line that says
what is wrong and what to do.
"""
from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or its class name when it has none: how a reason
    from a library (or a job's error) is quoted in one line."""
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


class DubkitError(Exception):
    """Base class. ``exit_code`` 1 means the work failed; 2 means the request itself was wrong."""

    exit_code = 1


class InputError(DubkitError):
    """The request is wrong: a missing path, an unknown option value, an output that exists."""

    exit_code = 2


class UnsupportedLanguage(InputError):
    """A language code that is unknown, or that the chosen preset cannot handle."""


class UncertainLanguage(InputError):
    """The spoken language could not be told with confidence; the message names the likely
    candidates and asks for ``--from LANG``."""


class UnintelligibleVoice(InputError):
    """The target language's voice was measured unintelligible (Whisper could not read it back);
    ``--allow-unintelligible-voice`` dubs with it anyway."""


class PresetError(InputError):
    """An unknown preset, or a preset file that does not validate."""


class OutputExists(InputError):
    """The output path exists and was not written by this job; pass --force to replace it."""


class MediaError(DubkitError):
    """The media cannot be used: corrupt, truncated, no audio stream, zero length."""


class NoSpeech(DubkitError):
    """The media holds no speech, so there is nothing to dub."""


class ModelUnavailable(DubkitError):
    """A model could not be found in any of its sources; the message lists what was tried."""


class BackendUnavailable(DubkitError):
    """A backend's Python package is missing; the message names the pip extra to install."""


class ProjectError(DubkitError):
    """A job folder's project.json is unreadable or does not match the schema."""


class JobBusy(DubkitError):
    """Another dubkit process is working in the same job folder; the message names it."""


class DiskFull(DubkitError):
    """A write failed because the file system is full (or over quota); nothing partial is
    left under a final name."""


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM): handled like Ctrl-C, a clean and resumable
    stop."""
