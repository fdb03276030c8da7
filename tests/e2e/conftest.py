"""Browser tests: a real ``streamlit run app.py`` on 127.0.0.1 with a temporary data
folder, driven by Debian's headless Chromium through Playwright for Python.

Playwright's own browser download is never used (no ``playwright install``): the
browser is ``/usr/bin/chromium`` (override with ``E2E_CHROMIUM``). Without Chromium or
the ``playwright`` package the tests are skipped with the reason, except under ``CI``,
where that is a failure. Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
# the checkout the server runs from (default: this one; a copy can be tested with E2E_REPO)
APP_REPO = Path(os.environ.get("E2E_REPO") or REPO)
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "correct-horse-battery"
START_TIMEOUT = float(os.environ.get("E2E_START_TIMEOUT", "180"))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"{CHROMIUM} not found: apt-get install -y chromium (see .ci/e2e-setup.sh)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed: pip install playwright")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class App:
    url: str
    data_dir: Path
    log: Path
    users: dict[str, str]  # username -> role
    password: str = PASSWORD


def _seed(data_dir: Path) -> dict[str, str]:
    """Accounts for the path: an admin, a supervisor, a practitioner in their team, an
    educator. Created through practice.accounts, in the app's own database."""
    env_before = os.environ.get("RELPRACTICE_DATA_DIR")
    os.environ["RELPRACTICE_DATA_DIR"] = str(data_dir)
    try:
        from practice.accounts import AccountService
        from practice.services import build_services
        from practice.settings import load_settings

        svc = build_services(load_settings())
        acc = AccountService(svc.db)
        acc.create_first_admin("admin", PASSWORD, display_name="Admin")
        sam = acc.create_user(
            None, "sam", PASSWORD, role="supervisor", display_name="Sam Supervisor"
        )
        acc.create_user(
            None,
            "pia",
            PASSWORD,
            role="practitioner",
            display_name="Pia Practitioner",
            supervisor_id=sam.id,
        )
        acc.create_user(None, "edna", PASSWORD, role="educator", display_name="Edna Educator")
        svc.db.dispose()
    finally:
        if env_before is None:
            os.environ.pop("RELPRACTICE_DATA_DIR", None)
        else:
            os.environ["RELPRACTICE_DATA_DIR"] = env_before
    return {"admin": "admin", "sam": "supervisor", "pia": "practitioner", "edna": "educator"}


@pytest.fixture(scope="session")
def app_server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    users = _seed(data_dir)
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "CHROMA_", "DATABASE_URL"))
    }
    env.update(
        RELPRACTICE_DATA_DIR=str(data_dir),
        RELPRACTICE_BLOCK_REAL_LLM="1",
        RELPRACTICE_UI_LANGUAGE="en",
        RELPRACTICE_SEARCH_INDEX="sync",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
        PYTHONUNBUFFERED="1",
    )
    env.pop("RELPRACTICE_SINGLE_USER", None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "streamlit.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=APP_REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not start in {START_TIMEOUT}s:\n{log.read_text()[-3000:]}",
                    pytrace=False,
                )
            time.sleep(0.5)
        yield App(url=url, data_dir=data_dir, log=log, users=users)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def new_page(browser, app_server: App, request: pytest.FixtureRequest):
    """Open a page in a fresh browser context (a separate person, separate Streamlit session).
    On failure every open page is saved as FAILED-<test>-<n>.png."""
    contexts = []

    def make(path: str = "/"):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
        ctx.set_default_timeout(90_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(app_server.url + path)
        return page

    yield make
    if request.node.stash.get(_FAILED, False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for n, ctx in enumerate(contexts):
            for page in ctx.pages:
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}-{n}.png"))
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def shot():
    """Save a full-page screenshot to test-artifacts/e2e/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        # Streamlit scrolls inside its main container, so grow the window to the content
        size = page.viewport_size
        height = page.evaluate(
            """() => Math.max(...[...document.querySelectorAll(
                 '[data-testid="stMain"], [data-testid="stAppViewContainer"], section')]
                 .map(e => e.scrollHeight), document.body.scrollHeight)"""
        )
        page.set_viewport_size(
            {"width": size["width"], "height": min(max(size["height"], height + 40), 6000)}
        )
        page.wait_for_timeout(500)
        page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(size)
        return path

    return take
