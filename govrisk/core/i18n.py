"""Languages: Chinese by default, English switchable; catalogs compiled at start when stale.

Message ids are the Chinese strings; `translations/en/LC_MESSAGES/messages.po` holds the English.
Operations translate with `flask_babel.gettext` at the moment they raise or flash; outside a request
(CLI, tests, scripts) the locale is the default one, so the Chinese message id comes back unchanged.
"""

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, has_request_context, request, session
from flask_login import current_user

from govrisk.extensions import babel

SOURCE_DIR = Path(__file__).resolve().parent.parent / "translations"


def compile_catalogs(target: Path) -> Path:
    """Compile every .po under the package's translations into target (only when missing or older)."""
    for po_path in SOURCE_DIR.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(SOURCE_DIR).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        tmp = mo_path.with_name(f"{mo_path.name}.{os.getpid()}.tmp")  # several workers may start at once
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)
    return target


def select_locale() -> str:
    """The session's choice, else the user's saved language, else Chinese (always Chinese outside a request)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    if request and request.args.get("lang") in languages:
        return request.args["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app) -> None:
    target = compile_catalogs(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    babel.init_app(app, locale_selector=select_locale)
