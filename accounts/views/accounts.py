"""Account pages. Thin: parse, call a selector or service, render. Scope comes from accounts.scope
(404 outside it), roles from accounts.permissions (403)."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audit.selectors import security_events_of_account
from federation.selectors import account_provisioning, account_sign_outs
from policy.compliance import account_last_activity
from policy.selectors import days_until_password_expiry, password_expires_at, second_factor_required
from policy.services import password_change_force
from portal.errors import DomainError, form_error, message_error

from .. import permissions, scope, selectors
from ..choices import PasswordChangeReason, Role
from ..forms import AccountCreateForm, AccountEditForm, AccountFilterForm, ReasonForm
from ..forms.review import DormancyExemptionForm
from ..permissions import require_roles
from ..services import dormancy as dormancy_services
from ..services import lifecycle as services
from ..services import second_factor
from ..services import sessions as session_services
from ..services.bulk import BULK_ACTIONS, accounts_bulk_act

READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)
PAGE_SIZE = 50


@require_roles(*READERS)
def account_list_view(request):
    units = scope.units_visible_to(request.user)
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
        "form": form, "page": page, "query": query.urlencode(), "bulk_actions": BULK_ACTIONS,
    })


@never_cache
@require_POST
@require_roles(Role.IT_ADMIN)
def account_bulk_view(request):
    """Disable, unlock or reset the chosen accounts of the list with one reason. One-time passwords of a
    bulk reset are shown on this answer only (never stored in clear, never cached)."""
    ids = [int(value) for value in request.POST.getlist("accounts") if value.isdigit()]
    # Back to the list as it was filtered (its query string only: never an address from the form).
    query = QueryDict(request.POST.get("query", "")).urlencode()
    back = reverse("accounts:list") + ("?" + query if query else "")
    try:
        outcome = accounts_bulk_act(actor=request.user, account_ids=ids, action=request.POST.get("action", ""),
                                    reason=request.POST.get("reason", ""))
    except DomainError as error:
        message_error(request, error)
        return redirect(back)
    response = render(request, "accounts/account_bulk_done.html", {
        "outcome": outcome, "action": request.POST.get("action"), "back": back})
    response["Cache-Control"] = "no-store"
    return response


@require_roles(*READERS)
def account_detail_view(request, pk):
    account = scope.account_get_visible(request.user, pk)
    return render(request, "accounts/account_detail.html", {
        "account": account,
        "status": selectors.account_status(account),
        "expires_at": password_expires_at(account),
        "expires_in_days": days_until_password_expiry(account),
        "handover_records": selectors.handover_records_for(account),
        "system_sign_outs": account_sign_outs(account),
        "provisioning": account_provisioning(account),
        "may_read_evidence": request.user.role in (Role.IT_ADMIN, Role.INSPECTOR),
        "events": security_events_of_account(account) if request.user.sees_everything else None,
        "reason_form": ReasonForm(),
        "second_factor_required": second_factor_required(account),
        "second_factor_enrolled": second_factor.second_factor_enrolled(account),
        "recovery_codes_left": second_factor.recovery_codes_left(account),
        "session_count": len(selectors.sessions_active_for(account, current_session_key=None)),
        **_dormancy_context(account, permissions.may_exempt_from_dormancy(request.user)),
    })


def _dormancy_context(account, may_exempt) -> dict:
    """The dormancy card: the account's last activity, when the daily pass would disable it, and a
    current exemption (granted or withdrawn by the IT Center only)."""
    return {
        "last_activity": account_last_activity(account),
        "dormant_at": dormancy_services.account_dormant_at(account),
        "exemption": dormancy_services.dormancy_exemption_current(account),
        "exemption_form": DormancyExemptionForm() if may_exempt else None,
    }


@require_POST
@require_roles(Role.IT_ADMIN)
def account_exemption_grant_view(request, pk):
    account = scope.account_get_visible(request.user, pk)
    form = DormancyExemptionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("accounts:detail", pk=account.pk)
    try:
        dormancy_services.dormancy_exemption_grant(actor=request.user, account=account,
                                                   reason=form.cleaned_data["reason"],
                                                   expires_at=form.cleaned_data["expires_on"])
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("The account is exempt from the dormant-account rule until %(date)s.") % {
            "date": timezone.localdate(form.cleaned_data["expires_on"]).strftime("%d/%m/%Y")})
    return redirect("accounts:detail", pk=account.pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def account_exemption_revoke_view(request, pk):
    return _account_action(request, pk, dormancy_services.dormancy_exemption_revoke, _revoked_message)


def _revoked_message(revoked: int) -> str:
    if revoked:
        return _("The exemption has been withdrawn: the dormant-account rule applies to this account again.")
    return _("The account had no exemption.")


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
    form = AccountCreateForm(request.POST or None, units=scope.units_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            account, password, record = services.account_create(actor=request.user,
                                                                **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            return _issued_response(request, account, password, record)
    return render(request, "accounts/account_form.html", {
        "form": form, "title": _("New account"), "submit_label": _("Create the account and issue a one-time password")})


@never_cache
@require_POST
@require_roles(Role.IT_ADMIN)
def account_reset_view(request, pk):
    account = scope.account_get_visible(request.user, pk)
    try:
        password, record = services.account_password_reset(actor=request.user, account=account)
    except DomainError as error:
        message_error(request, error)
        return redirect("accounts:detail", pk=account.pk)
    account.refresh_from_db()
    return _issued_response(request, account, password, record)


@require_roles(Role.IT_ADMIN)
def account_edit_view(request, pk):
    account = scope.account_get_visible(request.user, pk)
    initial = {"full_name": account.full_name, "email": account.email, "phone": account.phone,
               "unit": account.unit, "role": account.role, "can_lookup": account.can_lookup}
    own_admin_account = account.pk == request.user.pk and account.role == Role.IT_ADMIN
    form = AccountEditForm(request.POST or None, initial=initial, units=scope.units_visible_to(request.user),
                           own_admin_account=own_admin_account)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(actor=request.user, account=account, values=form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The account has been saved."))
            return redirect("accounts:detail", pk=account.pk)
    return render(request, "accounts/account_form.html",
                  {"form": form, "account": account, "title": _("Edit account %(username)s") % {
                      "username": account.username}})


def _account_action(request, pk, action, success_message, needs_reason=False):
    account = scope.account_get_visible(request.user, pk)
    extra = {}
    if needs_reason:
        form = ReasonForm(request.POST)
        if not form.is_valid():
            # The field's own error: missing, too long, or a control character — each says what to fix.
            for error in form.errors["reason"]:
                messages.error(request, error)
            return redirect("accounts:detail", pk=account.pk)
        extra["reason"] = form.cleaned_data["reason"]
    try:
        outcome = action(actor=request.user, account=account, **extra)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, success_message(outcome) if callable(success_message) else success_message)
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
    # A reason, as `manage.py unlock_account --reason` asks: the record says why the lock was lifted.
    return _account_action(request, pk, services.account_unlock, _("The account has been unlocked."), True)


@require_POST
@require_roles(Role.IT_ADMIN)
def account_force_change_view(request, pk):
    return _account_action(request, pk, password_change_force, _forced_message, True)


def _forced_message(already_required: str) -> str:
    if not already_required:
        return _("The officer must change the password at the next request.")
    return _("The officer already had to change the password (%(why)s); your request and its reason have "
             "been recorded.") % {"why": PasswordChangeReason(already_required).label}


@require_POST
@require_roles(Role.IT_ADMIN)
def account_sessions_end_view(request, pk):
    return _account_action(request, pk, session_services.account_sessions_end, _sessions_ended_message)


def _sessions_ended_message(ended: int) -> str:
    return ngettext("%(count)d session has been ended.", "%(count)d sessions have been ended.", ended) % {
        "count": ended}


@require_POST
@require_roles(Role.IT_ADMIN)
def account_second_factor_reset_view(request, pk):
    return _account_action(request, pk, second_factor.second_factor_reset, _(
        "The authenticator app has been reset: the officer enrols a new one at the next sign-in."), True)


@require_roles(*READERS)
def handover_record_view(request, pk):
    record = scope.handover_record_get_visible(request.user, pk)
    return render(request, "accounts/handover_record.html", {"record": record})


