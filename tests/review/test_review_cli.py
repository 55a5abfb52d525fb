"""``dubkit review`` on the command line: the URL with its token, the server answering it, a
clean stop on Ctrl-C, and one line for a path that is not a dub."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from dubkit.cli.main import cli
from dubkit.testing.workers import default_ctrl_c

pytest.importorskip("uvicorn", reason="dubkit[review] is not installed")

DUBKIT = (sys.executable, "-c", "from dubkit.cli.main import main; main()")


def test_a_path_that_is_not_a_dub_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["review", str(tmp_path / "talk.ja.mp4"), "--no-browser"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and "not a dub with a job folder" in line


@pytest.mark.slow
def test_the_server_answers_its_url_and_stops_on_ctrl_c(dub):
    server = subprocess.Popen([*DUBKIT, "review", str(dub), "--no-browser"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=default_ctrl_c)
    try:
        first = server.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/)\?token=(\S+)", first)
        assert url, first
        base, token = url.groups()
        with urllib.request.urlopen(f"{base}api/project?token={token}", timeout=30) as answer:
            assert json.loads(answer.read())["output"] == dub.name
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}api/project", timeout=30)
        assert refused.value.code == 401
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode in (0, 130), err
    assert "Traceback" not in err
