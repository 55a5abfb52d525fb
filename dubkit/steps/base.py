"""What a step is: one typed item in, one result out, and a key naming everything the result
depends on. Steps touch only backend protocols; runners (``dubkit.runners``) own caching,
timing, progress, threads and files, so the same step serves a batch job and a live stream.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


class Codec(Protocol[ResultT]):
    """How a result is stored by a runner's cache: ``"json"`` (a JSON value), ``"audio"`` (an
    ``Audio``) or ``"record"`` (a JSON value that may vouch for an ``Audio`` beside it, as a
    pair ``(value, audio or None)``)."""

    form: str

    def encode(self, result: ResultT) -> Any:
        """What the store keeps."""

    def decode(self, stored: Any) -> ResultT:
        """The result again, from what the store kept."""


class Step(Protocol[ItemT, ResultT]):
    name: str  # where its results are stored (the cache folder)
    codec: Codec[ResultT]

    def key(self, item: ItemT) -> str:
        """sha256 of everything ``process(item)`` depends on (``dubkit.jobs.cache.content_key``)."""

    def process(self, item: ItemT) -> ResultT:
        """The result for ``item``."""

    def process_many(self, items: Sequence[ItemT]) -> list[ResultT]:
        """One result per item, in order (together, where the model batches)."""


class ItemStep(Generic[ItemT, ResultT]):
    """Base of steps that work one item at a time: ``process_many`` loops over ``process``."""

    name: str

    def process(self, item: ItemT) -> ResultT:
        raise NotImplementedError

    def process_many(self, items: Sequence[ItemT]) -> list[ResultT]:
        return [self.process(item) for item in items]


class JsonValue(Generic[ResultT]):
    """Results that are JSON values already (text, lists, dicts)."""

    form: ClassVar[str] = "json"

    def encode(self, result: ResultT) -> Any:
        return result

    def decode(self, stored: Any) -> ResultT:
        return stored


class AudioValue:
    """Results that are ``Audio``."""

    form: ClassVar[str] = "audio"

    def encode(self, result: Any) -> Any:
        return result

    def decode(self, stored: Any) -> Any:
        return stored


class Record(Protocol[ResultT]):
    """A ``"record"`` codec: says from the JSON value alone whether audio belongs with it."""

    form: str

    def has_audio(self, value: Any) -> bool:
        """Whether an ``Audio`` must be stored with ``value`` (a missing one is a miss)."""

    def encode(self, result: ResultT) -> tuple[Any, Any]:
        """``(value, audio or None)``."""

    def decode(self, stored: tuple[Any, Any]) -> ResultT:
        """The result from ``(value, audio or None)``."""


JSON: JsonValue[Any] = JsonValue()
AUDIO = AudioValue()
