"""The stream runner: steps driven item by item as audio arrives, one thread per stage, joined by
bounded queues of typed messages.

Each stage takes a message and gives the next one (or None to drop it). A full first queue is
backpressure: ``put`` waits, or, given ``on_drop``, drops the oldest waiting item and reports it
there, so a live runner that falls behind loses old phrases visibly instead of growing without
bound or holding up the microphone. An exception in a
stage stops the runner and is raised again from ``put``, ``results`` or ``close``.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_END = object()  # end of input, passed down the stages


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Any], Any]  # message -> next message, or None to drop it


class StreamRunner:
    """``put`` items in; ``results()`` yields what the last stage gives, in order.

    ``capacity`` bounds the first queue (``inner_capacity`` the others); when it is full,
    ``put`` waits, or with ``on_drop`` drops the oldest waiting item and calls
    ``on_drop(item)``.
    """

    def __init__(self, stages: list[Stage], capacity: int = 4,
                 on_drop: Callable[[Any], None] | None = None,
                 inner_capacity: int | None = None) -> None:
        if not stages:
            raise ValueError("a stream runner needs at least one stage")
        self.stages = stages
        self.on_drop = on_drop
        # ``inner_capacity`` (default ``capacity``) bounds the queues between stages: kept small,
        # what waits waits at the first queue, where ``on_drop`` applies
        inner = capacity if inner_capacity is None else inner_capacity
        self._queues = [queue.Queue(maxsize=capacity if i == 0 else inner)
                        for i in range(len(stages))]
        self._out: queue.Queue = queue.Queue()  # drained by the caller as results arrive
        self._error: BaseException | None = None
        self._stopping = threading.Event()
        self._put_lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, args=(i,), daemon=True,
                                          name=f"dubkit-{stage.name}")
                         for i, stage in enumerate(stages)]
        for thread in self._threads:
            thread.start()

    # -- input ---------------------------------------------------------------------------

    def put(self, item: Any) -> None:
        """Queue ``item`` for the first stage (see the class for a full queue)."""
        self._raise_error()
        first = self._queues[0]
        if self.on_drop is None:
            first.put(item)
            return
        with self._put_lock:
            while True:
                try:
                    first.put_nowait(item)
                    return
                except queue.Full:
                    try:
                        dropped = first.get_nowait()
                    except queue.Empty:
                        continue
                    if dropped is not _END:
                        self.on_drop(dropped)

    def close(self, timeout: float | None = None) -> None:
        """End of input: every stage finishes what it holds, then the threads end."""
        self._queues[0].put(_END)
        for thread in self._threads:
            thread.join(timeout)
        self._raise_error()

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop now (Ctrl-C): items still queued are dropped, the item each stage is working
        on is finished (a model is not left running while the process exits), and the threads
        end."""
        self._stopping.set()
        for q in self._queues:
            _drain(q)
            try:
                q.put_nowait(_END)
            except queue.Full:  # pragma: no cover - just drained
                pass
        for thread in self._threads:
            thread.join(timeout)

    # -- output --------------------------------------------------------------------------

    def results(self, timeout: float | None = None) -> Iterator[Any]:
        """What the last stage gave, in order, until the end of input (or ``timeout`` seconds
        without a result)."""
        while True:
            try:
                item = self._out.get(timeout=timeout)
            except queue.Empty:
                return
            if item is _END:
                self._raise_error()
                return
            yield item

    def poll(self) -> list[Any]:
        """Results ready now, without waiting."""
        out = []
        while True:
            try:
                item = self._out.get_nowait()
            except queue.Empty:
                break
            if item is _END:
                self._out.put(_END)  # still the end for ``results``
                break
            out.append(item)
        self._raise_error()
        return out

    def poll_error(self) -> None:
        """Raise a stage's error, if one happened."""
        self._raise_error()

    @property
    def waiting(self) -> int:
        """Items queued before the first stage."""
        return self._queues[0].qsize()

    # -- internals -----------------------------------------------------------------------

    def _work(self, index: int) -> None:
        stage, inbox = self.stages[index], self._queues[index]
        outbox = self._queues[index + 1] if index + 1 < len(self.stages) else self._out
        while True:
            item = inbox.get()
            if item is _END:
                if self._stopping.is_set():  # stop() has put an end in every queue already
                    try:
                        outbox.put_nowait(_END)
                    except queue.Full:
                        pass
                else:
                    outbox.put(_END)
                return
            if self._stopping.is_set() or self._error is not None:
                continue
            try:
                result = stage.run(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self._error = self._error or exc
                self._stopping.set()
                continue
            if result is not None and not self._stopping.is_set():
                outbox.put(result)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return
