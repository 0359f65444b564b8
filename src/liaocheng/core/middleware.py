from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from .context import new_request_id, request_context

_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (or keeps a well-formed ``X-Request-ID``) for the audit trail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID.match(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_context(request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class ChineseDefaultLocaleMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user chose another language with the switch (language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; a city platform shows
    Chinese by default and English only on request.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
