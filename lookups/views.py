"""The lookup pages: the officer's citizen lookup and the lookup log. Thin: parse, ask the service or
selector, render.

The officer's page decides through lookup_decide, the API's own flow (client None: an officer decides
only for themself), so every attempt is recorded once. The answer is shown masked; the full answer
only through a POST (`lookup_reveal_view`) that the service records as an event naming the lookup. A
citizen ID never goes into a URL: the forms are POSTed and the answers rendered, never redirected to,
and the log's filter carries the number only as its keyed hash. Signed-in pages are never cached
(portal.middleware.NoStoreForSignedInMiddleware).
"""
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.choices import Role
from accounts.permissions import require_roles
from portal.errors import DomainError, form_error, message_error

from . import selectors, services
from .forms import REFUSAL_REASONS, LookupForm, LookupLogForm, RevealForm
from .validation import citizen_id_masked

LOG_READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)
PAGE_SIZE = 50


def require_lookup_right(view):
    """Officers who hold the lookup right; anyone else 403 (recorded by portal.views)."""
    @wraps(view)
    @require_roles(Role.OFFICER)
    def wrapped(request, *args, **kwargs):
        if not request.user.can_lookup:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _with_reason_labels(records):
    for record in records:
        record.reason_label = REFUSAL_REASONS.get(record.reason, record.reason)
    return records


def _lookup_page(request, form, **context):
    return render(request, "lookups/lookup.html", {
        "form": form, "section": "lookup",
        "recent": _with_reason_labels(selectors.lookups_of_officer(request.user)), **context})


@require_http_methods(["GET", "POST"])
@require_lookup_right
def lookup_view(request):
    if request.method != "POST":
        return _lookup_page(request, LookupForm())
    form = LookupForm(request.POST)
    form.is_valid()  # every field is optional text: the rules are lookup_decide's
    fields = {name: form.cleaned_data.get(name, "") for name in ("citizen_id", "dossier_code", "purpose")}
    decision = services.lookup_decide(actor=request.user, client=None, officer_username=request.user.username,
                                      **fields)
    if not decision.allowed:
        form_error(form, decision.error)
        return _lookup_page(request, form)
    citizen_id = fields["citizen_id"].strip()
    # Next lookup: most often another citizen of the same dossier.
    fresh = LookupForm(initial={"dossier_code": fields["dossier_code"], "purpose": fields["purpose"]})
    try:
        answer = services.lookup_answer(decision=decision, citizen_id=citizen_id)
    except DomainError as error:  # the registry gave no record: recorded with the lookup
        message_error(request, error)
        return _lookup_page(request, fresh)
    return _lookup_page(request, fresh, lookup_id=decision.record_id, citizen_masked=citizen_id_masked(citizen_id),
                        masked=answer.masked(), reveal_form=RevealForm(initial={"citizen_id": citizen_id}))


@require_POST
@require_lookup_right
def lookup_reveal_view(request, pk):
    form = RevealForm(request.POST)
    citizen_id = form.cleaned_data["citizen_id"] if form.is_valid() else ""
    try:
        answer = services.lookup_reveal(actor=request.user, lookup_id=pk, citizen_id=citizen_id)
    except DomainError as error:
        message_error(request, error)
        return redirect("lookups:lookup")
    return _lookup_page(request, LookupForm(), lookup_id=pk, citizen_masked=citizen_id_masked(citizen_id),
                        revealed=answer)


def _citizen_filter(request, form) -> dict:
    """The citizen filter: from a typed number (its hash and mask), else carried from the last page."""
    data = form.cleaned_data
    if data["citizen_id"]:
        return {"hash": services.citizen_id_hash(data["citizen_id"]),
                "masked": citizen_id_masked(data["citizen_id"])}
    if data["citizen"] and not request.POST.get("drop_citizen"):
        return {"hash": data["citizen"], "masked": data["citizen_masked"]}
    return {}


@require_http_methods(["GET", "POST"])
@require_roles(*LOG_READERS)
def lookup_log_view(request):
    """GET: the whole log (in scope), first page. POST: filtered, any page — the filter may hold a
    citizen ID, which is never put in a URL."""
    form = LookupLogForm(request.POST if request.method == "POST" else None)
    citizen, carry, number = {}, {}, 1
    if form.is_bound and not form.is_valid():
        records = selectors.lookup_records_visible_to(request.user).none()
    else:
        filters = {}
        if form.is_bound:
            data = form.cleaned_data
            citizen = _citizen_filter(request, form)
            filters = {"citizen_id_hash": citizen.get("hash", ""), "officer_username": data["officer"],
                       "unit_code": data["unit"], "decision": data["decision"], "reason": data["reason"],
                       "date_from": data["date_from"], "date_to": data["date_to"]}
            number = data["page"] or 1
            carry = {name: form.data.get(name, "") for name in ("officer", "unit", "decision", "reason",
                                                                "date_from", "date_to") if form.data.get(name)}
            if citizen:
                carry.update(citizen=citizen["hash"], citizen_masked=citizen["masked"])
        records = selectors.lookup_log(request.user, **filters)
    page = Paginator(records, PAGE_SIZE).get_page(number)
    _with_reason_labels(page.object_list)
    failures = selectors.registry_failures_of(record.pk for record in page.object_list)
    for record in page.object_list:
        record.registry_failure = failures.get(record.pk)
    return render(request, "lookups/log.html", {
        "form": form, "page": page, "citizen": citizen, "carry": carry, "section": "lookup_log"})
