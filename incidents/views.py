"""Incident pages. Thin: parse, call a selector or service, render. Anyone signed in reports; the IT
Center triages, contains and closes; inspectors read; leaders see their subtree's incidents, officers
their own reports (incidents.selectors: 404 outside scope)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import scope
from accounts.choices import Role
from accounts.models import Unit, User, normalise_username
from accounts.permissions import require_roles
from audit.choices import EventKind
from audit.models import SealVerification, SecurityEvent
from audit.services import audit_event_record
from lookups.models import AnomalyFlag
from portal.errors import DomainError, form_error, message_error
from portal.exports import csv_bytes, xlsx_bytes

from . import selectors
from .choices import NEXT_STATES, ContainmentStep, IncidentState, StepOutcome
from .evidence import CONTENT_TYPES, evidence_read_verified
from .forms import (
    AccountContainForm,
    AccountLiftForm,
    ContainForm,
    DeadlineMetForm,
    EvidenceForm,
    IncidentFilterForm,
    IncidentRecordForm,
    IncidentReportForm,
    LiftForm,
    NoteForm,
    ReasonForm,
    RuleForm,
    RuleSetForm,
    StateForm,
    TriageForm,
)
from .models import DeadlineRule, DeadlineRuleSet, Incident
from .reports import incident_report_pdf, incident_rows, report_context
from .services import containment as containment_services
from .services import records, rules

PAGE_SIZE = 50
READERS_OF_ALL = (Role.IT_ADMIN, Role.INSPECTOR)


def _steps_show(request, result, *, subject: str) -> None:
    """Each step's result as its own message: done, not chosen, or failed (the rest still done)."""
    if result.already:
        messages.info(request, _("%(subject)s is already contained; nothing changed.") % {"subject": subject})
        return
    for step in result.steps:
        label = ContainmentStep(step["step"]).label if step["step"] in ContainmentStep.values else step["step"]
        text = f"{label}: {step['detail']}"
        if step["outcome"] == StepOutcome.FAILED:
            messages.error(request, text)
        elif step["outcome"] == StepOutcome.SKIPPED:
            messages.info(request, text)
        else:
            messages.success(request, text)


@login_required
def incident_list_view(request):
    form = IncidentFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    incidents = selectors.incident_list(request.user, state=filters.get("state", ""),
                                        category=filters.get("category", ""))
    file_format = request.GET.get("format", "")
    if file_format in ("csv", "xlsx"):
        return _export(request, incidents, file_format)
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "incidents/incident_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "section": "incidents",
        "contained_units": selectors.units_contained_for_reader(request.user, contained=getattr(request, "contained_units", None))
        if request.user.role != Role.OFFICER else []})


def _export(request, incidents, file_format):
    header, rows = incident_rows(incidents)
    if file_format == "csv":
        content, content_type = csv_bytes(header, rows), "text/csv; charset=utf-8"
    else:
        content = xlsx_bytes(header, rows, title=_("Incidents"))
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit_event_record(kind=EventKind.LIST_EXPORTED, actor=request.user, unit=None,
                       details={"list": "incidents", "format": file_format})
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="su-co-{timezone.localdate():%Y-%m-%d}.{file_format}"'
    return response


@login_required
def incident_report_view(request):
    form = IncidentReportForm(request.POST or None, initial={"discovered_at": timezone.localtime().replace(
        second=0, microsecond=0)})
    if request.method == "POST" and form.is_valid():
        try:
            incident = records.incident_report(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Incident %(number)s reported. The IT Center will triage it.") % {
                "number": incident.number})
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/incident_report.html", {"form": form, "section": "incidents"})


@login_required
def incident_detail_view(request, pk):
    incident = selectors.incident_get_visible(request.user, pk)
    is_admin = request.user.role == Role.IT_ADMIN
    now = timezone.now()
    deadlines = [(deadline, deadline.state(now)) for deadline in selectors.incident_deadlines_of(incident)]
    context = {
        "incident": incident, "section": "incidents", "is_admin": is_admin, "deadlines": deadlines,
        "units": list(incident.units.all()), "timeline": list(incident.timeline.all()),
        "evidence": list(incident.evidence.all()), "containments": list(selectors.incident_containments(incident)),
        "next_states": [IncidentState(state) for state in NEXT_STATES[incident.state]],
    }
    if is_admin and incident.state != IncidentState.CLOSED:
        context.update({
            "triage_form": TriageForm(initial={"severity": incident.severity, "category": incident.category,
                                               "handler": request.user.pk}),
            "state_form": StateForm(), "note_form": NoteForm(), "evidence_form": EvidenceForm(),
            "contain_form": ContainForm(), "lift_form": LiftForm(),
        })
    return render(request, "incidents/incident_detail.html", context)


def _incident_for_admin(request, pk) -> Incident:
    return selectors.incident_get_visible(request.user, pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def incident_triage_view(request, pk):
    incident = _incident_for_admin(request, pk)
    form = TriageForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("incidents:detail", pk=incident.pk)
    try:
        records.incident_triage(actor=request.user, incident=incident, **form.cleaned_data)
        messages.success(request, _("Incident triaged."))
    except DomainError as error:
        message_error(request, error)
    return redirect("incidents:detail", pk=incident.pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def incident_state_view(request, pk):
    incident = _incident_for_admin(request, pk)
    form = StateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a stage from the list."))
        return redirect("incidents:detail", pk=incident.pk)
    try:
        records.incident_state_change(actor=request.user, incident=incident, **form.cleaned_data)
        messages.success(request, _("Stage changed."))
    except DomainError as error:
        message_error(request, error)
    return redirect("incidents:detail", pk=incident.pk)


@require_roles(Role.IT_ADMIN)
def incident_edit_view(request, pk):
    incident = _incident_for_admin(request, pk)
    initial = {"occurred_at": incident.occurred_at, "description": incident.description,
               "units": "\n".join(unit.code for unit in incident.units.all()), "systems": "\n".join(incident.systems),
               "personal_data_involved": incident.personal_data_involved,
               "personal_data_categories": incident.personal_data_categories,
               "citizens_affected": incident.citizens_affected, "actions_taken": incident.actions_taken,
               "lessons_learned": incident.lessons_learned}
    form = IncidentRecordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        units = values.pop("units")
        try:
            records.incident_update(actor=request.user, incident=incident, values=values, units=units)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Record saved."))
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/incident_edit.html", {"form": form, "incident": incident,
                                                             "section": "incidents"})


@require_POST
@require_roles(Role.IT_ADMIN)
def incident_note_view(request, pk):
    incident = _incident_for_admin(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            records.incident_note_add(actor=request.user, incident=incident, text=form.cleaned_data["text"])
            messages.success(request, _("Note added to the timeline."))
        except DomainError as error:
            message_error(request, error)
    else:
        messages.error(request, _("Write the note."))
    return redirect("incidents:detail", pk=incident.pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def incident_evidence_view(request, pk):
    incident = _incident_for_admin(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            evidence = records.incident_evidence_add(actor=request.user, incident=incident,
                                                     uploaded=form.cleaned_data["file"],
                                                     description=form.cleaned_data["description"])
            messages.success(request, _("Evidence added (SHA-256 %(sha256)s).") % {"sha256": evidence.sha256})
        except DomainError as error:
            message_error(request, error)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("incidents:detail", pk=incident.pk)


@require_GET
@login_required
def incident_evidence_file_view(request, pk, evidence_pk):
    incident = selectors.incident_get_visible(request.user, pk)
    if request.user.role not in (Role.IT_ADMIN, Role.INSPECTOR):
        raise Http404
    evidence = get_object_or_404(incident.evidence, pk=evidence_pk)
    data = evidence_read_verified(evidence.sha256, evidence.file_type)
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type=CONTENT_TYPES[evidence.file_type])
    response["Content-Disposition"] = f'attachment; filename="{evidence.sha256[:16]}.{evidence.file_type}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@require_roles(Role.IT_ADMIN)
def incident_contain_view(request, pk):
    """From the incident page: an account (username) or a unit (agency code), attached to the incident."""
    incident = _incident_for_admin(request, pk)
    form = ContainForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("incidents:detail", pk=incident.pk)
    target = form.cleaned_data["target"].strip()
    unit = Unit.objects.filter(code=target.upper()).first()
    account = None if unit else User.objects.filter(username=normalise_username(target)).first()
    try:
        if unit is not None:
            result = containment_services.unit_contain(
                actor=request.user, unit=unit, reason=form.cleaned_data["reason"], incident=incident,
                suspend_api_clients=form.cleaned_data["suspend_api_clients"],
                deactivate_targets=form.cleaned_data["deactivate_targets"])
        elif account is not None:
            result = containment_services.account_contain(
                actor=request.user, account=account, reason=form.cleaned_data["reason"], incident=incident,
                deactivate_targets=form.cleaned_data["deactivate_targets"])
        else:
            messages.error(request, _("No account has this username and no unit this agency code."))
            return redirect("incidents:detail", pk=incident.pk)
    except DomainError as error:
        message_error(request, error)
    else:
        _steps_show(request, result, subject=target)
    return redirect("incidents:detail", pk=incident.pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def incident_deadline_met_view(request, pk):
    incident = _incident_for_admin(request, pk)
    form = DeadlineMetForm(request.POST)
    if form.is_valid():
        try:
            records.incident_deadline_met(actor=request.user, incident=incident, **form.cleaned_data)
            messages.success(request, _("Recorded as done."))
        except DomainError as error:
            message_error(request, error)
    return redirect("incidents:detail", pk=incident.pk)


@require_GET
@login_required
def incident_print_view(request, pk):
    """The incident report, or (?draft=CODE) the notification draft of one obligation, as an
    administrative document (Decree 30/2020/NĐ-CP layout) to print, or (?format=pdf) as a PDF file."""
    incident = selectors.incident_get_visible(request.user, pk)
    if request.user.role not in (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER):
        raise Http404
    draft_code = request.GET.get("draft", "")[:40]
    context = report_context(incident, draft_code=draft_code)
    if draft_code and context["draft"] is None:
        raise Http404
    if request.GET.get("format") == "pdf":
        name = f"{incident.number}-{draft_code}.pdf" if draft_code else f"{incident.number}.pdf"
        response = HttpResponse(incident_report_pdf(incident, draft_code=draft_code), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "incidents/incident_print.html", context)


# ----- containment buttons on the account and unit pages ---------------------------------------------------

def _incident_named(request, number: str) -> Incident | None:
    number = (number or "").strip()
    if not number:
        return None
    incident = Incident.objects.filter(number=number).first()
    if incident is None:
        raise DomainError(_("No incident has this number."), code="incident_unknown")
    return incident


@require_POST
@require_roles(Role.IT_ADMIN)
def account_contain_view(request, pk):
    account = scope.account_get_visible(request.user, pk)
    form = AccountContainForm(request.POST)
    if form.is_valid():
        try:
            result = containment_services.account_contain(
                actor=request.user, account=account, reason=form.cleaned_data["reason"],
                incident=_incident_named(request, form.cleaned_data["incident"]),
                deactivate_targets=form.cleaned_data["deactivate_targets"])
            _steps_show(request, result, subject=account.username)
        except DomainError as error:
            message_error(request, error)
    else:
        messages.error(request, _("Give the reason for the containment."))
    return redirect("accounts:detail", pk=account.pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def account_lift_view(request, pk):
    account = scope.account_get_visible(request.user, pk)
    form = AccountLiftForm(request.POST)
    if form.is_valid():
        try:
            result = containment_services.containment_lift(actor=request.user, account=account,
                                                           reason=form.cleaned_data["reason"])
            _steps_show(request, result, subject=account.username)
        except DomainError as error:
            message_error(request, error)
    else:
        messages.error(request, _("Give the reason for lifting the containment."))
    return redirect("accounts:detail", pk=account.pk)


@require_roles(Role.IT_ADMIN, Role.INSPECTOR)
def unit_containment_view(request, pk):
    """A unit's containment: its state, and (IT admin) the buttons to contain or lift it."""
    unit = scope.unit_get_visible(request.user, pk)
    is_admin = request.user.role == Role.IT_ADMIN
    contain_form, lift_form = ReasonForm(), LiftForm()
    if request.method == "POST":
        if not is_admin:
            raise Http404
        lifting = request.POST.get("action") == "lift"
        form = LiftForm(request.POST) if lifting else ReasonForm(request.POST)
        if lifting:
            lift_form = form
        else:
            contain_form = form
        if form.is_valid():
            try:
                if lifting:
                    result = containment_services.containment_lift(
                        actor=request.user, unit=unit, reason=form.cleaned_data["reason"],
                        resume_api_clients=form.cleaned_data["resume_api_clients"])
                else:
                    result = containment_services.unit_contain(
                        actor=request.user, unit=unit, reason=form.cleaned_data["reason"],
                        incident=_incident_named(request, form.cleaned_data["incident"]),
                        suspend_api_clients=form.cleaned_data["suspend_api_clients"],
                        deactivate_targets=form.cleaned_data["deactivate_targets"])
                _steps_show(request, result, subject=unit.name)
                return redirect("incidents:unit_containment", pk=unit.pk)
            except DomainError as error:
                form_error(form, error)
    return render(request, "incidents/unit_containment.html", {
        "unit": unit, "is_admin": is_admin, "section": "units",
        "containment": selectors.containment_open_of_unit(unit),
        "holding": list(selectors.units_contained_holding(unit)),
        "contain_form": contain_form, "lift_form": lift_form})


# ----- one step from what the portal saw ------------------------------------------------------------------

def _opened(request, outcome):
    incident, created = outcome
    if created:
        messages.success(request, _("Incident %(number)s opened.") % {"number": incident.number})
    else:
        messages.info(request, _("Incident %(number)s was already opened from this.") % {"number": incident.number})
    return redirect("incidents:detail", pk=incident.pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def open_from_anomaly_view(request, flag_pk):
    flag = get_object_or_404(AnomalyFlag, pk=flag_pk)
    return _opened(request, records.incident_open_from_anomaly(actor=request.user, flag=flag))


@require_POST
@require_roles(Role.IT_ADMIN)
def open_from_lockout_view(request, event_pk):
    event = get_object_or_404(SecurityEvent.objects.select_related("unit"), pk=event_pk, kind=EventKind.LOCKOUT)
    return _opened(request, records.incident_open_from_lockout(actor=request.user, event=event))


@require_POST
@require_roles(Role.IT_ADMIN)
def open_from_seal_view(request, verification_pk):
    verification = get_object_or_404(SealVerification, pk=verification_pk)
    try:
        return _opened(request, records.incident_open_from_seal_verification(actor=request.user,
                                                                             verification=verification))
    except DomainError as error:
        message_error(request, error)
        return redirect("audit:seals")


# ----- the deadline rules -----------------------------------------------------------------------------------

@require_roles(*READERS_OF_ALL)
def rules_view(request):
    is_admin = request.user.role == Role.IT_ADMIN
    form = RuleSetForm(request.POST or None) if is_admin else None
    if request.method == "POST":
        if not is_admin:
            raise Http404
        if form.is_valid():
            try:
                rule_set = rules.rule_set_create(actor=request.user, **form.cleaned_data)
                messages.success(request, _("Version %(number)d made; edit its rules before it takes effect.") % {
                    "number": rule_set.number})
                return redirect("incidents:rules")
            except DomainError as error:
                form_error(form, error)
    today = timezone.localdate()
    current = selectors.rule_set_current()
    review_due = current is not None and current.review_by is not None and current.review_by <= today and not \
        DeadlineRuleSet.objects.filter(effective_from__gte=current.review_by).exists()
    return render(request, "incidents/rules.html", {
        "rule_sets": selectors.rule_sets(), "current": current, "today": today, "form": form, "is_admin": is_admin,
        "rule_form": RuleForm() if is_admin else None, "review_due": review_due, "section": "incident_rules"})


@require_POST
@require_roles(Role.IT_ADMIN)
def rule_save_view(request, set_pk, rule_pk=None):
    rule_set = get_object_or_404(DeadlineRuleSet, pk=set_pk)
    rule = get_object_or_404(DeadlineRule, pk=rule_pk, rule_set=rule_set) if rule_pk else None
    form = RuleForm(request.POST)
    if form.is_valid():
        try:
            rules.rule_save(actor=request.user, rule_set=rule_set, values=dict(form.cleaned_data), rule=rule)
            messages.success(request, _("Rule saved."))
        except DomainError as error:
            message_error(request, error)
    else:
        for name, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[name].label}: {error}" if name in form.fields else error)
    return redirect("incidents:rules")
