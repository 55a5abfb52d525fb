"""The review page in a real browser (Playwright driving the system's headless Chromium): play a
line, edit its text, render, and only that line's dub changes; no token, no page."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="dubkit[review] is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="dubkit[review] is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from dubkit.review.server import create_app  # noqa: E402
from dubkit.review.session import ReviewSession, find_job  # noqa: E402

from .conftest import TOKEN, line_audio_hashes  # noqa: E402

CHROMIUM = os.environ.get("DUBKIT_CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian: "
                                 "apt-get install chromium; or set DUBKIT_CHROMIUM)")]


@pytest.fixture
def server(dub):
    """The review server of ``dub`` on a free port, in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    app = create_app(ReviewSession(find_job(dub)), TOKEN)
    running = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield browser.new_page(viewport={"width": 1400, "height": 900})
        browser.close()


def test_edit_a_line_and_render_it_in_the_browser(server, page, dub, tmp_path):
    assert page.goto(f"{server}/").status == 401  # no token, no page
    assert page.goto(f"{server}/?token=wrong").status == 401
    assert page.goto(f"{server}/?token={TOKEN}").status == 200
    page.wait_for_selector("#lines tbody tr[data-line='seg-0003']")
    assert page.locator("#timeline .block.dub").count() == 3
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    row = page.locator("#lines tbody tr[data-line='seg-0002']")
    row.locator(".play-dub").click()
    page.wait_for_selector("body[data-playing='dub:seg-0002']", timeout=10_000)

    job_dir = dub.with_name("talk.ja.dubkit")
    before, output_before = line_audio_hashes(job_dir), dub.read_bytes()
    row.locator("textarea.target").fill("こんにちは、みなさん")
    row.locator("textarea.target").press("Tab")  # "change": the edit is saved
    page.wait_for_selector("#lines tbody tr.edited[data-line='seg-0002']")
    assert page.locator("#render").is_enabled()
    page.locator("#render").click()
    page.wait_for_selector("body[data-render='done']", timeout=120_000)
    assert "rendered 1 line" in page.locator("#message").inner_text()
    page.screenshot(path=str(tmp_path / "review-rendered.png"), full_page=True)

    after = line_audio_hashes(job_dir)
    assert after["seg-0002"] != before["seg-0002"]
    assert {k: v for k, v in after.items() if k != "seg-0002"} == \
        {k: v for k, v in before.items() if k != "seg-0002"}
    assert dub.read_bytes() != output_before
    assert page.locator("#lines tbody tr[data-line='seg-0002'] textarea").input_value() == \
        "こんにちは、みなさん"
    assert Path(tmp_path / "review.png").stat().st_size > 10_000
