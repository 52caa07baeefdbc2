"""A live demo server and a headless Chromium for browser journeys (Debian's /usr/bin/chromium)."""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("GOVRISK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The demo city served from its own SQLite database on a free loopback port."""
    from govrisk import create_app
    from govrisk.demo import load_seed
    from govrisk.extensions import db

    folder = tmp_path_factory.mktemp("live")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'live.db'}", "SECRET_KEY": "live-test"})
    app.instance_path = str(folder)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        load_seed(demo=True)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser journeys need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def login(page, base_url: str, username: str, password: str = "Demo@2026") -> None:
    """Log in through the login form."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture(autouse=True)
def db_session():
    """Browser tests talk to the live server's own database; the per-test transaction would hijack its session."""
    yield None
