"""The audit pages: the security events (by key, filtered), and the inspector's page of the seals —
the chain's state, the latest verification, the public key and the seals to download, so that the
verification can be repeated off the portal. Thin: parse, ask a selector, render."""
import base64
import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.permissions import require_roles
from portal.keyset import keyset_page

from .canonical import SEAL_VERSION
from .forms import EventFilterForm
from .keys import public_key_pem, signing_key, signing_key_id
from .selectors import seal_chain_states, seal_verification_latest, seals_for_download, security_events_visible_to
from .tasks import verify
from .verification import problem_text

PAGE_SIZE = 100
SEAL_READERS = (Role.IT_ADMIN, Role.INSPECTOR)


@require_roles(Role.IT_ADMIN, Role.INSPECTOR)
def event_list_view(request):
    form = EventFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        events = security_events_visible_to(request.user).none()
    else:
        events = security_events_visible_to(request.user, **filters)
    page = keyset_page(events, size=PAGE_SIZE, after=request.GET.get("after", ""),
                       before=request.GET.get("before", ""))
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return render(request, "audit/event_list.html", {"form": form, "page": page, "query": query.urlencode()})


@require_roles(*SEAL_READERS)
def seal_overview_view(request):
    public_key = signing_key().public_key()
    verification = seal_verification_latest()
    first_problem = problem_text(verification.report.get("first_problem")) if verification else ""
    return render(request, "audit/seals.html", {
        "states": seal_chain_states(), "verification": verification, "first_problem": first_problem,
        "public_key_pem": public_key_pem(public_key), "public_key_id": signing_key_id(public_key),
        "max_lag": settings.AUDIT_SEAL_MAX_LAG_MINUTES, "section": "seals"})


@require_POST
@require_roles(*SEAL_READERS)
def seal_verify_view(request):
    """Verify every chain now, in the background job (it reads every sealed record)."""
    verify.delay()
    messages.success(request, _("Verification started: its result appears here when it ends."))
    return redirect("audit:seals")


@require_roles(*SEAL_READERS)
def seal_public_key_view(request):
    response = HttpResponse(public_key_pem(signing_key().public_key()), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="portal-seal-public-key.pem"'
    return response


def _seal_lines(seals):
    yield json.dumps({"format": SEAL_VERSION, "public_key": public_key_pem(signing_key().public_key()),
                      "exported_at": timezone.now().isoformat(),
                      "canonical_form": "README.md, section 'Tamper-evident logs'"}, ensure_ascii=False) + "\n"
    for seal in seals.iterator(chunk_size=500):
        yield json.dumps({
            "table": seal.table_name, "position": seal.position, "first_id": seal.first_id, "last_id": seal.last_id,
            "row_count": seal.row_count, "gaps": seal.gaps, "columns": seal.columns,
            "first_record_at": seal.first_record_at.isoformat() if seal.first_record_at else None,
            "last_record_at": seal.last_record_at.isoformat() if seal.last_record_at else None,
            "digest": seal.digest, "row_tags": base64.b64encode(bytes(seal.row_tags)).decode(),
            "sealed_at": seal.sealed_at.isoformat(), "previous_chain": seal.previous_chain, "key_id": seal.key_id,
            "chain": seal.chain, "signing_key_id": seal.signing_key_id, "signature": seal.signature,
        }, ensure_ascii=False) + "\n"


@require_roles(*SEAL_READERS)
def seal_download_view(request):
    table = request.GET.get("table", "")
    if table and table not in settings.AUDIT_SEALED_TABLES:
        raise Http404
    response = StreamingHttpResponse(_seal_lines(seals_for_download(table or None)),
                                     content_type="application/x-ndjson; charset=utf-8")
    name = f"seals-{table or 'all'}-{timezone.localdate():%Y%m%d}.jsonl"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
