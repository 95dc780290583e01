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
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.choices import Role
from accounts.permissions import require_roles
from accounts.scope import account_get_visible
from portal.errors import DomainError, form_error, message_error
from portal.exports import ExportHeading
from portal.keyset import keyset_page

from . import exports, selectors, services
from .choices import AnomalyKind, QuotaWindow
from .forms import (
    REFUSAL_REASONS,
    AnomalyFilterForm,
    AnomalyReviewForm,
    HistoryExportForm,
    LookupForm,
    LookupLogForm,
    QuotaOverrideForm,
    RevealForm,
)
from .validation import citizen_id_masked

LOG_READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)
PAGE_SIZE = 50
# The lookup log's filters that may travel in a URL (all but the citizen ID).
LOG_FILTERS = ("officer", "unit", "unit_exact", "decision", "reason", "date_from", "date_to")


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
    """GET: the log filtered by the query's parameters, so that a view can be bookmarked or sent; pages
    by key. POST: the same with a citizen ID filter — a citizen ID is never put in a URL, so that form is
    POSTed and its pages carry the filters (the ID only as its keyed hash) in hidden fields."""
    post = request.method == "POST"
    data = request.POST.copy() if post else request.GET.copy()
    if not post:  # a citizen ID never travels in a URL, not even typed there by hand
        for name in ("citizen_id", "citizen", "citizen_masked"):
            data.pop(name, None)
    bound = any(name in LOG_FILTERS + ("after", "before", "citizen_id", "citizen") for name in data)
    form = LookupLogForm(data if bound else None)
    citizen, after, before = {}, "", ""
    if form.is_bound and not form.is_valid():
        records = selectors.lookup_records_visible_to(request.user).none()
    else:
        filters = {}
        if form.is_bound:
            cleaned = form.cleaned_data
            citizen = _citizen_filter(request, form) if post else {}
            filters = {"citizen_id_hash": citizen.get("hash", ""), "officer_username": cleaned["officer"],
                       "unit_code": cleaned["unit"], "unit_exact": cleaned["unit_exact"],
                       "decision": cleaned["decision"], "reason": cleaned["reason"],
                       "date_from": cleaned["date_from"], "date_to": cleaned["date_to"]}
            after, before = cleaned["after"], cleaned["before"]
        records = selectors.lookup_log(request.user, **filters)
    # The filters other than the citizen, for the links (pages, exports, dropping the citizen filter).
    carry = {name: data.get(name, "") for name in LOG_FILTERS if data.get(name)}
    query = urlencode(carry)
    if citizen:
        carry.update(citizen=citizen["hash"], citizen_masked=citizen["masked"])
    page = keyset_page(records, fields=selectors.LOOKUP_LOG_ORDER, size=PAGE_SIZE, after=after, before=before)
    _with_reason_labels(page.object_list)
    failures = selectors.registry_failures_of(record.pk for record in page.object_list)
    for record in page.object_list:
        record.registry_failure = failures.get(record.pk)
    return render(request, "lookups/log.html", {
        "form": form, "page": page, "citizen": citizen, "carry": carry, "query": query, "section": "lookup_log"})


# ----- flagged lookups ------------------------------------------------------------------------------------

def anomaly_description(flag) -> str:
    """The rule's figures in a sentence (the flag's `details`, written by lookups.anomalies)."""
    details = flag.details or {}
    kind = flag.kind
    if kind == AnomalyKind.OUTSIDE_OFFICE_HOURS:
        if details.get("working_day", True):
            return _("At %(time)s, outside office hours.") % {"time": details.get("local_time", "")}
        return _("At %(time)s on a day off.") % {"time": details.get("local_time", "")}
    if kind == AnomalyKind.NEAR_QUOTA:
        window = details.get("window", "")
        label = QuotaWindow(window).label if window in QuotaWindow.values else window
        return _("%(used)s of %(limit)s (%(window)s).") % {"used": details.get("used"), "limit": details.get("limit"),
                                                           "window": label}
    if kind == AnomalyKind.DOSSIER_MANY_CITIZENS:
        return _("%(count)s different citizens for this dossier within %(hours)s hours (more than %(threshold)s).") % {
            "count": details.get("citizens"), "hours": details.get("hours"), "threshold": details.get("threshold")}
    if kind == AnomalyKind.CITIZEN_OTHER_PROVINCE:
        return _("Birth registered in %(province)s (code %(code)s).") % {
            "province": details.get("province", ""), "code": details.get("province_code", "")}
    if kind == AnomalyKind.CITIZEN_MANY_OFFICERS:
        return _("%(count)s different officers looked this citizen up within %(hours)s hours (more than "
                 "%(threshold)s).") % {"count": details.get("officers"), "hours": details.get("hours"),
                                       "threshold": details.get("threshold")}
    if kind == AnomalyKind.QUOTA_SHADOW_EXCEEDED:
        window = details.get("window", "")
        label = QuotaWindow(window).label if window in QuotaWindow.values else window
        return _("Lookup %(used)s against a limit of %(limit)s in shadow mode (%(window)s): allowed, counted.") % {
            "used": details.get("used"), "limit": details.get("limit"), "window": label}
    if kind == AnomalyKind.DISABLE_REQUESTED:
        return _("Turnover request no. %(number)s asks to disable this account.") % {
            "number": details.get("turnover_request")}
    return ""


def _described(flags):
    for flag in flags:
        flag.description = anomaly_description(flag)
    return flags


@require_GET
@require_roles(*LOG_READERS)
def anomaly_list_view(request):
    """The flagged lookups the reader may see (a leader: their subtree's), newest first, filtered."""
    form = AnomalyFilterForm(request.GET or None)
    flags = selectors.anomaly_flags_visible_to(request.user).none()
    number = 1
    if not form.is_bound:
        flags = selectors.anomaly_flag_list(request.user)
    elif form.is_valid():
        data = form.cleaned_data
        unit = selectors.unit_visible_by_code(request.user, data["unit"])
        if data["unit"] and unit is None:
            form.add_error("unit", _("No unit with this code is among the units you may see."))
        else:
            flags = selectors.anomaly_flag_list(request.user, kind=data["kind"], unit=unit,
                                                officer_username=data["officer"], date_from=data["date_from"],
                                                date_to=data["date_to"], state=data["state"])
            number = data["page"] or 1
    page = Paginator(flags, PAGE_SIZE).get_page(number)
    _described(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "lookups/anomaly_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "section": "lookup_anomalies"})


@require_http_methods(["GET", "POST"])
@require_roles(*LOG_READERS)
def anomaly_detail_view(request, pk):
    flag = selectors.anomaly_flag_get_visible(request.user, pk)  # 404 outside the reader's scope
    review_form = AnomalyReviewForm(request.POST or None) if request.user.role == Role.IT_ADMIN else None
    if request.method == "POST":
        if review_form is None:
            raise PermissionDenied(_("Only IT Center administrators may close a flagged lookup."))
        if review_form.is_valid():
            try:
                services.anomaly_flag_review(actor=request.user, flag=flag, note=review_form.cleaned_data["note"])
            except DomainError as error:
                form_error(review_form, error)
            else:
                messages.success(request, _("The flagged lookup is closed; it no longer counts against the officer."))
                return redirect("lookups:anomaly", pk=flag.pk)
    flag.description = anomaly_description(flag)
    record = flag.lookup
    record.reason_label = REFUSAL_REASONS.get(record.reason, record.reason)
    siblings = _described(list(selectors.anomaly_flags_visible_to(request.user).filter(
        lookup_id=flag.lookup_id).exclude(pk=flag.pk).order_by("pk")))
    return render(request, "lookups/anomaly_detail.html", {
        "flag": flag, "record": record, "siblings": siblings, "review_form": review_form,
        "section": "lookup_anomalies"}, status=400 if review_form is not None and review_form.errors else 200)


# ----- an officer's lookup history as a file --------------------------------------------------------------

@require_GET
@login_required
def lookup_history_export_view(request, pk, file_format):
    """CSV (streamed) or XLSX of an officer's lookups: anyone who may see the account (404 otherwise),
    as far as lookup_history_export allows; the export is recorded."""
    officer = account_get_visible(request.user, pk)
    form = HistoryExportForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_history_return(request, officer))
    dates = {"date_from": form.cleaned_data.get("date_from"), "date_to": form.cleaned_data.get("date_to")} \
        if form.is_bound else {}
    try:
        export = services.lookup_history_export(actor=request.user, officer=officer, file_format=file_format, **dates)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        message_error(request, error)
        return redirect(_history_return(request, officer))
    disposition = f'attachment; filename="{export.file_name}"'
    if file_format == "csv":
        response = StreamingHttpResponse(exports.history_csv_rows(export.records.iterator(chunk_size=2000)),
                                         content_type="text/csv; charset=utf-8")
    else:
        heading = ExportHeading.for_reader(
            title=_("Lookups of %(officer)s") % {"officer": str(officer)},
            reader=request.user, scope=officer.unit.name)
        content = exports.history_xlsx(export.records.iterator(chunk_size=2000), title=officer.username,
                                       heading=heading)
        response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument"
                                                      ".spreadsheetml.sheet")
    response["Content-Disposition"] = disposition
    return response


def _history_return(request, officer) -> str:
    """Where a refused export sends the reader back to."""
    if request.user.pk == officer.pk:
        return reverse("lookups:lookup") if request.user.can_lookup else reverse("home")
    return reverse("accounts:detail", args=[officer.pk])


# ----- quota overrides (IT Center) ------------------------------------------------------------------------

def _quota_page(request, form, status=200):
    return render(request, "lookups/quotas.html", {
        "form": form, "overrides": selectors.quota_overrides(), "policy": selectors.quota_policy_limits(),
        "section": "lookup_quotas"}, status=status)


@require_http_methods(["GET", "POST"])
@require_roles(Role.IT_ADMIN)
def quota_overrides_view(request):
    """The overrides in force, the policy's defaults, and the form that sets one (audited by the service)."""
    if request.method != "POST":
        return _quota_page(request, QuotaOverrideForm())
    form = QuotaOverrideForm(request.POST)
    if not form.is_valid():
        return _quota_page(request, form)
    data = form.cleaned_data
    unit = selectors.unit_visible_by_code(request.user, data["unit"])
    if data["unit"] and unit is None:
        form.add_error("unit", _("No unit has this code."))
        return _quota_page(request, form)
    try:
        services.quota_override_set(actor=request.user, window=data["window"], limit=data["limit"], unit=unit,
                                    role=data["role"], shadow=data["shadow"])
    except DomainError as error:
        form_error(form, error)
        return _quota_page(request, form)
    messages.success(request, _("The quota is saved."))
    return redirect("lookups:quotas")


@require_POST
@require_roles(Role.IT_ADMIN)
def quota_override_clear_view(request, pk):
    override = selectors.quota_override_get(pk)  # 404 for an unknown id
    try:
        services.quota_override_clear(actor=request.user, window=override.window, unit=override.unit,
                                      role=override.role)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("The override is removed: the next less specific limit applies."))
    return redirect("lookups:quotas")
