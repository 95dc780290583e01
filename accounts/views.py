"""Account and unit pages. Thin: parse, call a selector or service, render. Scope comes from
accounts.selectors (404 outside it), roles from accounts.permissions (403)."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audit.selectors import security_events_of_account
from policy.selectors import days_until_password_expiry, password_change_reason, password_expires_at
from policy.services import password_change_force
from portal.errors import DomainError

from . import selectors, services
from .choices import Role
from .forms import (
    AccountCreateForm,
    AccountEditForm,
    AccountFilterForm,
    ReasonForm,
    UnitCreateForm,
    UnitRenameForm,
    UnitTargetForm,
)
from .permissions import require_roles

READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)
PAGE_SIZE = 50


@require_roles(*READERS)
def account_list_view(request):
    units = selectors.units_visible_to(request.user)
    form = AccountFilterForm(request.GET or None, units=units)
    filters = form.cleaned_data if form.is_valid() else {}
    accounts = selectors.account_list(
        request.user, search=filters.get("q", ""), unit_id=getattr(filters.get("unit"), "pk", None),
        role=filters.get("role", ""), state=filters.get("state", ""),
    )
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/account_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


@require_roles(*READERS)
def account_detail_view(request, pk):
    account = selectors.account_get_visible(request.user, pk)
    return render(request, "accounts/account_detail.html", {
        "account": account,
        "locked": selectors.account_is_locked(account),
        "expires_at": password_expires_at(account),
        "expires_in_days": days_until_password_expiry(account),
        "change_reason": password_change_reason(account),
        "handover_records": selectors.handover_records_for(account),
        "events": security_events_of_account(account) if request.user.sees_everything else None,
        "reason_form": ReasonForm(),
    })


def _issued_response(request, account, password, record):
    """The one-time password is shown on this response only: never stored in clear, never e-mailed,
    never cached by the browser."""
    response = render(request, "accounts/account_issued.html",
                      {"account": account, "password": password, "record": record})
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_roles(Role.IT_ADMIN)
def account_create_view(request):
    form = AccountCreateForm(request.POST or None, units=selectors.units_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            account, password, record = services.account_create(actor=request.user, request=request,
                                                                **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return _issued_response(request, account, password, record)
    return render(request, "accounts/account_form.html", {
        "form": form, "title": _("New account"), "submit_label": _("Create the account and issue a one-time password")})


@never_cache
@require_POST
@require_roles(Role.IT_ADMIN)
def account_reset_view(request, pk):
    account = selectors.account_get_visible(request.user, pk)
    try:
        password, record = services.account_password_reset(actor=request.user, account=account, request=request)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("accounts:detail", pk=account.pk)
    account.refresh_from_db()
    return _issued_response(request, account, password, record)


@require_roles(Role.IT_ADMIN)
def account_edit_view(request, pk):
    account = selectors.account_get_visible(request.user, pk)
    initial = {"full_name": account.full_name, "email": account.email, "phone": account.phone,
               "unit": account.unit, "role": account.role, "can_lookup": account.can_lookup}
    form = AccountEditForm(request.POST or None, initial=initial, units=selectors.units_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(actor=request.user, account=account, values=form.cleaned_data,
                                    request=request)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The account has been saved."))
            return redirect("accounts:detail", pk=account.pk)
    return render(request, "accounts/account_form.html",
                  {"form": form, "account": account, "title": _("Edit account %(username)s") % {
                      "username": account.username}})


def _account_action(request, pk, action, success_message, needs_reason=False):
    account = selectors.account_get_visible(request.user, pk)
    extra = {}
    if needs_reason:
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give a reason."))
            return redirect("accounts:detail", pk=account.pk)
        extra["reason"] = form.cleaned_data["reason"]
    try:
        action(actor=request.user, account=account, request=request, **extra)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success_message)
    return redirect("accounts:detail", pk=account.pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def account_disable_view(request, pk):
    return _account_action(request, pk, services.account_disable, _("The account has been disabled."), True)


@require_POST
@require_roles(Role.IT_ADMIN)
def account_enable_view(request, pk):
    return _account_action(request, pk, services.account_enable, _("The account has been enabled."))


@require_POST
@require_roles(Role.IT_ADMIN)
def account_unlock_view(request, pk):
    return _account_action(request, pk, services.account_unlock, _("The account has been unlocked."))


@require_POST
@require_roles(Role.IT_ADMIN)
def account_force_change_view(request, pk):
    return _account_action(request, pk, password_change_force,
                           _("The officer must change the password at the next request."), True)


@require_roles(*READERS)
def handover_record_view(request, pk):
    record = selectors.handover_record_get_visible(request.user, pk)
    return render(request, "accounts/handover_record.html", {"record": record})


# ----- units -----------------------------------------------------------------------------------------

@require_roles(*READERS)
def unit_list_view(request):
    return render(request, "accounts/unit_list.html", {"units": selectors.unit_tree(request.user)})


@require_roles(Role.IT_ADMIN)
def unit_create_view(request):
    form = UnitCreateForm(request.POST or None, units=selectors.units_visible_to(request.user),
                          initial={"parent": request.GET.get("parent")})
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(actor=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Unit %(name)s has been created.") % {"name": unit.name})
            return redirect("accounts:unit_list")
    return render(request, "accounts/unit_form.html", {"form": form, "title": _("New unit")})


def _unit_form_view(request, pk, form_class, service, title, success_message, **service_kwargs):
    unit = selectors.unit_get_visible(request.user, pk)
    kwargs = {"units": selectors.units_visible_to(request.user), "exclude": unit} if form_class is UnitTargetForm else {}
    form = form_class(request.POST or None, **kwargs) if form_class else None
    if request.method == "POST" and (form is None or form.is_valid()):
        values = form.cleaned_data if form else {}
        try:
            service(actor=request.user, unit=unit, request=request, **{
                service_kwargs.get(key, key): value for key, value in values.items()})
        except DomainError as error:
            if form is None:
                messages.error(request, error.message)
                return redirect("accounts:unit_list")
            form.add_error(None, error.message)
        else:
            messages.success(request, success_message)
            return redirect("accounts:unit_list")
    return render(request, "accounts/unit_form.html", {"form": form, "unit": unit, "title": title})


@require_roles(Role.IT_ADMIN)
def unit_rename_view(request, pk):
    return _unit_form_view(request, pk, UnitRenameForm, services.unit_rename, _("Rename unit"),
                           _("The unit has been renamed."))


@require_roles(Role.IT_ADMIN)
def unit_move_view(request, pk):
    return _unit_form_view(request, pk, UnitTargetForm, services.unit_move, _("Change parent unit"),
                           _("The unit has been moved."), target="new_parent")


@require_roles(Role.IT_ADMIN)
def unit_merge_view(request, pk):
    return _unit_form_view(request, pk, UnitTargetForm, services.unit_merge, _("Merge unit"),
                           _("The unit has been merged; its accounts and sub-units moved."), target="into")


@require_roles(Role.IT_ADMIN)
def unit_retire_view(request, pk):
    return _unit_form_view(request, pk, None, services.unit_retire, _("Retire unit"),
                           _("The unit has been retired."))
