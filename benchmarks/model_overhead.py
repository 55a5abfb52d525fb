"""Where a dub's wall time goes: each model's own work against the pipeline around it.

    python benchmarks/model_overhead.py ../shared/data/diar_pyannote_sample/sample.wav \
        ../shared/data/diar_picovoice_falcon/test.wav ../shared/data/en_jfk/jfk.flac \
        --to ja --preset fast

Every backend a job builds (VAD, diarizer and its speaker embedder, transcriber, translator,
synthesizers, voice conversion, separation, watermark) is timed from outside: building it
(loading its model) and every call of its public methods, a call made from inside another
timed call counted once, for the outer one. A job runs its steps one after another, so the
time inside a backend's calls is that backend's own work, as if it ran alone. The pipeline's
overhead is the wall time inside none of them: decoding, hashing, the cache, dubkit's own
signal processing between the models (pitch, prosody, fitting, mixing), muxing and files.

Several inputs are joined (as 16 kHz mono WAV) into one file first, as dub_file.py does.
"""
from __future__ import annotations

import functools
import inspect
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from dub_file import dub_arguments, dub_input  # the same input and options as dub_file.py

import dubkit.backends
from dubkit import Dubber, media

_inside = threading.local()  # depth of timed calls in this thread


class Ledger:
    """Seconds and calls per backend, for loading and for work."""

    def __init__(self) -> None:
        self.loading: dict[str, float] = defaultdict(float)
        self.work: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def timed(self, label: str, method: Any) -> Any:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(_inside, "depth", 0)
            if depth:
                return method(*args, **kwargs)
            _inside.depth = 1
            start = time.perf_counter()
            try:
                result = method(*args, **kwargs)
            finally:
                _inside.depth = 0
                self.work[label] += time.perf_counter() - start
                self.calls[label] += 1
            if inspect.isgenerator(result):
                return self._timed_iteration(label, result)
            return result
        return call

    def _timed_iteration(self, label: str, items: Any) -> Any:
        while True:
            _inside.depth = 1
            start = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                return
            finally:
                _inside.depth = 0
                self.work[label] += time.perf_counter() - start
            yield item

    def instrument(self, label: str, backend: Any) -> Any:
        """Time ``backend``'s public methods (instance attributes shadow the class's, so
        ``isinstance`` and attribute reads are unchanged), and its speaker embedder's, which
        steps reach through the diarizer."""
        for name in dir(type(backend)):
            if name.startswith("_") or not inspect.isfunction(getattr(type(backend), name)):
                continue
            try:
                setattr(backend, name, self.timed(label, getattr(backend, name)))
            except AttributeError:  # a read-only slot: left untimed (its time is overhead)
                pass
        embedder = getattr(backend, "embedder", None)
        if embedder is not None:
            self.instrument(f"{label}: speaker embedder", embedder)
        return backend


def main() -> int:
    args = dub_arguments(__doc__.splitlines()[0])

    ledger = Ledger()
    create = dubkit.backends.create_backend

    def create_timed(kind: str, *rest: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        backend = create(kind, *rest, **kwargs)
        ledger.loading[kind] += time.perf_counter() - start
        return ledger.instrument(kind, backend)

    dubkit.backends.create_backend = create_timed

    with tempfile.TemporaryDirectory() as tmp:
        work, name = dub_input(args.inputs, Path(tmp))
        duration = media.decode_audio(work).duration
        start = time.perf_counter()
        result = Dubber(preset=args.preset).translate(work, to=args.to,
                                                      source_language=args.source)
        wall = time.perf_counter() - start

    print(f"input: {name} ({duration:.2f} s), preset {args.preset}, "
          f"{result.source_language} -> {result.target_language}, "
          f"{len(result.segments)} lines")
    print("| backend | loading s | work s | calls |")
    print("|---|---:|---:|---:|")
    for label in sorted(set(ledger.loading) | set(ledger.work),
                        key=lambda k: -(ledger.loading[k] + ledger.work[k])):
        print(f"| {label} | {ledger.loading[label]:.2f} | {ledger.work[label]:.2f} | "
              f"{ledger.calls[label]} |")
    loading, work = sum(ledger.loading.values()), sum(ledger.work.values())
    overhead = wall - loading - work
    print(f"models: loading {loading:.2f} s, work {work:.2f} s; wall {wall:.2f} s "
          f"(RTF {wall / duration:.2f})")
    print(f"pipeline overhead: {overhead:.2f} s = {overhead / (loading + work):.1%} of the "
          f"models' loading and work, {overhead / work:.1%} of their work alone")
    print("job steps (s): " + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
