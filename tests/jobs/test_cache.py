import numpy as np

from dubkit.jobs.cache import StageCache, content_key
from dubkit.types import Audio


def test_content_key_is_stable_and_sensitive():
    assert content_key("a", 1, {"x": 2}) == content_key("a", 1, {"x": 2})
    assert content_key("a", 1) != content_key("a", 2)


def test_json_round_trip_and_counters(tmp_path):
    cache = StageCache(tmp_path)
    assert cache.get_json("vad", "k") is None
    cache.put_json("vad", "k", [[0.0, 1.5]])
    assert cache.get_json("vad", "k") == [[0.0, 1.5]]
    assert cache.computed["vad"] == 1 and cache.reused["vad"] == 1


def test_audio_round_trip_is_lossless(tmp_path):
    cache = StageCache(tmp_path)
    audio = Audio(np.random.default_rng(0).uniform(-1, 1, 1600).astype(np.float32), 16000)
    cache.put_audio("synth", "k", audio)
    back = cache.get_audio("synth", "k")
    assert back.rate == 16000
    np.testing.assert_array_equal(back.samples, audio.samples)


def test_disabled_cache_reads_nothing_but_writes(tmp_path):
    StageCache(tmp_path).put_json("t", "k", "x")
    cache = StageCache(tmp_path, enabled=False)
    assert cache.get_json("t", "k") is None
    cache.put_json("t", "k", "y")
    assert StageCache(tmp_path).get_json("t", "k") == "y"


def test_damaged_entry_is_recomputed(tmp_path):
    cache = StageCache(tmp_path)
    cache.put_json("t", "k", "x")
    (tmp_path / "t" / "k.json").write_text("{broken")
    assert cache.get_json("t", "k") is None


def test_another_dubkit_version_does_not_reuse_results(monkeypatch):
    from dubkit.jobs import cache

    key = content_key("transcribe", "abc", 1.0)
    monkeypatch.setattr(cache, "__version__", "99.0")
    assert content_key("transcribe", "abc", 1.0) != key
