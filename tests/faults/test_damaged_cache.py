"""A damaged stage-cache entry is recomputed, never reused: the re-run is the undamaged job, and
project.json's ``work`` reports the entry as repaired."""
from __future__ import annotations

import json
import random

import pytest

pytestmark = pytest.mark.slow

STAGES = ("vad", "diarize", "transcribe", "translate", "synthesize", "fit")


def truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def empty(data: bytes) -> bytes:
    return b""


def zeroed(data: bytes) -> bytes:
    return bytes(len(data))


def random_bytes(data: bytes) -> bytes:
    return random.Random(len(data)).randbytes(len(data))


def wrong_shape(data: bytes) -> bytes:
    """Valid JSON that is not what was stored: a record of the right format whose value has
    another shape (its checksum is the damaged entry's own)."""
    try:
        entry = json.loads(data)
    except ValueError:
        entry = {}
    if not isinstance(entry, dict):
        entry = {}
    return json.dumps({**entry, "value": {"unexpected": [1, 2, 3]}, "bytes": 0}).encode()


DAMAGE = {"truncated": truncate, "emptied": empty, "zeroed": zeroed, "random": random_bytes,
          "wrong-shape": wrong_shape}


def damage_stage(folder, how) -> list[str]:
    """Damage every entry of one stage's cache folder; returns the names damaged. Audio
    entries have their samples damaged, except by ``wrong-shape``, which is about JSON: then
    the record that vouches for the audio is."""
    damaged = []
    for path in sorted(folder.iterdir()):
        is_audio = path.suffix == ".wav"
        is_record = path.name.endswith(".wav.json")
        if (how is wrong_shape and is_audio) or (how is not wrong_shape and is_record):
            continue
        path.write_bytes(how(path.read_bytes()))
        damaged.append(path.name)
    return damaged


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_entries_are_recomputed(kit, reference, tmp_path, kind):
    output = reference.copy_to(tmp_path / "job")
    cache = kit.paths_of(output).cache_dir
    for stage in STAGES:
        assert damage_stage(cache / stage, DAMAGE[kind]), f"no {stage} entries to damage"
    input_path = output.with_name(reference.input.name)
    result = kit.invoke("translate", str(input_path), *kit.JOB_ARGS)
    kit.assert_no_internal_error(result.stderr, result.stdout)
    assert result.exit_code == 0, result.stderr
    work = kit.load_project_json(output)["work"]
    for stage in STAGES:
        assert work[stage].get("repaired", 0) >= 1, (stage, work)
    kit.assert_same_job(kit.snapshot(output), reference.snapshot)
    # the same watermark payload (kept in project.json): the same bytes
    assert kit.sha256(output) == kit.sha256(reference.output)

    again = kit.invoke("translate", str(input_path), *kit.JOB_ARGS)
    assert again.exit_code == 0, again.stderr
    work = kit.load_project_json(output)["work"]
    assert not any(counts.get("repaired") for counts in work.values()), work
    assert not any(work[stage]["computed"] for stage in STAGES), work
