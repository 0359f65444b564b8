"""Public pages of grid urban management (thin adapters over ``urban.public``): the citizens' report form
(signed-in citizen and enterprise accounts, phone first), "my reports", the public case list and case pages
(no login), the after photos of closed cases, an RSS feed per area and the e-mail subscription pages.

Nothing here writes: every change goes through ``urban.public``. ``DomainError`` is shown next to the field it
names, in the active language; ``PermissionDenied`` goes to the 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from liaocheng.core.errors import DomainError, InvalidInput, NotFound, Throttled
from liaocheng.core.forms import domain_message

from . import public, services
from .models import Case, MajorClass, MinorClass

PAGE_SIZE = 20
FEED_ITEMS = 50
SUBSCRIBE_PER_HOUR = 20  # subscription requests per client address and hour (the form sends mail)

REPORT_FIELDS = ("class_code", "location", "description", "address", "photos")
# service field -> form field
FIELD_MAP = {"lon": "location", "lat": "location", "datum": "location", "area": "area"}


def _errors(exc: DomainError, fields: tuple[str, ...]) -> dict[str, str]:
    name = FIELD_MAP.get(exc.field or "", exc.field or "")
    return {name if name in fields else "form": domain_message(exc)}


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


# --- the citizens' report form ----------------------------------------------------------------------

def _class_groups() -> list[tuple[MajorClass, list[MinorClass]]]:
    """Active minor classes grouped by major class, events first (what citizens report most)."""
    groups: dict[int, tuple[MajorClass, list[MinorClass]]] = {}
    for minor in MinorClass.objects.filter(active=True).select_related("major").order_by("full_code"):
        groups.setdefault(minor.major_id, (minor.major, []))[1].append(minor)
    return sorted(groups.values(), key=lambda g: (g[0].kind != "event", g[0].code))


def _coordinate(value: str | None) -> float:
    try:
        return float(value or "")
    except ValueError as exc:
        raise InvalidInput("请在地图上点选问题位置，或使用当前位置", "pick the location on the map or use your "
                           "current location", field="lon") from exc


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    if not public.can_report(request.user):
        raise PermissionDenied(_("此页面供市民和企业账号上报问题；工作人员请使用城管工作台的上报页面。"))
    context: dict[str, Any] = {"groups": _class_groups(), "max_photos": public.MAX_PUBLIC_PHOTOS,
                               "max_reports": public.MAX_REPORTS_PER_DAY, "form": {}, "errors": {}}
    if request.method == "GET":
        return render(request, "urban/public_report.html", context)
    post = request.POST
    try:
        result = public.report_citizen_case(
            acting_user=request.user, class_code=post.get("class_code", ""), lon=_coordinate(post.get("lon")),
            lat=_coordinate(post.get("lat")), datum="wgs84" if post.get("datum") == "wgs84" else "gcj02",
            description=post.get("description", ""), address=post.get("address", ""),
            photos=request.FILES.getlist("photos"),
        )
    except DomainError as exc:
        return render(request, "urban/public_report.html",
                      {**context, "form": post, "errors": _errors(exc, REPORT_FIELDS)}, status=exc.status)
    return redirect("urban_public:report_done", number=result.case.number)


@login_required
@require_GET
def report_done(request: HttpRequest, number: str) -> HttpResponse:
    try:
        case = public.own_case(acting_user=request.user, number=number)
    except DomainError as exc:
        raise Http404 from exc
    duplicates = services.find_duplicates(case) if case.state == "reported" else []
    return render(request, "urban/public_report_done.html", {
        "case": case, "state_label": public.public_state_label(case.state),
        "duplicates": [(d, public.public_state_label(d.state)) for d in duplicates],
    })


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(public.my_reports(acting_user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(c, public.public_state_label(c.state)) for c in page.object_list]
    return render(request, "urban/public_mine.html", {"page": page, "rows": rows, "query": "",
                                                      "can_report": public.can_report(request.user)})


# --- public case list and case pages -----------------------------------------------------------------

def _rows(cases: list[Case]) -> list[tuple[Case, str, str]]:
    names = public.division_names({c.township_code for c in cases} | {c.county_code for c in cases})
    return [(c, public.public_state_label(c.state),
             " ".join(n for n in (names.get(c.county_code), names.get(c.township_code)) if n)) for c in cases]


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    area_code = (request.GET.get("area") or "").strip()
    state = request.GET.get("state", "")
    state = state if state in ("open", "closed") else ""
    area, error, status = None, "", 200
    if area_code:
        try:
            area = public.get_area(area_code)
        except DomainError as exc:
            error, status = domain_message(exc), exc.status
    cases = public.public_cases(area=area, state=state) if not error else Case.objects.none()
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "urban/public_case_list.html", {
        "page": page, "rows": _rows(list(page.object_list)), "query": query.urlencode(), "area": area,
        "area_code": area_code, "state": state, "error": error, "counties": public.counties(),
        "subscribe_areas": [(area.code, area.name)] if area else public.counties(),
    }, status=status)


@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        case = public.find_public_case(number)
    except DomainError as exc:
        raise Http404 from exc
    followed = public.followed_case(case)
    if followed.pk != case.pk:
        return redirect("urban_public:case", number=followed.number)
    areas = public.case_areas(case)
    return render(request, "urban/public_case.html", {"view": public.public_view(case), "case": case,
                                                       "subscribe_areas": areas})


@require_GET
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        row = public.public_photo(pk)
    except DomainError as exc:
        raise Http404 from exc
    response = FileResponse(row.image.open("rb"), content_type=row.content_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return cast(HttpResponse, response)


# --- RSS 2.0 feed of an area ------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedItem:
    update: public.AreaUpdate
    place: str


class AreaFeed(Feed):
    """New reports and closures in an area (county, township, community or grid code), newest first."""

    feed_type = Rss201rev2Feed

    def get_object(self, request: HttpRequest, area_code: str) -> public.Area:
        try:
            return public.get_area(area_code)
        except DomainError as exc:
            raise Http404 from exc

    def title(self, obj: public.Area) -> str:
        return _("数字聊城：%(area)s 城市管理案卷动态") % {"area": obj.name}

    def link(self, obj: public.Area) -> str:
        return reverse("urban_public:cases") + f"?area={obj.code}"

    def description(self, obj: public.Area) -> str:
        return _("%(area)s 新上报和已办结的城市管理问题（部件、事件）。") % {"area": obj.name}

    def items(self, obj: public.Area) -> list[FeedItem]:
        updates = public.area_updates(obj.code, limit=FEED_ITEMS)
        names = public.division_names({u.case.township_code for u in updates} | {u.case.county_code for u in updates})
        return [FeedItem(u, " ".join(n for n in (names.get(u.case.county_code), names.get(u.case.township_code))
                                     if n)) for u in updates]

    def item_title(self, item: FeedItem) -> str:
        case = item.update.case
        return f"[{item.update.label}] {case.minor_class.name} · {item.place} · {case.number}"

    def item_description(self, item: FeedItem) -> str:
        case = item.update.case
        return _("%(cls)s；当前状态：%(state)s；上报时间：%(reported)s；位置：%(place)s") % {
            "cls": f"{case.minor_class.get_kind_display()} {case.minor_class.name}",
            "state": public.public_state_label(case.state),
            "reported": timezone.localtime(case.reported_at).strftime("%Y-%m-%d %H:%M"), "place": item.place}

    def item_link(self, item: FeedItem) -> str:
        return reverse("urban_public:case", kwargs={"number": item.update.case.number})

    def item_guid(self, item: FeedItem) -> str:
        return f"{item.update.case.number}:{item.update.kind}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: FeedItem) -> Any:
        return item.update.at


# --- e-mail subscriptions ---------------------------------------------------------------------------

def _throttle_subscribe(request: HttpRequest) -> None:
    key = f"liaocheng:urban-subscribe:{_client_ip(request)}"
    cache.add(key, 0, timeout=3600)
    if cache.incr(key) > SUBSCRIBE_PER_HOUR:
        raise Throttled("订阅请求过于频繁，请一小时后再试", "too many subscription requests; try again in an hour")


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    area_code = (request.POST.get("area") or request.GET.get("area") or "").strip()
    counties = public.counties()
    context: dict[str, Any] = {"subscribe_areas": counties, "form": {"area": area_code, "email": ""},
                               "errors": {}, "area": None}
    if area_code:
        try:
            area = public.get_area(area_code)
        except DomainError:
            pass  # the service names the error on POST; GET offers the counties
        else:
            context.update(area=area, subscribe_areas=[(area.code, area.name)]
                           + [c for c in counties if c[0] != area.code])
    if request.method == "GET":
        return render(request, "urban/public_subscribe.html", context)
    email = request.POST.get("email", "")
    try:
        _throttle_subscribe(request)
        result = public.subscribe(acting_user=request.user if request.user.is_authenticated else None,
                                  email=email, area_code=area_code, language=get_language() or "zh-hans")
    except DomainError as exc:
        context.update(form={"area": area_code, "email": email}, errors=_errors(exc, ("email", "area")))
        return render(request, "urban/public_subscribe.html", context, status=exc.status)
    area = public.get_area(result.subscription.area_code)
    return render(request, "urban/public_subscribe.html", {**context, "done": True, "area": area})


def _token_page(request: HttpRequest, token: str, action: str) -> HttpResponse:
    try:
        sub = public.peek_subscription(token)
    except NotFound as exc:
        return render(request, "urban/public_subscribe_token.html", {"action": action, "error": domain_message(exc)},
                      status=404)
    error, status, done = "", 200, False
    if action == "confirm" and sub.cancelled_at is not None:
        error, status = _("该订阅已退订，请重新订阅。"), 409
    elif request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        try:
            if action == "confirm":
                sub = public.confirm_subscription(acting_user=user, token=token)
            else:
                sub = public.cancel_subscription(acting_user=user, token=token)
            done = True
        except DomainError as exc:
            error, status = domain_message(exc), exc.status
    try:
        area_name = public.get_area(sub.area_code).name
    except DomainError:
        area_name = sub.area_code
    return render(request, "urban/public_subscribe_token.html", {
        "action": action, "subscription": sub, "area_name": area_name, "done": done, "error": error,
    }, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners that follow links confirm nothing); POST confirms."""
    return _token_page(request, token, "confirm")


@csrf_exempt  # the token in the path is the secret; mail clients' one-click unsubscribe POSTs carry no CSRF token
@never_cache
@require_http_methods(["GET", "POST"])
def subscribe_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; POST (also the one-click List-Unsubscribe POST) cancels."""
    return _token_page(request, token, "cancel")
