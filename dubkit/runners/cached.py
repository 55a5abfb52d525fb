"""The batch runner's core: each step's result looked up in a content-addressed ``StageCache``
under ``step.key(item)``, computed only when missing or damaged, and stored at once, so a job
killed at any point resumes from the last result written."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from dubkit.jobs.cache import StageCache
from dubkit.steps.base import Step

ResultT = TypeVar("ResultT")

_MISS = object()


class CachedRunner:
    """``run(step, item)``: the stored result or a new one (stored before it is returned)."""

    def __init__(self, cache: StageCache) -> None:
        self.cache = cache

    def run(self, step: Step[Any, ResultT], item: Any) -> ResultT:
        return self.run_keyed(step, item)[0]

    def run_keyed(self, step: Step[Any, ResultT], item: Any) -> tuple[ResultT, str]:
        """The result and the key it is stored under (what a later step's key builds on)."""
        key = step.key(item)
        found = self.lookup(step, key)
        if found is not _MISS:
            return found, key
        result = step.process(item)
        self.store(step, key, result)
        return as_stored(step, result), key

    def run_many(self, step: Step[Any, ResultT], items: Sequence[Any]) -> list[ResultT]:
        """One result per item; the missing ones computed together when the step batches
        (``process_many``), stored as each batch returns."""
        keys = [step.key(item) for item in items]
        found = [self.lookup(step, key) for key in keys]
        todo = [i for i, result in enumerate(found) if result is _MISS]
        if todo:
            computed = step.process_many([items[i] for i in todo])
            for i, result in zip(todo, computed, strict=True):
                self.store(step, keys[i], result)
                found[i] = as_stored(step, result)
        return found

    def lookup(self, step: Step[Any, ResultT], key: str) -> Any:
        """The stored result of ``step`` under ``key``, or ``_MISS`` (absent or damaged)."""
        form, cache = step.codec.form, self.cache
        if form == "json":
            value = cache.get_json(step.name, key)
            return _MISS if value is None else step.codec.decode(value)
        if form == "audio":
            audio = cache.get_audio(step.name, key)
            return _MISS if audio is None else step.codec.decode(audio)
        value = cache.get_json(step.name, key)  # "record": the value counts, its audio not
        if value is None:
            return _MISS
        audio = None
        if step.codec.has_audio(value):
            audio = cache.get_audio(step.name, key, count=False)
            if audio is None:
                return _MISS
        return step.codec.decode((value, audio))

    def store(self, step: Step[Any, ResultT], key: str, result: ResultT) -> None:
        form, cache = step.codec.form, self.cache
        if form == "json":
            cache.put_json(step.name, key, step.codec.encode(result))
        elif form == "audio":
            cache.put_audio(step.name, key, step.codec.encode(result))
        else:
            value, audio = step.codec.encode(result)
            if audio is not None:  # the audio first: the record vouches for it
                cache.put_audio(step.name, key, audio, count=False)
            cache.put_json(step.name, key, value)


def as_stored(step: Step[Any, ResultT], result: ResultT) -> ResultT:
    """``result`` as it will read back from the store: a job gives the same output whether a
    value was computed in this run or in an earlier one (JSON has lists, not tuples)."""
    form = step.codec.form
    if form == "audio":
        return result
    if form == "json":
        return step.codec.decode(json.loads(json.dumps(step.codec.encode(result))))
    value, audio = step.codec.encode(result)
    return step.codec.decode((json.loads(json.dumps(value)), audio))
