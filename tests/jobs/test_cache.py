import numpy as np
import pytest

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


@pytest.mark.parametrize("damage", [
    b"", b"{broken", b"\xff\xfe\x00", b"[" * 100_000, b'"x"', b'{"value": "x"}',
    b'{"format": 1, "sha256": "00", "value": "x"}',  # a hand edit: the checksum no longer fits
    b'{"format": 1, "sha256": "0", "value": [[1, 2, 3]]}',  # the wrong shape
])
def test_a_damaged_value_is_not_reused_and_is_counted(tmp_path, damage):
    cache = StageCache(tmp_path)
    cache.put_json("t", "k", [[0.0, 1.5]])
    (tmp_path / "t" / "k.json").write_bytes(damage)
    assert cache.get_json("t", "k") is None
    assert cache.repaired["t"] == 1 and cache.reused["t"] == 0
    cache.put_json("t", "k", [[0.0, 1.5]])
    assert cache.get_json("t", "k") == [[0.0, 1.5]]


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_sample(path):
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x40  # still a valid WAV, one sample changed
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [
    _truncate,
    lambda p: p.write_bytes(b""),
    lambda p: p.write_bytes(np.random.default_rng(1).bytes(4000)),
    _flip_sample,
    lambda p: p.with_name(p.name + ".json").unlink(),  # nothing vouches for it
    lambda p: p.with_name(p.name + ".json").write_text("{"),
])
def test_damaged_audio_is_not_reused(tmp_path, damage):
    cache = StageCache(tmp_path)
    audio = Audio(np.random.default_rng(0).uniform(-1, 1, 1600).astype(np.float32), 16000)
    path = cache.put_audio("fit", "k", audio)
    damage(path)
    assert cache.get_audio("fit", "k") is None
    assert cache.repaired["fit"] == 1


def test_entries_written_by_an_older_layout_are_recomputed(tmp_path):
    import json

    import soundfile as sf

    (tmp_path / "vad").mkdir()
    (tmp_path / "vad" / "k.json").write_text(json.dumps([[0.0, 1.0]]))  # bare value
    sf.write(tmp_path / "vad" / "a.wav", np.zeros(160, np.float32), 16000)  # no record
    cache = StageCache(tmp_path)
    assert cache.get_json("vad", "k") is None and cache.get_audio("vad", "a") is None


def test_audio_id_follows_the_samples():
    from dubkit.jobs.cache import audio_id

    a = Audio(np.zeros(1600, np.float32), 16000)
    assert audio_id(a) == audio_id(Audio(np.zeros(1600, np.float32), 16000))
    assert audio_id(a) != audio_id(Audio(np.zeros(1601, np.float32), 16000))
    assert audio_id(a) != audio_id(Audio(np.zeros(1600, np.float32), 8000))
    assert audio_id(a) != audio_id(Audio(np.zeros((2, 800), np.float32), 16000))


def test_another_dubkit_version_does_not_reuse_results(monkeypatch):
    from dubkit.jobs import cache

    key = content_key("transcribe", "abc", 1.0)
    monkeypatch.setattr(cache, "__version__", "99.0")
    assert content_key("transcribe", "abc", 1.0) != key
