"""govrisk: integrity-risk governance register (廉政风险防控规范权力运行)."""

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from govrisk.config import CONFIGS, Config
from govrisk.extensions import csrf, db, login_manager, migrate

PACKAGE_DIR = Path(__file__).resolve().parent

# The composition root: every domain's blueprint, in menu order.
BLUEPRINTS = (
    "govrisk.admin.views",
    "govrisk.auth.views",
    "govrisk.org.views",
    "govrisk.catalog.views",
    "govrisk.risks.views",
    "govrisk.portal.views",
    "govrisk.api.views",
    "govrisk.campaigns.views",
    "govrisk.flows.views",
    "govrisk.flows.api",
    "govrisk.review.views",
    "govrisk.accountability.views",
    "govrisk.reports.views",
    "govrisk.supervision.views",
)


def resource_dir(name: str) -> Path:
    """A top-level resource folder: inside the package when installed from a wheel, beside it in a checkout."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def _load_config(app: Flask, config) -> None:
    if config is None:
        config = CONFIGS.get(os.environ.get("GOVRISK_CONFIG", "default"), Config)
    if isinstance(config, str):
        config = CONFIGS[config]
    if isinstance(config, dict):
        app.config.from_object(CONFIGS.get(config.get("CONFIG_NAME", "default"), Config))
        app.config.update(config)
    else:
        app.config.from_object(config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(app)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _instance_secret(app)


def _database_url(app: Flask) -> str:
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{Path(app.instance_path) / 'govrisk.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(app: Flask) -> str:
    """A secret generated once and kept in the instance folder, so restarts keep sessions valid."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # pysqlite's own transaction handling breaks SAVEPOINTs; SQLAlchemy emits BEGIN instead (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _register_blueprints(app: Flask) -> None:
    import importlib

    import govrisk.models  # noqa: F401

    for module_name in BLUEPRINTS + tuple(app.config.get("EXTRA_BLUEPRINTS", ())):
        app.register_blueprint(importlib.import_module(module_name).bp)


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def create_app(config=None) -> Flask:
    """The application factory: config is None (environment), a config name, a Config class or a dict."""
    app = Flask(__name__, instance_relative_config=True, template_folder=str(resource_dir("templates")))
    _load_config(app, config)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)

    from govrisk.core import i18n, web

    i18n.init_app(app)
    web.init_app(app)
    _register_blueprints(app)
    from govrisk.cli import register_commands

    register_commands(app)
    return app
