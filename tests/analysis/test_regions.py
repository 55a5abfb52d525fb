from dubkit.analysis.regions import RegionTracker
from dubkit.types import SpeechRegion


def track(decisions, **kw):
    options = dict(min_speech=0.25, min_silence=0.3, padding=0.1) | kw
    t = RegionTracker(hop=10, win=10, rate=100, **options)  # 0.1 s frames
    for i, speech in enumerate(decisions):
        t.step(i, speech)
    return t


def test_short_gaps_join_long_gaps_split_and_padding_never_overlaps():
    t = track([1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0])
    assert t.release(0.5) == []  # its padded end (0.7 s) is not decided yet
    assert t.release(1.0) == [SpeechRegion(0.0, 0.7)]
    assert t.release(1.5) == [SpeechRegion(0.8, 1.3)]  # closed by the three silent frames
    assert t.finish(1.5) == []


def test_too_short_speech_is_dropped_and_the_end_is_clamped():
    t = track([0, 1, 0, 0, 0, 0, 1, 1, 1])
    assert t.release(0.9) == []
    assert t.finish(0.9) == [SpeechRegion(0.5, 0.9)]
