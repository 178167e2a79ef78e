"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
`notifier serve`, PostgreSQL and SeaweedFS. Screenshots land in test-artifacts/screenshots
(or $NOTIFIER_TEST_ARTIFACTS/screenshots)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright

from notifier.devstack.servers import free_port
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, TOKEN
from tests.support import minio_body, record_for_stat

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NOTIFIER_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = (
    Path(os.environ.get("NOTIFIER_TEST_ARTIFACTS", REPO / "test-artifacts")) / "screenshots"
)
VIEWER = "browser-viewer-token-42"
HOSTILE_KEY = "hostile/<script>alert('key')</script><img src=x onerror=alert(2)>.csv"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package "
            "(scripts/ensure-chromium); or set NOTIFIER_TEST_CHROMIUM",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def audited(client, auth, s3_client, buckets, processor) -> dict[str, str]:
    """A small pipeline history through the live path: upload, webhook, worker."""
    uploads = {
        (buckets.raw, "flows/2026-11-29/part-0.csv"): b"src,dst\n" + b"a,b\n" * 120,
        (buckets.raw, "flows/2026-11-29/part-1.csv"): b"src,dst\n" + b"a,b\n" * 80,
        (buckets.silver, "clean/flows.parquet"): b"PAR1 but not really",
        (buckets.raw, HOSTILE_KEY): b"a,b\n1,2\n",
    }
    for (bucket, key), data in uploads.items():
        s3_client.put_object(bucket, key, io.BytesIO(data), len(data))
        body = minio_body(record_for_stat(s3_client, bucket, key))
        assert client.post("/events", data=body, headers=auth).status_code == 200
    assert client.post("/events", data=b"<b>garbage</b>", headers=auth).status_code == 202
    assert processor.drain() == len(uploads)
    return {"raw": buckets.raw, "silver": buckets.silver}


@pytest.fixture
def served(settings, buckets, audited) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(
        PYTHONPATH=str(REPO),
        NOTIFIER_DATABASE_URL=settings.database_url,
        NOTIFIER_S3_ENDPOINT=settings.s3.endpoint,
        NOTIFIER_S3_ACCESS_KEY=S3_ACCESS_KEY,
        NOTIFIER_S3_SECRET_KEY=S3_SECRET_KEY,
        NOTIFIER_AUTH_TOKEN=TOKEN,
        NOTIFIER_BUCKET_MAP=buckets.map_text(),
        NOTIFIER_DASHBOARD_TOKEN=VIEWER,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "notifier", "serve", "--no-workers", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _status(f"{base}/healthz") != 200:
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "notifier serve did not answer"
            time.sleep(0.05)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


class Watched:
    """A page whose console errors, uncaught exceptions and dialogs are recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog opened: {dialog.message}")
        dialog.dismiss()

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_every_page_shows_real_data_without_console_errors(chromium, served, audited):
    watched = Watched(chromium.new_page(viewport={"width": 1280, "height": 900}))
    page = watched.page

    page.goto(f"{served}/dashboard/")
    assert page.url.startswith(f"{served}/dashboard/login")
    page.fill("#token", "not the token")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "That token is not the viewer token."
    # The refused sign-in answers 401, which Chromium reports on the console; nothing else.
    assert len(watched.problems) == 1
    assert "401" in watched.problems.pop()
    page.fill("#token", VIEWER)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/dashboard/")

    last_runs = page.locator("#last-runs").inner_text()
    assert f"s3://{audited['raw']}/" in last_runs
    assert f"s3://{audited['silver']}/clean/flows.parquet" in last_runs
    page.wait_for_selector("#records-chart .uplot canvas")
    assert "ingestion" in page.locator("#records-chart").inner_text()  # the chart's legend
    watched.shot("overview")

    page.click("text=Problems")
    problems = page.locator("table.problems").inner_text()
    assert "clean/flows.parquet" in problems
    assert "error" in problems
    watched.shot("problems")

    page.click("text=Search")
    page.fill("#q", "<script>")
    page.click("form.search button")
    results = page.locator("#search-results").inner_text()
    assert HOSTILE_KEY in results  # shown as text, never run
    assert page.locator("#search-results img").count() == 0
    watched.shot("search-hostile-key")

    page.fill("#q", "flows/2026-11-29")
    page.click("form.search button")
    assert "2 row(s)" in page.locator("main").inner_text()
    watched.shot("search")

    page.click("text=Dead letters")
    assert "body is not JSON" in page.locator("#dead-letters").inner_text()
    watched.shot("dead-letters")

    page.click("text=Sign out")
    page.wait_for_url(f"{served}/dashboard/login")
    assert watched.problems == []


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except OSError:
        return None
