"""Configuration. Every value can be overridden by an environment variable of the same name."""

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class Config:
    """Defaults for every deployment; production overrides through the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None → SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "中文", "en": "English"}
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_DURATION = 0
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024)
    # Security policy defaults (等保 practice); a security administrator may change them in the app.
    PASSWORD_MIN_LENGTH = _env_int("PASSWORD_MIN_LENGTH", 8)
    PASSWORD_MIN_CLASSES = _env_int("PASSWORD_MIN_CLASSES", 3)
    LOCKOUT_THRESHOLD = _env_int("LOCKOUT_THRESHOLD", 5)
    LOCKOUT_MINUTES = _env_int("LOCKOUT_MINUTES", 30)
    IDLE_TIMEOUT_MINUTES = _env_int("IDLE_TIMEOUT_MINUTES", 30)
    AUDIT_RETENTION_DAYS = _env_int("AUDIT_RETENTION_DAYS", 183)
    PAGE_SIZE = _env_int("PAGE_SIZE", 20)
    IMPORT_MAX_BYTES = _env_int("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
    # Public feedback: submissions per sender address per window (counted in the database: any worker sees them).
    FEEDBACK_RATE_LIMIT = _env_int("FEEDBACK_RATE_LIMIT", 5)
    FEEDBACK_RATE_WINDOW_MINUTES = _env_int("FEEDBACK_RATE_WINDOW_MINUTES", 60)
    # Reverse proxies in front of the app that append to X-Forwarded-For (0: use the socket's address).
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    TESTING = False


class ProductionConfig(Config):
    """Production: secure cookies, PostgreSQL via DATABASE_URL."""

    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)


class TestConfig(Config):
    """The test suite: a throwaway database (DATABASE_URL or in-memory SQLite)."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = True
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashing in tests only


CONFIGS = {"default": Config, "production": ProductionConfig, "test": TestConfig}
