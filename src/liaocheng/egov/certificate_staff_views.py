"""Staff pages for certificates (证照注销): find a certificate by its number or verification code, see its facts,
and revoke it with a reason. Users with ``egov.issue`` in the certificate's division only; thin adapters over
``certificates`` (``revoke_certificate`` checks the permission, writes and audits). After revoking, the public
verification page reports the certificate as revoked."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from liaocheng.core import access
from liaocheng.core.errors import DomainError
from liaocheng.core.forms import domain_message
from liaocheng.core.models import AuditRecord
from liaocheng.core.web import staff_required

from . import certificates
from .certificate_views import STATUS_TEXT
from .models import Certificate

RECENT = 20


def _require_issuer(request: HttpRequest) -> None:
    if not access.has_perm(request.user, "egov.issue"):
        raise PermissionDenied(_("无权管理电子证照"))


def _in_scope(user: Any) -> Any:
    return access.filter_by_scope(Certificate.objects.select_related("case__item", "case__department"), user,
                                  "egov.issue", "case__division_code")


def _find(user: Any, query: str) -> Certificate | None:
    """The certificate in ``user``'s scope whose number or verification code is ``query``."""
    query = query.strip()
    if not query:
        return None
    return _in_scope(user).filter(Q(number=query) | Q(verification_code=certificates.normalise_code(query))).first()


def _revocation_reason(cert: Certificate) -> str:
    record = (AuditRecord.objects.filter(action="egov.certificate_revoke", object_type="egov.Certificate",
                                         object_id=str(cert.pk)).order_by("-seq").first())
    return str((record.after or {}).get("reason", "")) if record else ""


def _page(request: HttpRequest, *, query: str, cert: Certificate | None, exc: DomainError | None = None,
          reason: str = "") -> HttpResponse:
    result = certificates.verify(cert.verification_code) if cert else None
    context = {
        "query": query, "cert": cert, "result": result,
        "status_text": STATUS_TEXT[result.status] if result else "",
        "revoked_reason": _revocation_reason(cert) if cert and cert.revoked_at else "",
        "recent": [] if query else _in_scope(request.user).order_by("-issued_at")[:RECENT],
        "reason": reason, "error": domain_message(exc) if exc else "", "error_field": (exc.field or "") if exc else "",
    }
    status = exc.status if exc else (404 if query and cert is None else 200)
    return render(request, "egov/staff_certificates.html", context, status=status)


@staff_required
@never_cache
@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """证照注销: look up a certificate (``?q=`` number or verification code) in the user's scope."""
    _require_issuer(request)
    query = (request.GET.get("q") or "").strip()
    return _page(request, query=query, cert=_find(request.user, query))


@staff_required
@require_POST
def revoke(request: HttpRequest, number: str) -> HttpResponse:
    _require_issuer(request)
    cert = _in_scope(request.user).filter(number=number).first()
    if cert is None:
        raise Http404(_("证照不存在，或不在您的管辖范围内"))
    reason = request.POST.get("reason", "")
    try:
        certificates.revoke_certificate(cert, acting_user=request.user, reason=reason)
    except DomainError as exc:
        cert.refresh_from_db()
        return _page(request, query=cert.number, cert=cert, exc=exc, reason=reason)
    messages.success(request, _("证照已注销。公众核验页面将显示该证照已注销。"))
    return redirect(reverse("egov_supervision:staff_certificates") + "?q=" + cert.number)
