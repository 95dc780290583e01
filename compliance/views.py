"""Compliance pages: the dashboards (a reader's home page), the accounts behind each figure, one
account's compliance and history, the monthly reports and the exports. Thin: scope from
accounts.scope (404 outside it), roles by require_roles (403), figures from compliance.selectors."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.choices import Role
from accounts.permissions import require_roles
from accounts.scope import account_get_visible, unit_get_visible
from policy.compliance import ComplianceReason
from policy.selectors import password_expires_at
from portal.errors import DomainError, form_error

from . import selectors, services
from .exports import CONTENT_TYPES, FORMATS, INLINE_LIMIT, LISTS, export_file, export_heading
from .forms import ThresholdsForm
from .models import ExportJob
from .points import unit_points

READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)
PAGE_SIZE = 50


def _dashboard_response(request, unit, *, home: bool):
    month = selectors.parse_month(request.GET.get("month", ""))
    board = selectors.dashboard(request.user, unit, month=month)
    # A past month is history: today's to-do list and today's figures (passwords expiring this week,
    # open requests, jobs) do not belong on it.
    past = month is not None and month < timezone.localdate().replace(day=1)
    context = {
        "board": board, "home": home, "past": past, "actions": [] if past else selectors.helpful_actions(board),
        "reason_labels": dict(ComplianceReason.choices), "section": "dashboard",
        "month_value": month.strftime("%Y-%m") if month else "",
        "province": request.user.sees_everything and unit.parent_id is None,
    }
    # The letter point by point ("Điểm 1" … "Điểm 5"), each with its status and evidence (compliance.points).
    context["points"] = unit_points(unit, month=month, snapshot=board.snapshot if board.computed_now else None)
    if not past:
        # Systems that keep their own accounts: the unit and the units below it (each its subtree).
        context["coverage"] = selectors.coverage_of(request.user, unit)
    if context["province"] and not past:
        context["turnover_buckets"], context["turnover_overdue"] = selectors.turnover_open_by_age(request.user)
        context["jobs"] = selectors.jobs_health()
        context["quarantined"] = selectors.systems_quarantined_for(request.user)
    return render(request, "compliance/dashboard.html", context)


@require_roles(*READERS)
def home_view(request):
    """A leader's home: the dashboard of their subtree; it_admin's and inspector's: the province's."""
    return _dashboard_response(request, selectors.home_unit_for(request.user), home=True)


@require_roles(*READERS)
def unit_dashboard_view(request, pk):
    return _dashboard_response(request, unit_get_visible(request.user, pk), home=False)


@require_roles(*READERS)
def unit_chart_view(request, pk):
    """The charts' data as JSON (scripts draw them; the page shows the same figures as tables)."""
    unit = unit_get_visible(request.user, pk)
    board = selectors.dashboard(request.user, unit, month=selectors.parse_month(request.GET.get("month", "")))
    return JsonResponse(selectors.chart_data(board))


@require_roles(*READERS)
def unit_accounts_view(request, pk):
    """The accounts behind a figure: the unit's subtree, failing one reason (or any), as of now."""
    unit = unit_get_visible(request.user, pk)
    reason = request.GET.get("reason", "")
    if reason and reason not in ComplianceReason.values:
        reason = ""
    accounts = selectors.accounts_failing(request.user, unit, reason)
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    for account in page:
        account.reasons = [ComplianceReason(code).label for code in ComplianceReason.values
                           if getattr(account, f"fails_{code}", False)]
    return render(request, "compliance/unit_accounts.html", {
        "unit": unit, "reason": reason, "reason_label": ComplianceReason(reason).label if reason else "",
        "page": page, "section": "dashboard", "reasons": ComplianceReason.choices,
    })


# Each rule named for what complies (the account page shows "Complies" or "Does not comply" beside
# it; ComplianceReason's labels name the failure, for the lists of failing accounts).
RULE_NAMES = {
    ComplianceReason.PASSWORD_EXPIRED: gettext_lazy("Password changed within its maximum age"),
    ComplianceReason.ONE_TIME_UNUSED: gettext_lazy("One-time password replaced within its validity"),
    ComplianceReason.DORMANT: gettext_lazy("Used within the dormancy period"),
    ComplianceReason.UNCERTIFIED: gettext_lazy("Certified in the current recertification campaign"),
    ComplianceReason.TURNOVER_OVERDUE: gettext_lazy("Turnover requests naming it sent by the unit on time"),
    ComplianceReason.LOOKUP_QUOTA: gettext_lazy("Lookups within the quotas"),
    ComplianceReason.LOOKUP_ANOMALY: gettext_lazy("No open anomaly in its lookups"),
    ComplianceReason.SECOND_FACTOR: gettext_lazy("Two-factor authentication where the role requires it"),
}


@require_roles(*READERS)
def account_view(request, pk):
    """One account: whether it complies now, rule by rule, and its history (its security events)."""
    account = account_get_visible(request.user, pk)
    rules = selectors.account_rules(account)
    return render(request, "compliance/account.html", {
        "account": account, "section": "dashboard", "expires_at": password_expires_at(account),
        "rules": [(RULE_NAMES.get(code, ComplianceReason(code).label), state) for code, state in rules],
        "failing": any(state == "fails" for _code, state in rules),
        "events": selectors.account_history(account, reader=request.user),
    })


@never_cache
@require_roles(Role.IT_ADMIN)
def thresholds_view(request):
    current = selectors.thresholds_current()
    form = ThresholdsForm(request.POST or None, initial={"good_from": current.good_from,
                                                         "attention_from": current.attention_from})
    if request.method == "POST" and form.is_valid():
        try:
            services.thresholds_update(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The compliance zones have been saved."))
            return redirect("compliance:thresholds")
    return render(request, "compliance/thresholds.html", {"form": form, "section": "dashboard"})


# ----- monthly reports ----------------------------------------------------------------------------------

@require_roles(*READERS)
def report_list_view(request):
    page = Paginator(selectors.report_list(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "compliance/report_list.html", {"page": page, "section": "reports"})


def _report_or_404(request, pk):
    return get_object_or_404(selectors.reports_visible_to(request.user), pk=pk)


@require_roles(*READERS)
def report_view(request, pk):
    report = _report_or_404(request, pk)
    return HttpResponse(report.html)


@require_roles(*READERS)
def report_file_view(request, pk, file_format):
    report = _report_or_404(request, pk)
    if file_format == "pdf":
        content, content_type = bytes(report.pdf), "application/pdf"
    elif file_format == "xlsx":
        content, content_type = bytes(report.xlsx), CONTENT_TYPES["xlsx"]
    else:
        raise Http404
    response = HttpResponse(content, content_type=content_type)
    name = f"bao-cao-tuan-thu-{report.unit_code}-{report.month:%Y-%m}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ----- exports ------------------------------------------------------------------------------------------

@require_roles(*READERS, Role.OFFICER)
def export_view(request, list_name, file_format):
    """Any list as CSV or XLSX, with the same filters (query parameters) as its page; scope applies in
    its selector. Large ones run in the background (a job with progress)."""
    export = LISTS.get(list_name)
    if export is None or file_format not in FORMATS:
        raise Http404
    if request.user.role not in export.readers:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    params = {key: request.GET.get(key) for key in request.GET if key != "page"}
    rows = export.rows(request.user, params)
    count = rows.count()
    if count > INLINE_LIMIT:
        job = services.export_job_start(actor=request.user, list_name=list_name, params=params,
                                        file_format=file_format, rows_total=count)
        return redirect("compliance:export_job", pk=job.pk)
    content = export_file(export, file_format, rows, heading=export_heading(export, request.user, params))
    services.export_record(actor=request.user, list_name=list_name, file_format=file_format, rows=count)
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{list_name}-{timezone.localdate():%Y%m%d}.{file_format}"'
    return response


def _job_or_404(request, pk) -> ExportJob:
    return get_object_or_404(ExportJob.objects.defer("content"), pk=pk, requested_by=request.user)


@require_roles(*READERS, Role.OFFICER)
def export_job_view(request, pk):
    return render(request, "compliance/export_job.html", {"job": _job_or_404(request, pk)})


@never_cache
@require_roles(*READERS, Role.OFFICER)
def export_progress_view(request, pk):
    job = _job_or_404(request, pk)
    return JsonResponse({"state": job.state, "running": job.state in (ExportJob.State.PENDING, ExportJob.State.RUNNING),
                         "rows_done": job.rows_done, "rows_total": job.rows_total})


@require_roles(*READERS, Role.OFFICER)
def export_download_view(request, pk):
    job = get_object_or_404(ExportJob, pk=pk, requested_by=request.user, state=ExportJob.State.DONE)
    response = HttpResponse(bytes(job.content), content_type=CONTENT_TYPES[job.file_format])
    response["Content-Disposition"] = f'attachment; filename="{job.file_name}"'
    return response
