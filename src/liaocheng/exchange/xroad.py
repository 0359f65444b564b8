"""The exchange API for consumer systems (X-Road style REST under ``/exchange/r1/``).

Headers: ``Authorization: Bearer <token>``, ``X-Road-Client: <consumer system code>``,
``X-Road-UserId: <end user on whose behalf the system asks>`` (required), ``X-Road-Id`` (request id;
generated when absent, echoed in the answer). Every request and answer is appended to the signed
exchange log *before* the answer is sent; if the log cannot be written the answer is withheld (503).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from liaocheng.core.crypto import sm3_hex
from liaocheng.core.errors import DomainError, InvalidInput

from . import chain, gateway, services
from .models import ConsumerSystem

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class MethodNotAllowed(DomainError):
    status = 405
    code = "method_not_allowed"


def _request_id(request: HttpRequest) -> str:
    given = request.headers.get("X-Road-Id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def request_digest(request: HttpRequest, request_id: str) -> str:
    """SM3 over method, path, sorted query, the X-Road headers and the body."""
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    head = "\n".join([
        request.method or "", request.path, query,
        "X-Road-Client:" + request.headers.get("X-Road-Client", ""),
        "X-Road-UserId:" + request.headers.get("X-Road-UserId", ""),
        "X-Road-Id:" + request_id, "",
    ])
    return sm3_hex(head.encode("utf-8") + request.body)


Handler = Callable[[ConsumerSystem, chain.Entry], dict[str, Any]]


def _serve(request: HttpRequest, operation: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> HttpResponse:
    request_id = _request_id(request)
    entry = chain.Entry(
        request_id=request_id,
        consumer_code=request.headers.get("X-Road-Client", "")[:64],
        end_user_id=request.headers.get("X-Road-UserId", "")[:128],
        operation=operation,
        request_hash=request_digest(request, request_id),
    )
    try:
        if request.method not in methods:
            raise MethodNotAllowed("不支持该请求方法", f"method not allowed; use {', '.join(methods)}", field="method")
        consumer = gateway.authenticate(entry.consumer_code, request.headers.get("Authorization", ""))
        entry.consumer_department = consumer.department.code
        if not entry.end_user_id.strip():
            raise InvalidInput("缺少 X-Road-UserId 请求头（最终用户标识）", "missing X-Road-UserId header (end user)",
                               field="X-Road-UserId")
        body = handler(consumer, entry)
        status = 200
    except DomainError as exc:
        status, body = exc.status, exc.as_dict()
        entry.error = exc.code
        entry.fields_returned, entry.record_count = [], 0
    except PermissionDenied as exc:
        status, body = 403, {"error": "forbidden", "message": str(exc) or "无权访问 / forbidden"}
        entry.error = "forbidden"
        entry.fields_returned, entry.record_count = [], 0
    except Exception:  # a failing provider: answered and logged as a server error, never unlogged
        log.exception("exchange request %s failed", request_id)
        status, body = 500, {"error": "internal_error", "message": "服务内部错误 / internal error"}
        entry.error = "internal_error"
        entry.fields_returned, entry.record_count = [], 0
    entry.status = status
    content = json.dumps(body, ensure_ascii=False, cls=DjangoJSONEncoder).encode("utf-8")
    entry.response_hash = sm3_hex(content)
    try:
        record = chain.append(entry)
    except Exception:
        log.exception("exchange log append failed; answer withheld (request %s)", request_id)
        content = json.dumps({"error": "log_unavailable", "message": "交换日志不可用，请稍后再试 / the exchange log is"
                              " unavailable, try again later"}, ensure_ascii=False).encode("utf-8")
        response = HttpResponse(content, status=503, content_type="application/json; charset=utf-8")
        response["X-Road-Id"] = request_id
        return response
    response = HttpResponse(content, status=status, content_type="application/json; charset=utf-8")
    response["X-Road-Id"] = request_id
    response["X-Road-Log-Seq"] = str(record.seq)
    response["X-Road-Response-Hash"] = entry.response_hash
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="liaocheng-exchange"'
    elif status == 405:
        response["Allow"] = ", ".join(methods)
    return response


@csrf_exempt
def record(request: HttpRequest, resource_code: str, key: str) -> HttpResponse:
    return _serve(request, "get", lambda consumer, entry: gateway.read_record(
        consumer, resource_code, key, request.GET.getlist("fields"), entry))


@csrf_exempt
def records(request: HttpRequest, resource_code: str) -> HttpResponse:
    return _serve(request, "query", lambda consumer, entry: gateway.query_records(
        consumer, resource_code, dict(request.GET.lists()), entry))


@csrf_exempt
def changes(request: HttpRequest, resource_code: str) -> HttpResponse:
    def handle(consumer: ConsumerSystem, entry: chain.Entry) -> dict[str, Any]:
        body, subscription, cursor = gateway.change_feed(consumer, resource_code, dict(request.GET.lists()), entry)
        services.advance_cursor(subscription, cursor)
        return body

    return _serve(request, "changes", handle)


@csrf_exempt
def subscription(request: HttpRequest, resource_code: str) -> HttpResponse:
    """POST subscribes the calling system (optional JSON ``{"callback_url": ...}``); DELETE unsubscribes."""

    def handle(consumer: ConsumerSystem, entry: chain.Entry) -> dict[str, Any]:
        entry.resource_code = resource_code
        resource = services.get_resource(resource_code)
        entry.owner_department = resource.department.code
        if request.method == "DELETE":
            sub = consumer.subscriptions.filter(resource=resource).first()
            if sub is not None:
                services.unsubscribe(acting_user=consumer, subscription=sub)
            return {"resource": resource.code, "subscribed": False}
        callback = ""
        if request.body:
            try:
                data = json.loads(request.body)
            except ValueError as exc:
                raise InvalidInput("请求体应为 JSON", "the body must be JSON", field="body") from exc
            callback = str(data.get("callback_url", "")) if isinstance(data, dict) else ""
        sub = services.subscribe(acting_user=consumer, consumer=consumer, resource=resource, callback_url=callback)
        return {"resource": resource.code, "subscribed": True, "cursor": sub.cursor}

    return _serve(request, "subscribe" if request.method == "POST" else "unsubscribe", handle,
                  methods=("POST", "DELETE"))


@csrf_exempt
def list_providers(request: HttpRequest) -> HttpResponse:
    return _serve(request, "listProviders", lambda consumer, entry: gateway.list_providers())


@csrf_exempt
def list_services(request: HttpRequest) -> HttpResponse:
    def handle(consumer: ConsumerSystem, entry: chain.Entry) -> dict[str, Any]:
        provider = request.GET.get("provider", "").strip()
        entry.filters = {"provider": provider} if provider else {}
        return gateway.list_services(provider or None)

    return _serve(request, "listServices", handle)


@csrf_exempt
def allowed_services(request: HttpRequest) -> HttpResponse:
    return _serve(request, "allowedServices", lambda consumer, entry: gateway.allowed_services(consumer))
