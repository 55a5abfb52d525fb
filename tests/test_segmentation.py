from dubkit.segmentation import segments_from_turns, split_turn
from dubkit.types import SpeechRegion, Turn


def test_short_turn_is_kept():
    assert split_turn(Turn(1, 5, "A"), [], 20) == [Turn(1, 5, "A")]


def test_long_turn_splits_at_its_longest_pause():
    regions = [SpeechRegion(0, 10), SpeechRegion(10.2, 14), SpeechRegion(15, 30)]
    parts = split_turn(Turn(0, 30, "A"), regions, 20)
    assert parts == [Turn(0, 14, "A"), Turn(15, 30, "A")]


def test_turn_without_pauses_is_cut_evenly():
    parts = split_turn(Turn(0, 50, "A"), [SpeechRegion(0, 50)], 20)
    assert len(parts) == 3
    assert all(p.duration <= 20 for p in parts)
    assert parts[0].start == 0 and parts[-1].end == 50


def test_segments_are_numbered_in_time_order():
    turns = [Turn(5, 6, "B"), Turn(0, 2, "A")]
    segs = segments_from_turns(turns, [], 20)
    assert [s.id for s in segs] == ["seg-0001", "seg-0002"]
    assert [s.speaker for s in segs] == ["A", "B"]
