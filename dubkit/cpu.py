"""How many CPU threads dubkit's own work may use: ``$DUBKIT_NUM_THREADS`` when set, else the
cores this process may run on (a container or ``taskset`` may allow fewer than the machine has)."""
from __future__ import annotations

import os

from dubkit.errors import InputError


def wanted_threads() -> int | None:
    """``$DUBKIT_NUM_THREADS`` as a count (at least 1), or None when it is not set."""
    wanted = os.environ.get("DUBKIT_NUM_THREADS")
    if not wanted:
        return None
    try:
        return max(1, int(wanted))
    except ValueError:
        raise InputError(f"DUBKIT_NUM_THREADS={wanted!r} is not a whole number of threads") \
            from None


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_threads() -> int:
    """``$DUBKIT_NUM_THREADS``, else the usable cores."""
    return wanted_threads() or usable_cores()
