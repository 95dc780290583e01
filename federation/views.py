"""The connected-systems registry page: it_admin manages, inspectors read. Thin views: parse, call a
service or a selector, render. A new secret is rendered once from the POST, never redirected to."""
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from kombu.exceptions import OperationalError

from accounts.choices import Role
from accounts.permissions import require_roles
from lookups.models import ApiClient
from lookups.services import api_client_create, api_client_revoke
from portal.downloads import attachment_response
from portal.errors import DomainError, form_error, message_error
from portal.exports import csv_bytes

from . import reconcile, selectors, services, targets
from .choices import SystemKind
from .forms import ApiClientForm, ManualTaskDoneForm, RoleMappingForm, SystemForm
from .services import ROLE_MAPPING_KEYS
from .tasks import reconcile_system

READERS = (Role.IT_ADMIN, Role.INSPECTOR)


def _issuer() -> str:
    return settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"]


def _system_or_404(request, pk):
    return get_object_or_404(selectors.systems_visible_to(request.user), pk=pk)


def _registry_page(request, *, form=None, client_form=None, status=200):
    return render(request, "federation/registry.html", {
        "systems": selectors.systems_visible_to(request.user),
        "api_clients": ApiClient.objects.select_related("unit").order_by("-is_active", "name"),
        "form": form or SystemForm(), "client_form": client_form or ApiClientForm(),
        "can_manage": request.user.role == Role.IT_ADMIN,
    }, status=status)


@require_roles(*READERS)
@require_http_methods(["GET", "POST"])
def registry_view(request):
    if request.method != "POST":
        return _registry_page(request)
    form = SystemForm(request.POST)
    if form.is_valid():
        try:
            system, secret = services.system_register(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            return render(request, "federation/secret_issued.html", {"system": system, "secret": secret, "issuer": _issuer()})
    return _registry_page(request, form=form, status=400)


@require_roles(*READERS)
@require_http_methods(["GET", "POST"])
def system_detail_view(request, pk):
    system = _system_or_404(request, pk)
    if system.application_id is None:
        # A SCIM or manual target: registered and changed with `connect_system`; the page shows it.
        return render(request, "federation/system_detail.html", {
            "system": system, "form": None, "failing": selectors.system_deliveries_failing(system),
            "reconciliations": selectors.reconciliations_of(system), "can_manage": request.user.role == Role.IT_ADMIN}, status=405 if request.method == "POST" else 200)
    if request.method == "POST":
        form = SystemForm(request.POST)
        if form.is_valid():
            try:
                services.system_update(actor=request.user, system=system, **form.cleaned_data)
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, _("The system has been saved."))
                return redirect("federation:system", pk=system.pk)
    else:
        form = SystemForm(initial={"name": system.name, "unit": system.unit_id, "contact": system.contact,
                                   "redirect_uris": "\n".join(system.application.redirect_uris.split()),
                                   "backchannel_logout_uri": system.backchannel_logout_uri})
    return render(request, "federation/system_detail.html", {
        "system": system, "form": form, "failing": selectors.system_deliveries_failing(system),
        "can_manage": request.user.role == Role.IT_ADMIN,
    }, status=400 if form.is_bound else 200)


@require_roles(Role.IT_ADMIN)
@require_POST
def system_secret_view(request, pk):
    system = _system_or_404(request, pk)
    try:
        secret = services.system_secret_rotate(actor=request.user, system=system)
    except DomainError as error:
        message_error(request, error)
        return redirect("federation:system", pk=system.pk)
    return render(request, "federation/secret_issued.html", {"system": system, "secret": secret, "rotated": True,
                                                               "issuer": _issuer()})


@require_roles(Role.IT_ADMIN)
@require_POST
def system_state_view(request, pk):
    system = _system_or_404(request, pk)
    try:
        if request.POST.get("action") == "enable":
            services.system_enable(actor=request.user, system=system)
            messages.success(request, _("The system signs officers in again."))
        else:
            services.system_disable(actor=request.user, system=system)
            messages.success(request, _("The system has been disabled: it signs nobody in and its tokens are revoked."))
    except DomainError as error:
        message_error(request, error)
    return redirect("federation:system", pk=system.pk)


@require_roles(Role.IT_ADMIN)
@require_POST
def api_client_create_view(request):
    form = ApiClientForm(request.POST)
    if form.is_valid():
        try:
            client, token = api_client_create(actor=request.user, name=form.cleaned_data["name"],
                                              unit=form.cleaned_data["unit"])
        except DomainError as error:
            form_error(form, error)
        else:
            return render(request, "federation/secret_issued.html", {"api_client": client, "secret": token})
    return _registry_page(request, client_form=form, status=400)


@require_roles(Role.IT_ADMIN)
@require_POST
def api_client_revoke_view(request, pk):
    client = get_object_or_404(ApiClient, pk=pk)
    try:
        if api_client_revoke(actor=request.user, name=client.name):
            messages.success(request, _("The API client's token no longer works."))
    except DomainError as error:
        message_error(request, error)
    return redirect("federation:registry")


@require_roles(Role.IT_ADMIN)
@require_POST
def system_reconcile_view(request, pk):
    """Queue the reconciliation (reading a large target takes minutes: never inside the request); the
    report appears in the system page's list when the job has read the target."""
    system = _system_or_404(request, pk)
    if system.kind != SystemKind.SCIM:
        messages.error(request, _("Only a SCIM target can be reconciled."))
        return redirect("federation:system", pk=system.pk)
    try:
        reconcile_system.apply_async(args=[system.pk, request.user.pk], retry=False)
    except (OperationalError, OSError):
        messages.error(request, _("The reconciliation could not be started now (the job queue does not answer); "
                                  "try again in a few minutes, or wait for the nightly pass."))
    else:
        messages.success(request, _("The reconciliation has started; its report appears below when the system "
                                    "has been read."))
    return redirect("federation:system", pk=system.pk)


@require_roles(Role.IT_ADMIN)
@require_POST
def system_resume_view(request, pk):
    system = _system_or_404(request, pk)
    try:
        sent = targets.system_deliveries_resume(actor=request.user, system=system)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, ngettext("Deliveries resumed: %(count)d waiting delivery sent.",
                                           "Deliveries resumed: %(count)d waiting deliveries sent.", sent)
                         % {"count": sent})
    return redirect("federation:system", pk=system.pk)


@require_roles(Role.IT_ADMIN)
@require_http_methods(["GET", "POST"])
def system_role_mapping_view(request, pk):
    system = _system_or_404(request, pk)
    if system.kind != SystemKind.SCIM:
        raise Http404
    if request.method == "POST":
        form = RoleMappingForm(request.POST)
        if form.is_valid():
            try:
                queued = targets.system_role_mapping_set(actor=request.user, system=system, mapping=form.cleaned_data)
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, ngettext(
                    "The role mapping has been saved; %(count)d account is pushed again.",
                    "The role mapping has been saved; %(count)d accounts are pushed again.", queued) % {"count": queued})
                return redirect("federation:system", pk=system.pk)
    else:
        form = RoleMappingForm(initial={role: (system.role_mapping or {}).get(role, "") for role in ROLE_MAPPING_KEYS})
    return render(request, "federation/role_mapping.html", {"system": system, "form": form},
                  status=400 if form.is_bound else 200)


def _report_or_404(request, pk):
    report = selectors.reconciliation_visible_to(request.user, pk)
    if report is None:
        raise Http404
    return report


@require_roles(*READERS)
def reconciliation_view(request, pk):
    report = _report_or_404(request, pk)
    return render(request, "federation/reconciliation.html", {
        "report": report, "can_manage": request.user.role == Role.IT_ADMIN})


@require_roles(*READERS)
def reconciliation_csv_view(request, pk):
    report = _report_or_404(request, pk)
    response = HttpResponse(csv_bytes(selectors.RECONCILIATION_CSV_HEADER, selectors.reconciliation_rows(report)),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reconciliation-{report.pk}.csv"'
    return response


@require_roles(Role.IT_ADMIN)
@require_POST
def reconciliation_correct_view(request, pk):
    report = _report_or_404(request, pk)
    try:
        queued = reconcile.reconciliation_correct(actor=request.user, report=report)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, ngettext("%(count)d corrective push queued.", "%(count)d corrective pushes queued.",
                                           queued) % {"count": queued})
    return redirect("federation:reconciliation", pk=report.pk)


def _tasks_page(request, *, forms_by_task=None, status=200):
    forms_by_task = forms_by_task or {}
    tasks = list(selectors.manual_tasks_visible_to(request.user))
    now = timezone.now()
    rows = [(task, forms_by_task.get(task.pk) or ManualTaskDoneForm(prefix=f"t{task.pk}"), task.due_at < now)
            for task in tasks]
    return render(request, "federation/manual_tasks.html", {
        "rows": rows, "done": list(selectors.manual_tasks_visible_to(request.user, open_only=False)
                                   .exclude(done_at=None)[:50]),
        "can_manage": request.user.role == Role.IT_ADMIN}, status=status)


@require_roles(*READERS)
def manual_tasks_view(request):
    return _tasks_page(request)


@require_roles(Role.IT_ADMIN)
@require_POST
def manual_task_done_view(request, pk):
    task = get_object_or_404(selectors.manual_tasks_visible_to(request.user), pk=pk)
    form = ManualTaskDoneForm(request.POST, request.FILES, prefix=f"t{task.pk}")
    if form.is_valid():
        try:
            services.manual_task_complete(actor=request.user, task=task, note=form.cleaned_data["note"],
                                          evidence=form.cleaned_data["file"])
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The task is done; its evidence is kept."))
            return redirect("federation:manual_tasks")
    return _tasks_page(request, forms_by_task={task.pk: form}, status=400)


@require_roles(*READERS)
@require_http_methods(["GET", "HEAD"])  # a download, recorded in the security log: never by POST
def manual_task_evidence_view(request, pk):
    """The evidence a task was closed with: a download for the IT Center and inspectors, recorded in the
    security log; 404 for a task without evidence or whose file is gone."""
    task = get_object_or_404(selectors.manual_tasks_visible_to(request.user, open_only=False)
                             .select_related("system__unit"), pk=pk)
    try:
        handle, content_type, filename = targets.manual_task_evidence_open(actor=request.user, task=task)
    except FileNotFoundError as missing:
        raise Http404 from missing
    return attachment_response(handle, content_type=content_type, filename=filename)
