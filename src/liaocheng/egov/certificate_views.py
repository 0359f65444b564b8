"""Public certificate verification (证照核验) and the holder's PDF download; thin adapters over
``certificates``."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from liaocheng.core.errors import NotFound

from . import certificates

STATUS_TEXT = {
    "valid": "证照有效",
    "revoked": "证照已注销",
    "tampered": "证照文件与登记信息不符，核验不通过",
    "expired": "证照已过有效期",
    "not_found": "未找到该核验码对应的证照",
}


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    code = certificates.normalise_code(request.GET.get("code", ""))
    if code:
        return redirect("egov_supervision:verify", code=code)
    return render(request, "egov/verify.html", {})


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    result = certificates.verify(code)
    response = render(request, "egov/verify_result.html", {
        "result": result, "cert": result.certificate, "code": certificates.normalise_code(code),
        "status_text": STATUS_TEXT[result.status]}, status=200 if result.certificate else 404)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def download(request: HttpRequest, number: str) -> HttpResponseBase:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    try:
        cert = certificates.certificate_for_download(number, request.user)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    response = FileResponse(cert.pdf.open("rb"), content_type="application/pdf", as_attachment=False,
                            filename=f"{cert.number}.pdf")
    response["Cache-Control"] = "private, no-store"
    return response
