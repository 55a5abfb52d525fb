"""Where each line's dub may go: the source line's slot, the silence it may borrow, and never
over an earlier line's dub that ran late unless the source lines overlapped."""
from __future__ import annotations

import pytest

from dubkit.stages.speech import LINE_GAP, MIN_SQUEEZE, after_earlier_lines, slot_limit
from dubkit.types import Placement, Segment


def line(id_: str, start: float, end: float, placed_end: float | None = None) -> Segment:
    placement = None if placed_end is None else Placement(start, placed_end, 1.2, 0.0)
    return Segment(id_, start, end, "A", placement=placement)


def test_a_line_on_time_keeps_its_slot() -> None:
    earlier = [line("a", 0.0, 2.0, placed_end=2.0)]
    assert after_earlier_lines((2.5, 1.5), line("b", 2.4, 4.0), earlier) == (2.5, 1.5)


def test_a_late_line_pushes_the_next_back_and_it_keeps_its_end() -> None:
    earlier = [line("a", 0.0, 2.0, placed_end=2.8)]
    start, duration = after_earlier_lines((2.5, 1.5), line("b", 2.4, 4.0), earlier)
    assert start == pytest.approx(2.8 + LINE_GAP)
    assert start + duration == pytest.approx(4.0)  # less time, same end


def test_a_pushed_line_keeps_at_least_part_of_its_time() -> None:
    earlier = [line("a", 0.0, 2.0, placed_end=3.9)]
    start, duration = after_earlier_lines((2.5, 1.5), line("b", 2.4, 4.0), earlier)
    assert start == pytest.approx(3.9 + LINE_GAP)
    assert duration == pytest.approx(1.5 * MIN_SQUEEZE)


def test_lines_that_overlapped_in_the_source_may_overlap_in_the_dub() -> None:
    earlier = [line("a", 0.0, 3.0, placed_end=3.2)]  # "a" still spoke when "b" began
    assert after_earlier_lines((2.5, 1.5), line("b", 2.4, 4.0), earlier) == (2.5, 1.5)


def test_unplaced_lines_take_no_time() -> None:
    earlier = [line("a", 0.0, 2.0)]
    assert after_earlier_lines((2.5, 1.5), line("b", 2.4, 4.0), earlier) == (2.5, 1.5)


def test_borrowing_stops_at_the_next_line_and_is_none_under_overlap() -> None:
    a, b, c = line("a", 0.0, 2.0), line("b", 2.6, 4.0), line("c", 3.5, 6.0)
    assert slot_limit(a, [a, b, c], max_borrow=1.5) == pytest.approx(2.6)
    assert slot_limit(c, [a, b, c], max_borrow=1.5) == pytest.approx(7.5)
    assert slot_limit(b, [a, b, c], max_borrow=1.5) == pytest.approx(4.0)  # c starts inside b
