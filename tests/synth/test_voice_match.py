"""Stock voices matched to speakers by embedding."""
from __future__ import annotations

import numpy as np

from dubkit.synth.voice_match import assign_voices, gender_from_embedding


def _near(base: np.ndarray, noise: float, seed: int) -> np.ndarray:
    return base + noise * np.random.default_rng(seed).standard_normal(base.shape)


def test_each_speaker_gets_the_nearest_distinct_voice():
    rng = np.random.default_rng(0)
    v = {name: rng.standard_normal(64) for name in ("a", "b", "c")}
    speakers = {"S0": _near(v["c"], 0.3, 1), "S1": _near(v["a"], 0.3, 2)}
    assert assign_voices(speakers, v) == {"S0": "c", "S1": "a"}
    # both nearest to "a": one gets it, the other the next best distinct voice
    crowd = {"S0": _near(v["a"], 0.2, 3), "S1": _near(v["a"], 0.5, 4) + 0.6 * v["b"]}
    got = assign_voices(crowd, v)
    assert got["S0"] == "a" and got["S1"] == "b"
    # more speakers than voices: the extra one shares its nearest
    many = {f"S{i}": _near(v["abc"[i % 3]], 0.2, 10 + i) for i in range(4)}
    got = assign_voices(many, v)
    assert len(set(got.values())) == 3 and got["S3"] == "a"
    assert assign_voices({}, v) == {} and assign_voices(speakers, {}) == {}


def test_gender_is_the_side_of_the_voices_it_is_nearer_to():
    rng = np.random.default_rng(1)
    female_axis, male_axis = rng.standard_normal(64), rng.standard_normal(64)
    voices = {"f1": _near(female_axis, 0.4, 1), "f2": _near(female_axis, 0.4, 2),
              "m1": _near(male_axis, 0.4, 3)}
    genders = {"f1": "female", "f2": "female", "m1": "male"}
    assert gender_from_embedding(_near(male_axis, 0.5, 9), voices, genders) == "male"
    assert gender_from_embedding(_near(female_axis, 0.5, 8), voices, genders) == "female"
    halfway = female_axis / np.linalg.norm(female_axis) + male_axis / np.linalg.norm(male_axis)
    assert gender_from_embedding(halfway, {"f": female_axis, "m": male_axis},
                                 {"f": "female", "m": "male"}) is None
    assert gender_from_embedding(male_axis, {"f1": voices["f1"]}, {"f1": "female"}) is None
