"""A watermark key, however it is given, marks the dub but is never written: not in the job
folder, not beside the output, not in the output's bytes, not on stdout or stderr."""
from __future__ import annotations

from pathlib import Path

import pytest

from dubkit.watermark.base import key_id

pytestmark = pytest.mark.slow

PRESET = Path(__file__).parents[2] / "presets" / "tiny-test.toml"


def written(folder):
    """Every file under ``folder``, the job folder's included."""
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("given", ["option", "environment", "preset file"])
def test_the_key_is_never_written(kit, reference, tmp_path, given):
    key = f"secretKey4{given.replace(' ', '')}Xq7Zt9"
    output = reference.copy_to(tmp_path / "job")
    input_path = output.with_name(reference.input.name)
    args, env = ["translate", str(input_path), *kit.JOB_ARGS, "--json"], None
    if given == "option":
        args += ["--watermark-key", key]
    elif given == "environment":
        env = {"DUBKIT_WATERMARK_KEY": key}
    else:
        preset = tmp_path / "keyed.toml"
        preset.write_text(PRESET.read_text() + f'\n[watermark]\nbackend = "spread-spectrum"\n'
                                               f'key = "{key}"\n')
        args[args.index("tiny-test")] = str(preset)
    result = kit.invoke(*args, env=env)
    kit.assert_no_internal_error(result.stderr, result.stdout)
    assert result.exit_code == 0, result.stderr

    # the key was used: its id is recorded, and verify finds the job's mark with it
    recorded = kit.load_project_json(output)["options"]["watermark"]
    assert recorded["key_id"] == key_id(key)
    found = kit.invoke("verify", str(output), "--key", key, "--json")
    assert found.exit_code == 0, found.stdout + found.stderr
    assert f'"job_id": "{recorded["payload"]}"' in found.stdout

    users = tmp_path / "keyed.toml"  # the preset file the user wrote holds it, of course
    leaks = [p for p in written(tmp_path) if p != users and key.encode() in p.read_bytes()]
    assert leaks == []
    assert key not in result.stdout and key not in result.stderr
