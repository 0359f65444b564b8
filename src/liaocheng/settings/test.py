"""Settings for the test suite: fixed test keys, fast hashing, tasks run inline."""

import os

os.environ.setdefault("LIAOCHENG_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("LIAOCHENG_DATA_KEY", "00112233445566778899aabbccddeeff")
os.environ.setdefault("LIAOCHENG_INDEX_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0")

from . import *  # noqa: F403
from . import HUEY as _HUEY

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**_HUEY, "immediate": True}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
