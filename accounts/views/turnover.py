"""Turnover request pages (letter point 2). Thin: parse, call a selector or service, render. Scope is
accounts.scope (404 outside it, also for a guessed id); the services decide who may do what — the
buttons shown here only mirror them."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.errors import DomainError, PolicyViolation, form_error, message_error

from .. import permissions, scope, selectors
from ..attachments import attachment_path, download_name
from ..choices import TURNOVER_EXECUTED_STATES, Role, TurnoverState
from ..forms.review import PrefilledTurnoverLineFormSet
from ..forms.turnover import (
    AccountSearchForm,
    CancelForm,
    HolidayForm,
    ReturnForm,
    TurnoverFilterForm,
    TurnoverLetterForm,
    TurnoverLineFormSet,
)
from ..models import Holiday, TurnoverLine, Unit
from ..permissions import require_roles
from ..services import turnover as services

EVERYONE = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER, Role.OFFICER)
FILERS = (Role.IT_ADMIN, Role.UNIT_LEADER, Role.OFFICER)
PAGE_SIZE = 50


def duration_text(duration):
    """“2 days 3 hours” for the letter→execution time."""
    if duration is None:
        return "—"
    if duration.total_seconds() < 3600:  # "3 minutes" rather than "0 hours" for a request done at once
        minutes = max(int(duration.total_seconds() // 60), 0)
        return ngettext("%(minutes)d minute", "%(minutes)d minutes", minutes) % {"minutes": minutes}
    hours = max(int(duration.total_seconds() // 3600), 0)
    days, hours = divmod(hours, 24)
    day_text = ngettext("%(days)d day", "%(days)d days", days) % {"days": days}
    hour_text = ngettext("%(hours)d hour", "%(hours)d hours", hours) % {"hours": hours}
    return f"{day_text} {hour_text}" if days else hour_text


@require_roles(*EVERYONE)
def turnover_list_view(request):
    form = TurnoverFilterForm(request.GET or None)
    state = form.cleaned_data.get("state", "") if form.is_valid() else ""
    requests = selectors.turnover_request_list(request.user, state=state)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for turnover_request in page:
        turnover_request.execution_time = duration_text(selectors.letter_to_execution(turnover_request))
        turnover_request.completion_time = duration_text(selectors.letter_to_completion(turnover_request))
    selectors.turnover_deadlines_shown(page.object_list)
    times = selectors.turnover_completion_times(scope.turnover_requests_visible_to(request.user))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/turnover_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "section": "turnover",
        "times": times, "median_text": duration_text(times["median"]), "worst_text": duration_text(times["worst"]),
        "may_file": request.user.role in FILERS,
    })


@require_GET
@require_roles(*FILERS)
def account_search_view(request):
    """The account picker's JSON: at most 20 accounts the reader may name in a request, matching what
    was typed (accent-insensitive). Bad input is a 400 with the reason, never a 500."""
    form = AccountSearchForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"results": [], "error": next(iter(form.errors.values()))[0]}, status=400)
    accounts = selectors.account_list(request.user, search=form.cleaned_data["q"])[:20]
    return JsonResponse({"results": [
        {"id": account.pk, "label": f"{account.username} — {account.full_name}", "parent": account.unit.name}
        for account in accounts]})


def _filing_scope(user):
    """Units a user may file for and accounts they may name: their scope (an officer's is their own unit
    and account); the service checks again (accounts.permissions.may_file_turnover_for)."""
    return scope.units_visible_to(user), scope.accounts_visible_to(user)


def _line_error(formset, filled, error: PolicyViolation) -> bool:
    """Put a service refusal about line N next to its field in that line's form."""
    index = getattr(error, "line", None)
    if index is None or index >= len(filled):
        return False
    form_error(filled[index], error)
    return True


PREFILL_SESSION_KEY = "turnover_prefill"


def turnover_prefill_redirect(request, lines: list[dict], *, unit=None):
    """Open the filing form with these lines (a roster reconciliation's or a campaign's findings,
    built by their services). They wait in the server-side session, by id, for the next GET of the
    form: nothing a browser could alter, and the leader still adds the letter and its PDF."""
    def plain(value):
        return getattr(value, "pk", value)

    request.session[PREFILL_SESSION_KEY] = {
        "unit": plain(unit), "lines": [{name: plain(value) for name, value in line.items()
                                        if name != "note" and value not in ("", None)} for line in lines]}
    return redirect("accounts:turnover_create")


def _turnover_line_forms(request, post, accounts):
    """The line formset; on a GET after turnover_prefill_redirect, filled with its lines (once)."""
    prefill = request.session.pop(PREFILL_SESSION_KEY, None) if post is None else None
    named = request.GET.get("account", "") if post is None else ""
    if not prefill and named.isdigit() and accounts.filter(pk=int(named)).exists():
        # From an account that does not comply (its compliance page): a first line naming it; the
        # filer says what to do with it.
        prefill = {"lines": [{"account": int(named)}]}
    if prefill:
        lines = PrefilledTurnoverLineFormSet(prefix="lines", accounts=accounts, units=Unit.objects.all(),
                                             initial=prefill["lines"])
        return lines, {"unit": prefill["unit"]} if prefill.get("unit") else {}
    return TurnoverLineFormSet(post, prefix="lines", accounts=accounts, units=Unit.objects.all()), {}


@never_cache
@require_roles(*FILERS)
def turnover_create_view(request):
    units, accounts = _filing_scope(request.user)
    post = request.POST if request.method == "POST" else None
    lines, letter_initial = _turnover_line_forms(request, post, accounts)
    # Most requests come from the filer's own unit, whose name heads its letter.
    initial = {"unit": request.user.unit_id, "issuing_unit_name": request.user.unit.name, **letter_initial}
    form = TurnoverLetterForm(post, request.FILES or None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        filled = lines.filled_forms()
        letter = dict(form.cleaned_data)
        unit, upload = letter.pop("unit"), letter.pop("attachment")
        try:
            turnover_request = services.turnover_request_file(
                actor=request.user, unit=unit, upload=upload, lines=[line.values() for line in filled], **letter)
        except DomainError as error:
            if not (isinstance(error, PolicyViolation) and _line_error(lines, filled, error)):
                form_error(form, error)
        else:
            messages.success(request, _("The request has been saved as a draft. Check it, then submit it to "
                                        "the IT Center."))
            return redirect("accounts:turnover_detail", pk=turnover_request.pk)
    dropped_file = ""
    if request.method == "POST" and request.FILES.get("attachment"):
        # A refused form keeps no file (accounts/attachments.py): say so, by name, so that nobody
        # believes the letter was kept and submits without it.
        dropped_file = request.FILES["attachment"].name
    return render(request, "accounts/turnover_form.html", {
        "form": form, "lines": lines, "section": "turnover", "dropped_file": dropped_file,
        "error_summary": _error_summary(form, lines) if request.method == "POST" else []})


def _error_summary(form, lines) -> list[tuple[str, str, str]]:
    """Every error of the page, for the summary at its top: (where, message, the field's id to jump to)."""
    summary = [("", str(error), "") for error in form.non_field_errors()]
    for field in form.visible_fields():
        summary += [(str(field.label), str(error), field.auto_id) for error in field.errors]
    summary += [("", str(error), "") for error in lines.non_form_errors()]
    for number, line in enumerate(lines.forms, start=1):
        for field in line.visible_fields():
            where = _("Line %(number)s, %(field)s") % {"number": number, "field": str(field.label).lower()}
            summary += [(where, str(error), field.auto_id) for error in field.errors]
        summary += [(_("Line %(number)s") % {"number": number}, str(error), "") for error in line.non_field_errors()]
    return summary


@require_roles(*EVERYONE)
def turnover_detail_view(request, pk):
    turnover_request = scope.turnover_request_get_visible(request.user, pk)
    lines = list(selectors.turnover_request_lines(turnover_request))
    user, state = request.user, turnover_request.state
    filer = permissions.may_submit_turnover_request(user, turnover_request)
    for line in lines:
        line.may_confirm = (line.action == "move" and line.move_confirmed_at is None and line.new_unit is not None
                            and state in (TurnoverState.DRAFT, TurnoverState.SUBMITTED, TurnoverState.RETURNED,
                                          TurnoverState.ACCEPTED)
                            and permissions.may_confirm_turnover_move(user, line.new_unit))
    selectors.turnover_deadlines_shown([turnover_request])
    confirmations = selectors.turnover_request_confirmations(turnover_request)
    turnover_request.waiting_systems = len({row.system_id for row in confirmations if row.confirmed_at is None})
    return render(request, "accounts/turnover_detail.html", {
        "turnover_request": turnover_request, "lines": lines, "section": "turnover",
        "history": selectors.turnover_request_history(turnover_request),
        "execution_time": duration_text(selectors.letter_to_execution(turnover_request)),
        "completion_time": duration_text(selectors.letter_to_completion(turnover_request)),
        "confirmations": confirmations,
        # What the IT Center took: from the unit's submission to the execution.
        "processing_time": duration_text(turnover_request.executed_at - turnover_request.submitted_at)
        if turnover_request.executed_at and turnover_request.submitted_at else "—",
        "may_submit": filer and state in (TurnoverState.DRAFT, TurnoverState.RETURNED),
        "may_cancel": filer and state in (TurnoverState.DRAFT, TurnoverState.RETURNED, TurnoverState.SUBMITTED),
        "may_decide": permissions.may_decide_turnover_request(user) and state == TurnoverState.SUBMITTED,
        "may_execute": permissions.may_execute_turnover_request(user) and state == TurnoverState.ACCEPTED,
        "return_form": ReturnForm(), "cancel_form": CancelForm(),
    })


def _executed_response(request, result):
    """One-time passwords of newcomer accounts: shown on this answer only, never cached."""
    messages.success(request, _("The request has been executed."))
    response = render(request, "accounts/turnover_issued.html",
                      {"turnover_request": result.request, "issued": result.issued, "section": "turnover"})
    response["Cache-Control"] = "no-store"
    return response


def _after_execution(request, result):
    if result.error is not None:
        messages.warning(request, _("The request is accepted but could not be executed yet:"))
        message_error(request, result.error)
    elif result.request.state in TURNOVER_EXECUTED_STATES:
        if result.issued:
            return _executed_response(request, result)
        messages.success(request, _("The request has been executed."))
    else:
        messages.success(request, _("The request has been accepted; it will be executed on its effective date."))
    return redirect("accounts:turnover_detail", pk=result.request.pk)


@require_POST
@require_roles(*FILERS)
def turnover_submit_view(request, pk):
    turnover_request = scope.turnover_request_get_visible(request.user, pk)
    try:
        services.turnover_request_submit(actor=request.user, request=turnover_request)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("The request has been submitted to the IT Center."))
    return redirect("accounts:turnover_detail", pk=turnover_request.pk)


@require_POST
@require_roles(*FILERS)
def turnover_cancel_view(request, pk):
    turnover_request = scope.turnover_request_get_visible(request.user, pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.turnover_request_cancel(actor=request.user, request=turnover_request, reason=reason)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("The request has been cancelled."))
    return redirect("accounts:turnover_detail", pk=turnover_request.pk)


@require_POST
@require_roles(Role.IT_ADMIN)
def turnover_return_view(request, pk):
    turnover_request = scope.turnover_request_get_visible(request.user, pk)
    form = ReturnForm(request.POST)
    try:
        services.turnover_request_return(actor=request.user, request=turnover_request,
                                         reason=form.cleaned_data["reason"] if form.is_valid() else "")
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("The request has been returned to the unit."))
    return redirect("accounts:turnover_detail", pk=turnover_request.pk)


def _execution_action(request, pk, service):
    """Accept (executing at once when the effective date has come) or execute: the result page shows
    newcomers' one-time passwords once."""
    turnover_request = scope.turnover_request_get_visible(request.user, pk)
    try:
        result = service(actor=request.user, request=turnover_request)
    except DomainError as error:
        message_error(request, error)
        return redirect("accounts:turnover_detail", pk=turnover_request.pk)
    return _after_execution(request, result)


@never_cache
@require_POST
@require_roles(Role.IT_ADMIN)
def turnover_accept_view(request, pk):
    return _execution_action(request, pk, services.turnover_request_accept)


@never_cache
@require_POST
@require_roles(Role.IT_ADMIN)
def turnover_execute_view(request, pk):
    return _execution_action(request, pk, services.turnover_request_execute)


@require_POST
@require_roles(Role.IT_ADMIN, Role.UNIT_LEADER)
def turnover_move_confirm_view(request, pk, line_pk):
    turnover_request = scope.turnover_request_get_visible(request.user, pk)
    line = get_object_or_404(TurnoverLine.objects.select_related("new_unit", "request"), pk=line_pk,
                             request=turnover_request)
    try:
        services.turnover_move_confirm(actor=request.user, line=line)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("The move of %(username)s has been confirmed.") % {"username": line.username})
    return redirect("accounts:turnover_detail", pk=turnover_request.pk)


@require_roles(*EVERYONE)
def turnover_attachment_view(request, pk):
    """The scanned letter, to readers whose scope covers the request only; a download, never shown
    inline by the browser, never cached."""
    turnover_request = scope.turnover_request_get_visible(request.user, pk)
    if not turnover_request.attachment_sha256:
        raise Http404
    try:
        handle = attachment_path(turnover_request.attachment_sha256).open("rb")
    except (FileNotFoundError, ValueError) as missing:
        raise Http404 from missing
    response = FileResponse(handle, as_attachment=True, content_type="application/pdf",
                            filename=download_name(turnover_request.attachment_name))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_roles(*EVERYONE)
def turnover_record_view(request, pk):
    """The printable record (biên bản) of an executed request."""
    turnover_request = scope.turnover_request_get_visible(request.user, pk)
    if turnover_request.state not in TURNOVER_EXECUTED_STATES:
        raise Http404
    return render(request, "accounts/turnover_record.html", {
        "turnover_request": turnover_request, "lines": selectors.turnover_request_lines(turnover_request)})


@require_roles(Role.IT_ADMIN)
def holiday_list_view(request):
    form = HolidayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.holiday_add(actor=request.user, day=form.cleaned_data["date"], name=form.cleaned_data["name"])
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The holiday has been added."))
            return redirect("accounts:holiday_list")
    return render(request, "accounts/turnover_holidays.html", {
        "form": form, "holidays": selectors.holidays_list(), "section": "turnover"})


@require_POST
@require_roles(Role.IT_ADMIN)
def holiday_remove_view(request, pk):
    holiday = get_object_or_404(Holiday, pk=pk)
    try:
        services.holiday_remove(actor=request.user, holiday=holiday)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("The holiday has been removed."))
    return redirect("accounts:holiday_list")
