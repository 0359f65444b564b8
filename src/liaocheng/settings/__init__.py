"""Settings for Digital Liaocheng, read from the environment.

``DATABASE_URL`` chooses the database (SQLite in WAL mode under ``./var/`` by default,
``postgres://...`` in production); ``LIAOCHENG_BROKER_URL`` chooses the task broker
(an SQLite file by default, ``redis://...`` when several machines share the work).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str, load_secrets

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LIAOCHENG_VAR_DIR", str(Path.cwd() / "var"))).resolve()
PRODUCTION = env_str("LIAOCHENG_ENV", "development") == "production"

_secrets = load_secrets(VAR_DIR, PRODUCTION)
SECRET_KEY = _secrets["LIAOCHENG_SECRET_KEY"]
LIAOCHENG_DATA_KEY = _secrets["LIAOCHENG_DATA_KEY"]
LIAOCHENG_INDEX_KEY = _secrets["LIAOCHENG_INDEX_KEY"]

DEBUG = env_bool("LIAOCHENG_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("LIAOCHENG_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("LIAOCHENG_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "huey.contrib.djhuey",
    "liaocheng.core",
    "liaocheng.geo",
    "liaocheng.registry",
    "liaocheng.exchange",
    "liaocheng.economy",
    "liaocheng.urban",
    "liaocheng.emergency",
    "liaocheng.egov",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "liaocheng.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "liaocheng.core.middleware.ChineseDefaultLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "liaocheng.urls"
WSGI_APPLICATION = "liaocheng.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'liaocheng.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("LIAOCHENG_CONN_MAX_AGE", 0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at the
        # start of a transaction, so concurrent writers queue instead of failing half-way.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=30000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:workbench"
LOGOUT_REDIRECT_URL = "core:portal"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling: this many failures for one account or one address within the window lock it.
LOGIN_MAX_FAILURES = env_int("LIAOCHENG_LOGIN_MAX_FAILURES", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LIAOCHENG_LOGIN_FAILURE_WINDOW", 15 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

# --- i18n -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"  # uploaded files (case photos): outside the code, under the data directory
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- background work (huey) ---------------------------------------------------
BROKER_URL = env_str("LIAOCHENG_BROKER_URL", f"sqlite:///{VAR_DIR / 'tasks.sqlite3'}")
if BROKER_URL.startswith("redis://"):
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "liaocheng",
        "url": BROKER_URL,
        "immediate": False,
        "consumer": {"workers": env_int("LIAOCHENG_WORKERS", 2), "worker_type": "thread"},
    }
elif BROKER_URL.startswith("sqlite:///"):
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "liaocheng",
        "filename": BROKER_URL.removeprefix("sqlite:///"),
        "immediate": False,
        "consumer": {"workers": env_int("LIAOCHENG_WORKERS", 2), "worker_type": "thread"},
    }
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LIAOCHENG_BROKER_URL must start with redis:// or sqlite:///")

# --- working time -------------------------------------------------------------
# Working periods of a day, used by every SLA (core.calendar).
WORKING_PERIODS = [("08:30", "12:00"), ("13:30", "17:30")]

NINJA_PAGINATION_MAX_LIMIT = 1000

# Size of the synthetic sample that `liaocheng demo` loads into the base databases.
DEMO_RESIDENTS = env_int("LIAOCHENG_DEMO_RESIDENTS", 100_000)
DEMO_ENTITIES = env_int("LIAOCHENG_DEMO_ENTITIES", 10_000)
# Historical urban-management cases (a year across the city) for the evaluation pages.
DEMO_CASES = env_int("LIAOCHENG_DEMO_CASES", 20_000)
# Published government documents (政府信息公开) of the city and county departments, with their search index.
DEMO_DOCUMENTS = env_int("LIAOCHENG_DEMO_DOCUMENTS", 5_000)
# Surveyed city components (部件普查: lamps, manhole covers, bins, ...) along the streets of the county seats.
DEMO_COMPONENTS = env_int("LIAOCHENG_DEMO_COMPONENTS", 5_000)
# Historical emergency incidents (a year across the city, closed) for the response-metrics pages.
DEMO_INCIDENTS = env_int("LIAOCHENG_DEMO_INCIDENTS", 15_000)
# Historical service-hall applications (a year of cases with their supervision cards) for the supervision pages.
DEMO_APPLICATIONS = env_int("LIAOCHENG_DEMO_APPLICATIONS", 12_000)

# --- e-mail (area subscriptions of the public case pages) --------------------------------------
# The embedded default writes each mail as a file under var/mail (no mail server needed); production
# sets LIAOCHENG_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the SMTP variables.
EMAIL_BACKEND = env_str("LIAOCHENG_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("LIAOCHENG_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("LIAOCHENG_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("LIAOCHENG_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("LIAOCHENG_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("LIAOCHENG_EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("LIAOCHENG_EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env_int("LIAOCHENG_EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("LIAOCHENG_DEFAULT_FROM_EMAIL", "数字聊城 <noreply@localhost>")
# The site's public address, for links in mails sent by background tasks (no request to take it from).
PUBLIC_BASE_URL = env_str("LIAOCHENG_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LIAOCHENG_LOG_LEVEL", "INFO")},
    "loggers": {
        # huey adds a handler of its own unless the logger has one: give it ours, once.
        "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "huey.consumer": {"level": "INFO"},
        "django.db.backends": {"level": "INFO"},
    },
}
