"""Inspection pages (letter point 5): the list, recording an inspection and its findings (inspectors),
answering a fix (the unit's leader), closing or returning it (inspectors), and the printable inspection
record (biên bản kiểm tra) laid out as Decree 30/2020/NĐ-CP's appendix I."""
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.attachments import attachment_path
from accounts.choices import Role
from accounts.permissions import require_roles
from accounts.scope import units_visible_to
from portal.errors import DomainError, form_error, message_error

from .. import selectors, services
from ..choices import FixState
from ..forms import FindingForm, FixAnswerForm, FixCloseForm, InspectionForm
from ..models import RequiredFix

READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)


@require_roles(*READERS)
def inspection_list_view(request):
    return render(request, "letter/inspection_list.html", {
        "rows": selectors.inspection_rows(request.user, timezone.localdate()), "section": "letter"})


@never_cache
@require_roles(Role.INSPECTOR)
def inspection_create_view(request):
    post = request.method == "POST"
    form = InspectionForm(request.POST if post else None, request.FILES if post else None,
                          units=units_visible_to(request.user))
    if post and form.is_valid():
        try:
            inspection = services.inspection_record(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The inspection has been recorded: add its findings."))
            return redirect("letter:inspection", pk=inspection.pk)
    return render(request, "letter/inspection_form.html", {"form": form, "section": "letter"})


def _fixes(inspection):
    return list(RequiredFix.objects.filter(finding__inspection=inspection).select_related("finding", "answered_by",
                                                                                          "closed_by"))


@never_cache
@require_roles(*READERS)
def inspection_detail_view(request, pk):
    inspection = selectors.inspection_get_visible(request.user, pk)
    form = FindingForm(request.POST or None) if request.user.role == Role.INSPECTOR else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                services.finding_add(actor=request.user, inspection=inspection, **form.cleaned_data)
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, _("The finding has been recorded."))
                return redirect("letter:inspection", pk=inspection.pk)
    fixes = _fixes(inspection)
    by_finding = {}
    for fix in fixes:
        by_finding.setdefault(fix.finding_id, []).append(fix)
    findings = [(finding, by_finding.get(finding.pk, [])) for finding in inspection.findings.all()]
    return render(request, "letter/inspection_detail.html", {
        "inspection": inspection, "findings": findings, "form": form, "section": "letter",
        "today": timezone.localdate(), "answer_form": FixAnswerForm(), "close_form": FixCloseForm(),
        "states": FixState, "is_leader": request.user.role == Role.UNIT_LEADER,
        "is_inspector": request.user.role == Role.INSPECTOR})


@require_POST
@require_roles(Role.UNIT_LEADER)
def fix_answer_view(request, pk):
    fix = selectors.fix_get_visible(request.user, pk)
    form = FixAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.fix_answer(actor=request.user, fix=fix, **form.cleaned_data)
        except DomainError as error:
            message_error(request, error)
        else:
            messages.success(request, _("Your answer has been sent to the inspectors."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("letter:inspection", pk=fix.finding.inspection_id)


@require_POST
@require_roles(Role.INSPECTOR)
def fix_close_view(request, pk):
    fix = selectors.fix_get_visible(request.user, pk)
    form = FixCloseForm(request.POST)
    if form.is_valid():
        try:
            services.fix_close(actor=request.user, fix=fix, note=form.cleaned_data["note"],
                               accept=form.cleaned_data["decision"] == "close")
        except DomainError as error:
            message_error(request, error)
        else:
            messages.success(request, _("The fix has been closed.") if form.cleaned_data["decision"] == "close"
                             else _("The fix has been returned to the unit."))
    else:
        messages.error(request, _("Choose whether to close the fix or return it."))
    return redirect("letter:inspection", pk=fix.finding.inspection_id)


@require_roles(*READERS)
def inspection_record_view(request, pk):
    """The printable inspection record (biên bản kiểm tra)."""
    inspection = selectors.inspection_get_visible(request.user, pk)
    fixes = _fixes(inspection)
    return render(request, "letter/inspection_record.html", {
        "inspection": inspection, "findings": list(inspection.findings.all()), "fixes": fixes,
        "team": [line.strip() for line in inspection.team.splitlines() if line.strip()]})


@require_roles(*READERS)
def evidence_file_view(request, kind, pk):
    """An inspection's evidence or a fix's answer evidence, to readers whose scope covers the unit."""
    if kind == "inspection":
        item = selectors.inspection_get_visible(request.user, pk)
        digest, name = item.evidence_sha256, item.evidence_name
    elif kind == "fix":
        item = selectors.fix_get_visible(request.user, pk)
        digest, name = item.answer_evidence_sha256, item.answer_evidence_name
    else:
        raise Http404
    if not digest:
        raise Http404
    try:
        handle = attachment_path(digest).open("rb")
    except (FileNotFoundError, ValueError) as missing:
        raise Http404 from missing
    response = FileResponse(handle, as_attachment=True, content_type="application/pdf", filename=name or "evidence.pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
