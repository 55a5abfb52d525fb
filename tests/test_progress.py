from dubkit.progress import StageProgress
from dubkit.types import ProgressEvent


def test_counted_stage_reports_each_step_and_completes():
    events: list[ProgressEvent] = []
    with StageProgress(events.append, "synthesize", 3) as bar:
        bar.advance("a")
    assert [(e.done, e.total) for e in events] == [(0, 3), (1, 3), (3, 3)]


def test_single_step_stage_ends_as_one_of_one():
    events: list[ProgressEvent] = []
    with StageProgress(events.append, "vad", None):
        pass
    assert [(e.done, e.total) for e in events] == [(0, None), (1, 1)]


def test_failed_stage_does_not_claim_completion():
    events: list[ProgressEvent] = []
    try:
        with StageProgress(events.append, "vad", 2):
            raise RuntimeError
    except RuntimeError:
        pass
    assert [(e.done, e.total) for e in events] == [(0, 2)]
