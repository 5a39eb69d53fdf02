"""The UI, driven by a real browser: `dagster dev` on a temporary home, the asset graph, a
backfill of two sample days launched from raw_questions' Materialize dialog, the automation
sensor carrying those days on to `questions`, their embeddings and `eda_report` with no hand
launch, and eda_report's plots on its page.
Screenshots are kept under test-artifacts/browser/ (SO_ASSETS_TEST_ARTIFACTS to move them)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from so_assets.storage.embedding_kinds import TOKENS, VECTORS
from so_assets_tests.conftest import REPO, instance_home
from so_assets_tests.deploy.services import CHROMIUM, CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.slow
DAYS = ("2024-03-01", "2024-03-02")
ARTIFACTS = Path(os.environ.get("SO_ASSETS_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(2)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")


@pytest.fixture
def dagster_dev(tmp_path) -> Iterator[tuple[str, Path]]:
    """`dagster dev` (webserver and daemon) on a temporary home and data folder."""
    require_chromium()
    home = instance_home(tmp_path / "home")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "SO_ASSETS_DATA_DIR": str(tmp_path / "data"),
           "HF_HUB_OFFLINE": "1"}
    env.pop("SO_ASSETS_FIRST_DAY", None)  # the sample's own first day, as a user sees it
    log = (tmp_path / "dagster_dev.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-m", "so_assets.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return urllib.request.urlopen(f"{url}/server_info", timeout=2).status == 200
        except OSError:
            return server.poll() is not None and pytest.fail(
                (tmp_path / "dagster_dev.log").read_text()[-3000:])

    try:
        wait_for(up, 120, "dagster dev to serve")
        yield url, home
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def dismiss_newsletter(page) -> None:
    """The first visit asks for an e-mail address in a modal: skip it once it shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=10_000)
    except PlaywrightTimeout:
        return
    skip.click()
    skip.wait_for(state="hidden")


def latest(home: Path, key: str) -> dg.EventLogRecord | None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.fetch_materializations(dg.AssetKey(key), limit=1).records
    return records[0] if records else None


def test_backfill_two_days_from_the_ui_and_see_the_eda_plots(dagster_dev):
    from playwright.sync_api import expect, sync_playwright

    url, home = dagster_dev
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)

        page.goto(f"{url}/asset-groups")
        expect(page.get_by_text("ingestion").first).to_be_visible()
        dismiss_newsletter(page)
        page.screenshot(path=ARTIFACTS / "1_asset_graph.png")

        page.goto(f"{url}/assets/raw_questions")
        materialize = page.get_by_role("button", name="Materialize…").first
        materialize.wait_for()
        dismiss_newsletter(page)
        materialize.click()
        dialog = page.get_by_role("dialog")
        launch = dialog.get_by_role("button", name="Launch backfill")
        launch.wait_for()
        # the dialog offers the last 90 days first; the sample lies further back
        dialog.get_by_text("Show all partitions").click()
        expect(dialog.get_by_text("All time")).to_be_visible()
        days = dialog.locator("input[type=text]:visible, input:not([type]):visible").first
        days.fill(f"[{DAYS[0]}...{DAYS[1]}]")
        days.press("Enter")
        expect(dialog.get_by_text("2 partitions")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "2_backfill_dialog.png")
        launch.click()
        expect(dialog).to_be_hidden()

        def backfill_done():
            with dg.DagsterInstance.from_config(str(home)) as instance:
                backfills = instance.get_backfills()
            statuses = {b.status.value for b in backfills}
            assert not statuses & {"FAILED", "COMPLETED_FAILED", "CANCELED"}, backfills
            return backfills and statuses == {"COMPLETED_SUCCESS"}

        wait_for(backfill_done, 300, "the backfill to succeed")
        page.goto(f"{url}/runs/b")  # the backfills list
        page.wait_for_timeout(3000)
        page.screenshot(path=ARTIFACTS / "3_backfill_succeeded.png")

        # Nobody launches anything else: the automation sensor refreshes questions and the
        # exploration report from the two reloaded days.
        wait_for(lambda: latest(home, "eda_report"), 420, "automation to build eda_report")
        page.goto(f"{url}/assets/eda_report")
        plot = page.get_by_text("plot: ", exact=False).first
        expect(plot).to_be_visible()
        page.screenshot(path=ARTIFACTS / "4_eda_report.png", full_page=True)
        row = page.locator("tr", has=page.get_by_text("plot: tag_frequencies")).first
        row.get_by_text("Show Markdown").click()
        image = page.get_by_role("dialog").locator("img[src^='data:image/png;base64,']").first
        expect(image).to_be_visible()
        assert image.evaluate("img => img.naturalWidth") > 100
        page.screenshot(path=ARTIFACTS / "5_eda_plot.png")
        browser.close()

    # the same ticks brought the two days' rows and embeddings up to date, and only them
    for key in ("questions", VECTORS, TOKENS):
        def built(key=key):
            with dg.DagsterInstance.from_config(str(home)) as instance:
                return instance.get_materialized_partitions(dg.AssetKey(key)) == set(DAYS)

        wait_for(built, 300, f"automation to build {key} for {DAYS}")
