"""The stream runner: stages in threads, results in order, backpressure that drops the oldest
waiting item visibly, errors raised in the caller's thread, and a clean stop."""
from __future__ import annotations

import threading
import time

import pytest

from dubkit.runners.stream import Stage, StreamRunner


def test_results_come_in_order_through_every_stage():
    runner = StreamRunner([Stage("double", lambda x: 2 * x), Stage("plus", lambda x: x + 1)])
    for i in range(20):
        runner.put(i)
    runner.close()
    assert list(runner.results(timeout=5)) == [2 * i + 1 for i in range(20)]


def test_a_stage_may_drop_an_item():
    runner = StreamRunner([Stage("odd", lambda x: x if x % 2 else None)])
    for i in range(6):
        runner.put(i)
    runner.close()
    assert list(runner.results(timeout=5)) == [1, 3, 5]


def test_when_it_falls_behind_the_oldest_waiting_items_are_dropped_and_reported():
    release = threading.Event()
    dropped = []

    def slow(x):
        release.wait(5)
        return x

    runner = StreamRunner([Stage("slow", slow)], capacity=2, on_drop=dropped.append)
    for i in range(10):
        runner.put(i)
        time.sleep(0.01)  # the stage takes the first item and blocks on it
    release.set()
    runner.close()
    out = list(runner.results(timeout=5))
    assert out[0] == 0 and out[-2:] == [8, 9]  # the newest survive
    assert sorted(out + dropped) == list(range(10))  # nothing is lost without a notice
    assert dropped and runner.waiting == 0


def test_an_error_in_a_stage_reaches_the_caller():
    def fail(x):
        raise ValueError("boom")

    runner = StreamRunner([Stage("fail", fail)])
    runner.put(1)
    with pytest.raises(ValueError, match="boom"):
        runner.close(timeout=5)


def test_stop_drops_what_is_queued():
    release = threading.Event()
    runner = StreamRunner([Stage("wait", lambda x: release.wait(5) and x)], capacity=8)
    for i in range(5):
        runner.put(i)
    time.sleep(0.05)
    runner.stop()
    release.set()
    assert len(list(runner.results(timeout=5))) <= 1  # at most the item in flight
