"""The public side of grid urban management (FixMyStreet style): citizens' reports, what anyone may see of a
case, area feeds and e-mail subscriptions.

- ``report_citizen_case``: a signed-in citizen or enterprise account reports through the web form. Citizens
  hold no role grants: the report is made by a ``services.PublicReporter`` (``urban.report`` city-wide, label
  ``web:<username>``) *for* the citizen, who becomes ``reported_by`` ("my reports"); at most
  ``MAX_REPORTS_PER_DAY`` per account in 24 hours and ``MAX_PUBLIC_PHOTOS`` photos.
- ``public_view``: a case as the public sees it: class, a public state label, the township and community, a
  location rounded to about 100 m, the public timeline (actions and times only; no reporter, no staff names,
  no internal notes; the not-filed reason and the final handling note are shown) and the after photos of a
  closed case. Voided cases show their state only; merged cases are followed to the case they joined.
- Areas are division or grid codes (county 6 digits, township 9, community 12, grid 15; the city 371500 is
  everything): a case lies in an area when the code is a prefix of its grid code.
- ``area_updates``: new reports and closures in an area (RSS feed, digests). Voided and merged reports are
  left out (they are not separate problems).
- Subscriptions: double opt-in by e-mail (``subscribe`` → confirmation mail → ``confirm_subscription``),
  ``cancel_subscription`` from the link in every mail, ``send_digests`` (huey, hourly) mails each confirmed
  subscription the updates since ``last_sent_at``. The address is stored SM4-encrypted with a blind index; the
  audit records name the subscription id, never the address. ``last_sent_at`` is the last mail sent to the
  subscription: the confirmation mail while pending (resent at most every ``RESEND_INTERVAL``), the digest
  watermark once confirmed.

Domain code: it renders mail templates but imports no views.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from liaocheng.core import audit
from liaocheng.core.crypto import blind_index
from liaocheng.core.errors import Conflict, InvalidInput, NotFound, Throttled
from liaocheng.core.models import Department, User, UserKind
from liaocheng.core.permissions import CITY_CODE
from liaocheng.geo.models import Division, Grid

from . import services
from .models import Case, CasePhoto, CaseState, Channel, PhotoKind, Subscription

log = logging.getLogger(__name__)

MAX_REPORTS_PER_DAY = 10
REPORT_WINDOW = dt.timedelta(days=1)
MAX_PUBLIC_PHOTOS = 3
MAX_SUBSCRIPTIONS = 10  # active (pending or confirmed) subscriptions per e-mail address
RESEND_INTERVAL = dt.timedelta(minutes=10)  # a pending subscription's confirmation mail at most this often
DIGEST_SETTLE = dt.timedelta(minutes=2)  # digests stop this long before now: reports still committing
MAX_DIGEST_ITEMS = 50
LOCATION_DECIMALS = 3  # about 110 m of latitude, 90 m of longitude at Liaocheng
LANGUAGES = ("zh-hans", "en")
PUBLIC_CHANNEL_LABEL = "web"

S = CaseState
HIDDEN_STATES = (S.VOIDED, S.MERGED)  # not listed, not in feeds or digests
OPEN_STATES = tuple(services.OPEN_STATES)
CLOSED_STATES = (S.CLOSED, S.NOT_FILED)

PUBLIC_STATE_LABELS: dict[str, Any] = {
    S.REPORTED: _("已受理"),
    S.FILED: _("已立案"),
    S.NOT_FILED: _("不予立案"),
    S.DISPATCHED: _("处置中"),
    S.HANDLING: _("处置中"),
    S.HANDLED: _("已处置，待核查"),
    S.VERIFIED: _("已处置，待结案"),
    S.DEFERRED: _("暂缓处置"),
    S.CLOSED: _("已办结"),
    S.VOIDED: _("已作废"),
    S.MERGED: _("已合并"),
}

# the steps of the cycle the public sees (requests, approvals refused, warnings and escalation stay internal)
PUBLIC_STEP_LABELS: dict[str, Any] = {
    "report": _("问题已上报"),
    "file": _("已立案"),
    "not_file": _("不予立案"),
    "dispatch": _("已派遣至责任部门"),
    "accept": _("责任部门已签收"),
    "handle": _("责任部门已处置"),
    "rework": _("核查未通过，重新处置"),
    "verify": _("现场核查通过"),
    "close": _("已结案"),
    "approve_return": _("退回重新派遣"),
    "approve_extension": _("处置时限已延长"),
    "approve_deferral": _("暂缓处置（挂账）"),
    "resume": _("恢复处置"),
    "approve_void": _("已作废"),
    "merge_in": _("合并了一条相同问题的上报"),
}

_NUMBER = re.compile(r"[A-Z0-9]{1,32}")
_AREA = re.compile(r"[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def public_state_label(state: str) -> str:
    return str(PUBLIC_STATE_LABELS.get(state, state))


def is_open(state: str) -> bool:
    return state in OPEN_STATES


# --- citizens' reports -----------------------------------------------------------------------------

def can_report(user: Any) -> bool:
    """Whether ``user`` may use the public report form: an active citizen or enterprise account."""
    return bool(getattr(user, "is_authenticated", False) and isinstance(user, User) and user.is_active
                and user.kind in (UserKind.CITIZEN, UserKind.ENTERPRISE))


def report_citizen_case(
    *, acting_user: Any, class_code: str, lon: float, lat: float, datum: str = "gcj02", description: str,
    address: str = "", photos: Iterable[Any] | None = None,
) -> services.ReportResult:
    """A citizen's (or enterprise's) report from the public web form: a public-channel case reported by them,
    through ``services.report_case`` (same checks, event and audit record). Refusals write nothing."""
    if not can_report(acting_user):
        raise PermissionDenied("仅限已登录的市民和企业账号通过此页面上报 / "
                               "only signed-in citizen and enterprise accounts may report here")
    items = list(photos or [])
    if len(items) > MAX_PUBLIC_PHOTOS:
        raise InvalidInput(f"最多上传 {MAX_PUBLIC_PHOTOS} 张照片", f"at most {MAX_PUBLIC_PHOTOS} photos",
                           field="photos")
    now = timezone.now()
    with transaction.atomic():
        # one citizen's reports one after another, so that the daily limit holds under concurrent posts
        list(User.objects.select_for_update().filter(pk=acting_user.pk).values_list("pk", flat=True))
        recent = Case.objects.filter(reported_by=acting_user, channel=Channel.PUBLIC,
                                     reported_at__gt=now - REPORT_WINDOW).count()
        if recent >= MAX_REPORTS_PER_DAY:
            raise Throttled(f"每个账号 24 小时内最多上报 {MAX_REPORTS_PER_DAY} 个问题，请稍后再试",
                            f"an account may report at most {MAX_REPORTS_PER_DAY} problems in 24 hours; "
                            "please try again later")
        principal = services.PublicReporter(f"{PUBLIC_CHANNEL_LABEL}:{acting_user.get_username()}")
        return services.report_case(acting_user=principal, reporter=acting_user, channel=Channel.PUBLIC,
                                    class_code=class_code, lon=lon, lat=lat, datum=datum,
                                    description=description, address=address, photos=items)


def my_reports(*, acting_user: Any) -> QuerySet[Case]:
    """The cases the signed-in user reported (newest first)."""
    if not getattr(acting_user, "is_authenticated", False):
        raise PermissionDenied("请先登录 / please sign in")
    return (Case.objects.filter(reported_by=acting_user).select_related("minor_class", "merged_into")
            .order_by("-reported_at", "-pk"))


def own_case(*, acting_user: Any, number: str) -> Case:
    """One of the user's own reports (404 for anyone else's)."""
    case = my_reports(acting_user=acting_user).filter(number=(number or "").strip().upper()).first()
    if case is None:
        raise NotFound("案卷不存在", "no such case", field="number")
    return case


# --- areas -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Area:
    code: str
    name: str  # with the county (and township) in front: 莘县 燕塔街道
    level: str  # city / county / township / village / grid


def division_names(codes: Iterable[str]) -> dict[str, str]:
    """Names of the current divisions with these codes (missing codes are left out)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return dict(Division.objects.filter(code__in=wanted, valid_to__isnull=True).values_list("code", "name"))


def _full_name(code: str, names: dict[str, str]) -> str:
    parts = [names[p] for p in (code[:6], code[:9], code[:12]) if len(p) <= len(code) and p in names]
    return " ".join(dict.fromkeys(parts))


def get_area(code: str) -> Area:
    """The area with this code: a current division (city, county, township, community) or a unit grid."""
    code = (code or "").strip()
    if not _AREA.fullmatch(code):
        raise InvalidInput("区域代码应为 6、9、12 或 15 位数字（县、乡镇、社区或单元网格）",
                           "an area code has 6, 9, 12 or 15 digits (county, township, community or grid)",
                           field="area")
    if len(code) == 15:
        grid = Grid.objects.filter(code=code).only("code").first()
        if grid is None:
            raise NotFound("区域代码不存在", "unknown area code", field="area")
        names = division_names([code[:6], code[:9], code[:12]])
        return Area(code, gettext("%(area)s 网格 %(code)s") % {"area": _full_name(code, names), "code": code}, "grid")
    division = Division.objects.filter(code=code, valid_to__isnull=True).first()
    if division is None:
        raise NotFound("区域代码不存在", "unknown area code", field="area")
    if code == CITY_CODE:
        return Area(code, division.name, division.level)
    return Area(code, _full_name(code, division_names([code[:6], code[:9], code[:12]])) or division.name,
                division.level)


def area_q(code: str) -> Q:
    """Cases in the area with this code (the city holds everything)."""
    return Q() if code == CITY_CODE else Q(grid_code__startswith=code)


def case_areas(case: Case) -> list[tuple[str, str]]:
    """The county, township and community of a case as (code, full name), for subscribing from its page."""
    names = division_names([case.county_code, case.township_code, case.community_code])
    return [(code, _full_name(code, names)) for code in (case.county_code, case.township_code, case.community_code)
            if code in names]


def counties() -> list[tuple[str, str]]:
    return list(Division.objects.filter(level="county", valid_to__isnull=True).order_by("code")
                .values_list("code", "name"))


# --- the public view of a case ---------------------------------------------------------------------

@dataclass(frozen=True)
class PublicStep:
    at: dt.datetime
    action: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class PublicCase:
    case: Case
    state_label: str
    is_open: bool
    voided: bool
    township: str
    community: str
    lon: float | None  # rounded to about 100 m; None for voided cases
    lat: float | None
    steps: list[PublicStep] = field(default_factory=list)
    after_photos: list[int] = field(default_factory=list)  # CasePhoto ids (served by the public photo view)


def find_public_case(number: str) -> Case:
    """The case with this number (any state; see ``followed_case`` for merged reports)."""
    number = (number or "").strip().upper()
    case = (services.public_cases().select_related("minor_class", "merged_into").filter(number=number).first()
            if _NUMBER.fullmatch(number) else None)
    if case is None:
        raise NotFound("案卷不存在", "no such case", field="number")
    return case


def followed_case(case: Case) -> Case:
    """The case a merged report follows (itself when it is not merged)."""
    for _hop in range(5):
        if case.state != S.MERGED or case.merged_into_id is None:
            break
        target = services.public_cases().select_related("minor_class", "merged_into").filter(
            pk=case.merged_into_id).first()
        if target is None:  # merged into an internal (hotline, leader) case: the report stays as it is
            break
        case = target
    return case


def public_steps(case: Case) -> list[PublicStep]:
    events = [e for e in case.events.all() if e.action in PUBLIC_STEP_LABELS]
    dept_codes = {str(e.data.get("department")) for e in events if e.action == "dispatch" and e.data}
    dept_names = dict(Department.objects.filter(code__in=dept_codes).values_list("code", "name")) if dept_codes \
        else {}
    steps = []
    for e in events:
        label, detail = str(PUBLIC_STEP_LABELS[e.action]), ""
        if e.action == "dispatch":
            name = dept_names.get(str((e.data or {}).get("department")), "")
            if name:
                label = gettext("已派遣至 %(department)s") % {"department": name}
        elif e.action == "not_file":
            detail = case.not_filed_reason
        elif e.action == "close":
            detail = case.handling_notes
        steps.append(PublicStep(e.at, e.action, label, detail))
    return steps


def public_view(case: Case) -> PublicCase:
    """What anyone may see of ``case`` (see the module docstring)."""
    names = division_names([case.township_code, case.community_code])
    voided = case.state == S.VOIDED
    photos: list[int] = []
    if case.state == S.CLOSED:
        photos = list(case.photos.filter(kind=PhotoKind.AFTER).values_list("pk", flat=True))
    return PublicCase(
        case=case, state_label=public_state_label(case.state), is_open=is_open(case.state), voided=voided,
        township=names.get(case.township_code, ""), community=names.get(case.community_code, ""),
        lon=None if voided else round(case.lon, LOCATION_DECIMALS),
        lat=None if voided else round(case.lat, LOCATION_DECIMALS),
        steps=[] if voided else public_steps(case), after_photos=photos,
    )


def public_photo(pk: int) -> CasePhoto:
    """An after photo of a closed case: the only photos the public sees."""
    photo = (CasePhoto.objects.select_related("case")
             .filter(pk=pk, kind=PhotoKind.AFTER, case__state=S.CLOSED,
                     case__channel__in=services.PUBLIC_CHANNELS).first())
    if photo is None:
        raise NotFound("照片不存在", "no such photo", field="pk")
    return photo


def public_cases(*, area: Area | None = None, state: str = "") -> QuerySet[Case]:
    """Cases for the public list: all but voided and merged reports; ``state`` open or closed."""
    qs = services.public_cases().exclude(state__in=HIDDEN_STATES).select_related("minor_class")
    if area is not None:
        qs = qs.filter(area_q(area.code))
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state == "closed":
        qs = qs.filter(state__in=CLOSED_STATES)
    return qs.order_by("-reported_at", "-pk")


# --- updates in an area (feed, digests) ------------------------------------------------------------

@dataclass(frozen=True)
class AreaUpdate:
    case: Case
    kind: str  # "reported" | "closed"
    at: dt.datetime

    @property
    def label(self) -> str:
        return gettext("新问题") if self.kind == "reported" else gettext("已办结")


def area_updates(code: str, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                 limit: int = 50) -> list[AreaUpdate]:
    """New reports and closures of cases in the area, newest first, in (since, until]."""
    base = services.public_cases().filter(area_q(code)).select_related("minor_class")

    def window(name: str) -> Q:
        q = Q()
        if since is not None:
            q &= Q(**{f"{name}__gt": since})
        if until is not None:
            q &= Q(**{f"{name}__lte": until})
        return q

    reported = base.exclude(state__in=HIDDEN_STATES).filter(window("reported_at")).order_by("-reported_at", "-pk")
    closed = base.filter(state=S.CLOSED, closed_at__isnull=False).filter(window("closed_at")) \
        .order_by("-closed_at", "-pk")
    updates = [AreaUpdate(c, "reported", c.reported_at) for c in reported[:limit]]
    updates += [AreaUpdate(c, "closed", c.closed_at) for c in closed[:limit] if c.closed_at is not None]
    updates.sort(key=lambda u: (u.at, u.case.pk), reverse=True)
    return updates[:limit]


# --- e-mail subscriptions --------------------------------------------------------------------------

@dataclass(frozen=True)
class SubscribeResult:
    subscription: Subscription
    created: bool
    mailed: bool  # a confirmation mail went out now


def normalize_email(email: str) -> str:
    address = (email or "").strip().lower()
    try:
        if len(address) > 254:
            raise ValidationError("too long")
        validate_email(address)
    except ValidationError as exc:
        raise InvalidInput("请填写有效的电子邮箱地址", "enter a valid e-mail address", field="email") from exc
    return address


def _language(value: str) -> str:
    return "en" if (value or "").lower().startswith("en") else "zh-hans"


def _actor(user: Any) -> Any:
    return user if getattr(user, "pk", None) is not None else "public"


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def subscription_links(sub: Subscription) -> dict[str, str]:
    return {
        "confirm_url": _absolute(reverse("urban_public:subscribe_confirm", kwargs={"token": sub.token})),
        "cancel_url": _absolute(reverse("urban_public:subscribe_cancel", kwargs={"token": sub.token})),
        "area_url": _absolute(reverse("urban_public:cases") + f"?area={sub.area_code}"),
        "feed_url": _absolute(reverse("urban_public:feed", kwargs={"area_code": sub.area_code})),
    }


def _send(sub: Subscription, subject: str, template: str, context: dict[str, Any], *, html: bool = False) -> None:
    """One mail to the subscriber, in the subscription's language, with the unsubscribe link in the body and
    the List-Unsubscribe header."""
    links = subscription_links(sub)
    ctx = {**context, **links, "subscription": sub}
    with translation.override(sub.language):
        body = render_to_string(f"urban/email/{template}.txt", ctx)
        message = EmailMultiAlternatives(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[sub.email],
            headers={"List-Unsubscribe": f"<{links['cancel_url']}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Auto-Submitted": "auto-generated"},
        )
        if html:
            message.attach_alternative(render_to_string(f"urban/email/{template}.html", ctx), "text/html")
    message.send()


def _send_confirmation(sub: Subscription, area: Area) -> None:
    with translation.override(sub.language):
        subject = gettext("请确认订阅：%(area)s 城市管理案卷动态") % {"area": area.name}
    _send(sub, subject, "subscribe_confirm", {"area": area})


def subscribe(*, acting_user: Any = None, email: str, area_code: str, language: str = "zh-hans") -> SubscribeResult:
    """Ask for the updates of an area by e-mail: a pending subscription and a confirmation mail (double
    opt-in). The same address and area is never subscribed twice: a pending one gets its confirmation mail
    again (at most every ``RESEND_INTERVAL``), a confirmed one nothing. Anyone may subscribe (no login);
    ``acting_user`` only names the actor in the audit record."""
    address = normalize_email(email)
    area = get_area(area_code)
    index = blind_index("email", address)
    now = timezone.now()
    with transaction.atomic():
        sub = (Subscription.objects.select_for_update()
               .filter(email_index=index, area_code=area.code, cancelled_at__isnull=True).first())
        created = sub is None
        if sub is None:
            if Subscription.objects.filter(email_index=index, cancelled_at__isnull=True).count() >= MAX_SUBSCRIPTIONS:
                raise Conflict(f"每个邮箱最多订阅 {MAX_SUBSCRIPTIONS} 个区域，请先退订不需要的订阅",
                               f"an address may hold at most {MAX_SUBSCRIPTIONS} subscriptions; cancel one first",
                               field="email")
            sub = Subscription.objects.create(email=address, email_index=index, area_code=area.code,
                                              token=secrets.token_urlsafe(32), language=_language(language),
                                              created_at=now, last_sent_at=now)
            audit.record(actor=_actor(acting_user), action="urban.subscribe", object_type="urban.Subscription",
                         object_id=sub.pk, after={"area_code": area.code, "language": sub.language},
                         division_code=area.code)
            mail = True
        elif sub.confirmed_at is None and (sub.last_sent_at is None or now - sub.last_sent_at >= RESEND_INTERVAL):
            sub.last_sent_at = now
            sub.save(update_fields=["last_sent_at"])
            mail = True
        else:
            mail = False
    if mail:  # after the commit: a mail never announces a subscription that was rolled back
        _send_confirmation(sub, area)
    return SubscribeResult(sub, created, mail)


def _by_token(token: str) -> Subscription:
    token = (token or "").strip()
    sub = Subscription.objects.select_for_update().filter(token=token).first() if _TOKEN.fullmatch(token) else None
    if sub is None:
        raise NotFound("订阅链接无效", "this subscription link is not valid", field="token")
    return sub


def peek_subscription(token: str) -> Subscription:
    """The subscription a link names (read only, for the confirm/cancel pages)."""
    token = (token or "").strip()
    sub = Subscription.objects.filter(token=token).first() if _TOKEN.fullmatch(token) else None
    if sub is None:
        raise NotFound("订阅链接无效", "this subscription link is not valid", field="token")
    return sub


def confirm_subscription(*, acting_user: Any = None, token: str) -> Subscription:
    """Confirm a pending subscription from the link in its confirmation mail (idempotent). Digests cover the
    updates from this moment on."""
    with transaction.atomic():
        sub = _by_token(token)
        if sub.cancelled_at is not None:
            raise Conflict("该订阅已退订，请重新订阅", "this subscription was cancelled; subscribe again",
                           field="token")
        if sub.confirmed_at is None:
            now = timezone.now()
            sub.confirmed_at = sub.last_sent_at = now
            sub.save(update_fields=["confirmed_at", "last_sent_at"])
            audit.record(actor=_actor(acting_user), action="urban.subscription_confirm",
                         object_type="urban.Subscription", object_id=sub.pk, after={"area_code": sub.area_code},
                         division_code=sub.area_code)
    return sub


def cancel_subscription(*, acting_user: Any = None, token: str) -> Subscription:
    """Unsubscribe from the link in any mail (idempotent)."""
    with transaction.atomic():
        sub = _by_token(token)
        if sub.cancelled_at is None:
            sub.cancelled_at = timezone.now()
            sub.save(update_fields=["cancelled_at"])
            audit.record(actor=_actor(acting_user), action="urban.subscription_cancel",
                         object_type="urban.Subscription", object_id=sub.pk, after={"area_code": sub.area_code},
                         division_code=sub.area_code)
    return sub


@dataclass(frozen=True)
class DigestResult:
    sent: int
    failed: int


def _area_for_mail(code: str) -> Area:
    try:
        return get_area(code)
    except (InvalidInput, NotFound):  # a division retired since: keep sending by the code
        return Area(code, code, "")


def send_digests(now: dt.datetime | None = None) -> DigestResult:
    """Mail each confirmed subscription the new reports and closures in its area since its ``last_sent_at``,
    then advance ``last_sent_at``; nothing is mailed when there are none. Idempotent: each window is claimed
    (conditional update of ``last_sent_at``) before the mail goes out, and given back when sending fails."""
    until = (now or timezone.now()) - DIGEST_SETTLE
    sent = failed = 0
    subs = Subscription.objects.filter(confirmed_at__isnull=False, cancelled_at__isnull=True).order_by("pk")
    for sub in subs.iterator():
        since = sub.last_sent_at or sub.confirmed_at
        if since is None or since >= until:
            continue
        updates = area_updates(sub.area_code, since=since, until=until, limit=MAX_DIGEST_ITEMS + 1)
        claimed = Subscription.objects.filter(pk=sub.pk, last_sent_at=sub.last_sent_at,
                                              cancelled_at__isnull=True).update(last_sent_at=until)
        if not claimed or not updates:
            continue
        area = _area_for_mail(sub.area_code)
        with translation.override(sub.language):
            subject = gettext("%(area)s 城市管理案卷动态（%(count)s 条）") % {
                "area": area.name, "count": f"{len(updates)}+" if len(updates) > MAX_DIGEST_ITEMS else len(updates)}
            items = [(u, public_state_label(u.case.state),
                      _absolute(reverse("urban_public:case", kwargs={"number": u.case.number})))
                     for u in updates[:MAX_DIGEST_ITEMS]]
        try:
            _send(sub, subject, "digest", {"area": area, "items": items, "more": len(updates) > MAX_DIGEST_ITEMS,
                                           "since": since, "until": until}, html=True)
        except OSError:  # SMTP trouble (smtplib errors are OSErrors): give the window back for the next run
            log.exception("urban digest to subscription %s failed", sub.pk)
            Subscription.objects.filter(pk=sub.pk, last_sent_at=until).update(last_sent_at=sub.last_sent_at)
            failed += 1
        else:
            sent += 1
    return DigestResult(sent, failed)

