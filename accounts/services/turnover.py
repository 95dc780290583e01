"""Turnover requests (letter point 2): a unit's official letter asking the IT Center to remove or
change the accounts of officers who left or changed duties, tracked from draft to execution.

States: draft → submitted → returned (with a reason) | accepted → executed, or cancelled. Every
transition is claimed with a conditional UPDATE (… WHERE state IN (…)), so two admins clicking at once
move a request once, and is an audit event with who, when and why. Execution runs every line in one
transaction; a request whose effective date is still ahead waits, accepted, for the daily job.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record
from notifications.choices import NoticeKind
from notifications.outbox import NoticeSpec, notices_enqueue
from policy.compliance import service_deadline
from portal.actors import Right
from portal.errors import DomainError, PolicyViolation

from ..attachments import attachment_check, attachment_store
from ..choices import Role, TurnoverAction, TurnoverState
from ..documents import document_number_take
from ..models import USERNAME_PATTERN, Holiday, TurnoverLine, TurnoverRequest, Unit, User, normalise_username
from ..permissions import (
    ensure_it_admin,
    ensure_may,
    ensure_right,
    is_system_actor,
    may_confirm_turnover_move,
    may_decide_turnover_request,
    may_file_turnover_for,
    may_grant_privileged_role,
    may_submit_turnover_request,
)
from ._common import full_clean_or_refuse, name_or_refuse, plain_text_or_refuse
from .lifecycle import (
    account_create,
    account_disable_locked,
    account_update,
    ensure_a_signed_in_it_admin_remains,
    it_admins_lock,
)
from .turnover_completion import turnover_confirmations_open


@dataclass
class ExecutionResult:
    """What an execution did; one-time passwords of newcomers are shown once to the executing admin."""

    request: TurnoverRequest
    issued: list = field(default_factory=list)  # (account, one_time_password, handover_record)
    error: DomainError | None = None  # why an accepted request could not be executed yet


def _actor_name(actor) -> str:
    return actor.username if is_system_actor(actor) else actor.full_name


def _record(kind, *, actor, request: TurnoverRequest, **details):
    audit_event_record(kind=kind, actor=actor, unit=request.unit,
                       details={"turnover_request": request.pk, "letter": request.letter_number, **details})


def _transition(request: TurnoverRequest, *, from_states, **values) -> TurnoverRequest:
    """Claim the transition: only the process whose UPDATE changed the row goes on."""
    claimed = TurnoverRequest.objects.filter(pk=request.pk, state__in=from_states).update(**values)
    if claimed != 1:
        current = TurnoverRequest.objects.get(pk=request.pk)
        raise DomainError(_("The request is now “%(state)s”; reload the page.") % {
            "state": current.get_state_display()}, code="wrong_state")
    request.refresh_from_db()
    return request


# ----- filing --------------------------------------------------------------------------------------

def _ensure_may_file(actor, unit: Unit) -> None:
    ensure_may(may_file_turnover_for(actor, unit),
               _("You may only file requests for your own unit and the units below it."))


def _letter_refusals(*, letter_number, letter_date, effective_date, signer_name, signer_position,
                     issuing_unit_name, today: date) -> dict:
    problems = {}
    for name, value in (("letter_number", letter_number), ("signer_name", signer_name),
                        ("signer_position", signer_position), ("issuing_unit_name", issuing_unit_name)):
        if not (value or "").strip():
            problems[name] = _("This field is required.")
    if letter_date is None:
        problems["letter_date"] = _("Give the date of the letter.")
    elif letter_date > today:
        problems["letter_date"] = _("The letter's date cannot be in the future.")
    if effective_date is None:
        problems["effective_date"] = _("Give the effective date.")
    elif letter_date is not None and effective_date < letter_date:
        problems["effective_date"] = _("The effective date cannot be before the letter's date.")
    return problems


def _line_build(request: TurnoverRequest, values: dict, actor) -> TurnoverLine:
    action = values.get("action")
    if action not in TurnoverAction.values:
        raise PolicyViolation(_("Choose what to do for each line."), code="line_action", field="action")
    line = TurnoverLine(request=request, action=action)
    if action == TurnoverAction.CREATE:
        line.username = normalise_username(values.get("username", ""))
        line.full_name = name_or_refuse(values.get("full_name") or "", field="full_name")
        line.email = (values.get("email") or "").strip()
        line.phone = (values.get("phone") or "").strip()
        line.new_role = values.get("new_role") or Role.OFFICER
        line.new_can_lookup = bool(values.get("new_can_lookup"))
        line.new_unit = values.get("new_unit") or request.unit
        if not re.match(USERNAME_PATTERN, line.username) or not line.full_name:
            raise PolicyViolation(_("A newcomer needs a full name and a username of 3–64 lower-case letters, "
                                    "digits, dots, hyphens or underscores."), code="line_newcomer", field="username")
        if User.objects.filter(username=line.username).exists():
            raise PolicyViolation(_("The username %(username)s is taken; propose another.") % {
                "username": line.username}, code="line_username_taken", field="username")
        if not line.new_unit.path.startswith(request.unit.path):
            raise PolicyViolation(_("A newcomer's account belongs to the requesting unit or a unit below it."),
                                  code="line_out_of_scope", field="new_unit")
        if line.new_role in (Role.IT_ADMIN, Role.INSPECTOR) and request.unit.kind != "it_center" and \
                not may_grant_privileged_role(actor):
            raise PolicyViolation(_("Only the IT Center grants the IT admin and inspector roles."), code="line_role",
                                  field="new_role")
        return line
    account = values.get("account")
    if account is None:
        raise PolicyViolation(_("Choose the account of each line."), code="line_account", field="account")
    if not account.unit.path.startswith(request.unit.path):
        # Out of the requesting unit's subtree: as if it did not exist (no hint about other units).
        raise PolicyViolation(_("Choose an account of your unit or the units below it."), code="line_out_of_scope",
                                  field="account")
    line.account = account
    line.username = account.username
    line.full_name = account.full_name
    if action == TurnoverAction.DISABLE:
        line.departure_reason = values.get("departure_reason") or ""
        if not line.departure_reason:
            raise PolicyViolation(_("Say why the account is to be disabled."), code="line_reason", field="departure_reason")
    elif action == TurnoverAction.CHANGE_ROLE:
        line.new_role = values.get("new_role") or ""
        if line.new_role not in (Role.OFFICER, Role.UNIT_LEADER):
            raise PolicyViolation(_("A unit may ask for the officer or unit leader role; the IT Center grants "
                                    "the others."), code="line_role", field="new_role")
    elif action == TurnoverAction.CHANGE_LOOKUP:
        if values.get("new_can_lookup") is None:
            raise PolicyViolation(_("Say whether the account may look up citizens."), code="line_lookup", field="new_can_lookup")
        line.new_can_lookup = bool(values["new_can_lookup"])
    elif action == TurnoverAction.MOVE:
        line.new_unit = values.get("new_unit")
        if line.new_unit is None or not line.new_unit.is_active or line.new_unit.pk == account.unit_id:
            raise PolicyViolation(_("Choose the active unit the officer moves to."), code="line_unit", field="new_unit")
    return line


@transaction.atomic
def turnover_request_create(*, actor, unit: Unit, letter_number: str, letter_date: date, effective_date: date,
                            issuing_unit_name: str, signer_name: str, signer_position: str, attachment,
                            lines: list[dict]) -> TurnoverRequest:
    """A draft request with its letter and lines; `attachment` is a StoredAttachment (accounts.attachments)."""
    _ensure_may_file(actor, unit)
    today = timezone.localdate()
    problems = _letter_refusals(letter_number=letter_number, letter_date=letter_date, effective_date=effective_date,
                                signer_name=signer_name, signer_position=signer_position,
                                issuing_unit_name=issuing_unit_name, today=today)
    letter_number = plain_text_or_refuse(letter_number, field="letter_number")
    issuing_unit_name = name_or_refuse(issuing_unit_name, field="issuing_unit_name")
    signer_name = name_or_refuse(signer_name, field="signer_name")
    signer_position = name_or_refuse(signer_position, field="signer_position")
    if problems:
        first = next(iter(problems))
        raise PolicyViolation(messages=list(problems.values()), field=first, code="letter_incomplete")
    if attachment is None:
        raise PolicyViolation(_("Attach the scanned letter (PDF)."), field="attachment", code="attachment_missing")
    if not lines:
        raise PolicyViolation(_("Add at least one line: which account, and what to do."), code="lines_missing")
    request = TurnoverRequest(
        unit=unit, unit_code=unit.code, unit_name=unit.name, letter_number=letter_number.strip(),
        letter_date=letter_date, effective_date=effective_date, issuing_unit_name=issuing_unit_name.strip(),
        signer_name=signer_name.strip(), signer_position=signer_position.strip(),
        attachment_sha256=attachment.sha256, attachment_name=attachment.name, attachment_size=attachment.size,
        created_by=actor,
    )
    full_clean_or_refuse(request)
    request.save()
    built, seen = [], set()
    for index, values in enumerate(lines):
        try:
            line = _line_build(request, values, actor)
            if line.account_id and line.account_id in seen:
                raise PolicyViolation(_("Each account may appear on one line only."), code="lines_duplicate",
                                      field="account")
        except PolicyViolation as error:
            error.line = index  # which line of the form the refusal belongs to
            raise
        seen.add(line.account_id)
        built.append(line)
    TurnoverLine.objects.bulk_create(built)
    _record(EventKind.TURNOVER_CREATED, actor=actor, request=request, lines=len(built))
    return request


def turnover_request_file(*, actor, unit: Unit, upload, **letter_and_lines) -> TurnoverRequest:
    """The web form's filing: the uploaded PDF is checked first, the request is created, and only
    then is the file written — a request refused for any reason leaves no file behind. (Writing it
    inside the transaction means a failed write leaves no request without its letter.)"""
    if upload is None:
        raise PolicyViolation(_("Attach the scanned letter (PDF)."), field="attachment", code="attachment_missing")
    checked = attachment_check(upload)
    with transaction.atomic():
        request = turnover_request_create(actor=actor, unit=unit, attachment=checked, **letter_and_lines)
        stored = attachment_store(upload)
        if stored.sha256 != checked.sha256:  # the upload changed under us: refuse rather than mismatch
            raise PolicyViolation(_("The letter's file changed while it was uploaded; attach it again."),
                                  field="attachment", code="attachment_changed")
    return request


def _ensure_filer(actor, request: TurnoverRequest) -> None:
    ensure_may(may_submit_turnover_request(actor, request),
               _("Only a leader of the unit (or the unit above it) may submit or cancel its requests."))


def holidays_between(start: date, end: date) -> set[date]:
    return set(Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", flat=True))


def _due_at(start: datetime) -> datetime:
    days = settings.TURNOVER_SERVICE_DAYS
    local = timezone.localdate(start)
    return service_deadline(start, days, holidays_between(local, local + timedelta(days=400)))


@transaction.atomic
def turnover_request_submit(*, actor, request: TurnoverRequest) -> TurnoverRequest:
    """The leader sends the request (with its letter) to the IT Center; the service level starts —
    from the effective date when it is still ahead."""
    _ensure_filer(actor, request)
    now = timezone.now()
    effective_start = timezone.make_aware(datetime.combine(request.effective_date, datetime.min.time()))
    request = _transition(request, from_states=[TurnoverState.DRAFT, TurnoverState.RETURNED],
                          state=TurnoverState.SUBMITTED, submitted_by=None if is_system_actor(actor) else actor,
                          submitted_at=now, due_at=_due_at(max(now, effective_start)), returned_reason="")
    _record(EventKind.TURNOVER_SUBMITTED, actor=actor, request=request, due_at=request.due_at.isoformat())
    return request


@transaction.atomic
def turnover_request_cancel(*, actor, request: TurnoverRequest, reason: str) -> TurnoverRequest:
    _ensure_filer(actor, request)
    reason = plain_text_or_refuse(reason, field="reason", max_length=300)
    request = _transition(request, from_states=[TurnoverState.DRAFT, TurnoverState.RETURNED, TurnoverState.SUBMITTED],
                          state=TurnoverState.CANCELLED, cancelled_at=timezone.now())
    _record(EventKind.TURNOVER_CANCELLED, actor=actor, request=request, reason=reason)
    return request


# ----- the IT Center's decisions ---------------------------------------------------------------------

@transaction.atomic
def turnover_request_return(*, actor, request: TurnoverRequest, reason: str) -> TurnoverRequest:
    ensure_may(may_decide_turnover_request(actor), _("Only the IT Center returns or accepts requests."))
    reason = plain_text_or_refuse(reason, field="reason", max_length=300)
    if not reason:
        raise PolicyViolation(_("Say why the request goes back to the unit."), field="reason", code="reason_missing")
    request = _transition(request, from_states=[TurnoverState.SUBMITTED], state=TurnoverState.RETURNED,
                          returned_reason=reason[:300], decided_by_name=_actor_name(actor))
    _record(EventKind.TURNOVER_RETURNED, actor=actor, request=request, reason=reason[:300])
    return request


def turnover_request_accept(*, actor, request: TurnoverRequest) -> ExecutionResult:
    """Accept; when the effective date has come, execute at once. An execution refused by a rule (a
    move not confirmed yet) leaves the request accepted, with the reason for the admin to act on."""
    ensure_may(may_decide_turnover_request(actor), _("Only the IT Center returns or accepts requests."))
    with transaction.atomic():
        request = _transition(request, from_states=[TurnoverState.SUBMITTED], state=TurnoverState.ACCEPTED,
                              accepted_at=timezone.now(), decided_by_name=_actor_name(actor))
        _record(EventKind.TURNOVER_ACCEPTED, actor=actor, request=request)
    if request.effective_date > timezone.localdate():
        return ExecutionResult(request=request)
    try:
        return turnover_request_execute(actor=actor, request=request)
    except DomainError as error:
        request.refresh_from_db()
        return ExecutionResult(request=request, error=error)


@transaction.atomic
def turnover_move_confirm(*, actor, line: TurnoverLine) -> TurnoverLine:
    """The receiving unit's leader (or the IT Center) confirms an officer's move into their unit."""
    ensure_may(may_confirm_turnover_move(actor, line.new_unit), _("Only a leader of the receiving unit confirms a move."))
    claimed = TurnoverLine.objects.filter(pk=line.pk, action=TurnoverAction.MOVE, move_confirmed_at__isnull=True,
                                          request__state__in=[TurnoverState.DRAFT, TurnoverState.SUBMITTED,
                                                              TurnoverState.RETURNED, TurnoverState.ACCEPTED]
                                          ).update(move_confirmed_at=timezone.now(),
                                                   move_confirmed_by_name=_actor_name(actor))
    line.refresh_from_db()
    if claimed:
        _record(EventKind.TURNOVER_MOVE_CONFIRMED, actor=actor, request=line.request, account=line.username,
                new_unit=line.new_unit.code)
    return line


def _execute_line(actor, line: TurnoverLine, result: ExecutionResult) -> str:
    if line.action == TurnoverAction.CREATE:
        account, password, record = account_create(
            actor=actor, username=line.username, full_name=line.full_name, unit=line.new_unit,
            role=line.new_role or Role.OFFICER, email=line.email, phone=line.phone,
            can_lookup=bool(line.new_can_lookup))
        line.account = account
        if is_system_actor(actor):
            # Nobody is there to read the one-time password: it is handed over with a reset.
            return _("created; hand it over with a password reset")
        result.issued.append((account, password, record))
        return _("created, handover record %(number)s") % {"number": record.number}
    account = User.objects.select_for_update().select_related("unit").get(pk=line.account_id)
    if line.action == TurnoverAction.DISABLE:
        if not account.is_active:
            return _("already disabled")
        if account.role == Role.IT_ADMIN:
            ensure_a_signed_in_it_admin_remains(account)
        # Stored text, read later in any language: written in the portal's language (Vietnamese).
        with translation.override(settings.LANGUAGE_CODE):
            reason = _("Turnover request %(letter)s: %(why)s") % {
                "letter": line.request.letter_number, "why": line.get_departure_reason_display()}
        account_disable_locked(actor=actor, account=account, reason=reason,
                               details={"turnover_request": line.request_id})
        return _("disabled")
    if line.action == TurnoverAction.CHANGE_ROLE:
        account_update(actor=actor, account=account, values={"role": line.new_role})
        return _("role changed")
    if line.action == TurnoverAction.CHANGE_LOOKUP:
        account_update(actor=actor, account=account, values={"can_lookup": bool(line.new_can_lookup)})
        return _("lookup right changed")
    if line.action != TurnoverAction.MOVE:
        # A line whose action this code does not know (a value written by hand, a choice removed since)
        # is refused, never guessed: the whole request stays accepted and nothing is changed.
        raise DomainError(_("The request has a line whose action is unknown (%(action)s); nothing was done.") % {
            "action": line.action}, code="line_action_unknown")
    if line.move_confirmed_at is None:
        raise DomainError(_("The receiving unit's leader has not confirmed the move of %(username)s yet.") % {
            "username": account.username}, code="move_unconfirmed")
    account_update(actor=actor, account=account, values={"unit": line.new_unit})
    return _("moved")


@transaction.atomic
def turnover_request_execute(*, actor, request: TurnoverRequest) -> ExecutionResult:
    """Execute every line in one transaction: all of them, or (on a refusal) none and the request
    stays accepted. Claimed first, so a second admin or a second run does nothing twice."""
    ensure_right(actor, Right.TURNOVER_EXECUTE)
    now = timezone.now()
    it_admins_lock()  # before any account row lock, in the order every admin removal takes them
    request = _transition(request, from_states=[TurnoverState.ACCEPTED], state=TurnoverState.EXECUTED,
                          executed_at=now, executed_by_name=_actor_name(actor))
    result = ExecutionResult(request=request)
    lines = list(request.lines.select_related("new_unit", "account").order_by("id"))
    for line in lines:
        line.request = request
        line.outcome = _execute_line(actor, line, result)[:200]
        line.executed_at = now
    TurnoverLine.objects.bulk_update(lines, ["account", "outcome", "executed_at"])
    # One numbering scheme for every record (accounts/documents.py), shared with the handover records.
    request.record_number = document_number_take("BB", year=timezone.localtime(now).year)
    request.save(update_fields=["record_number"])
    _record(EventKind.TURNOVER_EXECUTED, actor=actor, request=request, record=request.record_number,
            lines=[f"{line.username}: {line.outcome}" for line in lines])
    # What the connected systems owe this execution, waited for until each confirms (none: complete now).
    turnover_confirmations_open(actor=actor, request=request, account_ids=[line.account_id for line in lines],
                                started=now)
    _holders_told(request, lines)
    return result


def _holders_told(request: TurnoverRequest, lines: list[TurnoverLine]) -> None:
    """Each existing account a line changed is told what was done to it (a newcomer's account is told
    of its creation by account_create)."""
    specs = []
    for line in lines:
        if line.action == TurnoverAction.CREATE or line.account is None:
            continue
        specs.append(NoticeSpec(recipient=line.account, kind=NoticeKind.TURNOVER_EXECUTED,
                                source_key=f"turnover:{request.pk}:{line.pk}",
                                context={"letter": request.letter_number, "unit_name": request.unit.name,
                                         "action": line.action, "outcome": line.outcome}))
    notices_enqueue(specs)


def turnover_due_execute(*, actor, today: date | None = None) -> list[TurnoverRequest]:
    """The daily job: accepted requests whose effective date has come are executed, each in its own
    transaction; a refused one stays accepted (and visible to the IT Center as overdue)."""
    ensure_right(actor, Right.TURNOVER_EXECUTE)
    today = today or timezone.localdate()
    executed = []
    due = TurnoverRequest.objects.filter(state=TurnoverState.ACCEPTED, effective_date__lte=today).order_by("id")
    for request in list(due):
        try:
            executed.append(turnover_request_execute(actor=actor, request=request).request)
        except DomainError as error:
            _record(EventKind.TURNOVER_EXECUTION_FAILED, actor=actor, request=request, reason=str(error.message),
                    code=error.code)
    return executed


# ----- the IT Center's public holidays (service levels count working days) --------------------------

@transaction.atomic
def holiday_add(*, actor, day: date, name: str) -> Holiday:
    """A public holiday; requests submitted from now on count their service level without it."""
    ensure_it_admin(actor, _("Only IT Center administrators keep the public holidays."))
    name = (name or "").strip()
    if not name:
        raise PolicyViolation(_("Name the holiday."), field="name", code="holiday_name")
    holiday, created = Holiday.objects.get_or_create(date=day, defaults={"name": name[:100]})
    if not created:
        raise PolicyViolation(_("%(date)s is already a holiday (%(name)s).") % {
            "date": day.strftime("%d/%m/%Y"), "name": holiday.name}, field="date", code="holiday_exists")
    audit_event_record(kind=EventKind.HOLIDAY_ADDED, actor=actor,
                       details={"date": day.isoformat(), "name": holiday.name})
    return holiday


@transaction.atomic
def holiday_remove(*, actor, holiday: Holiday) -> None:
    ensure_it_admin(actor, _("Only IT Center administrators keep the public holidays."))
    deleted, _rows = Holiday.objects.filter(pk=holiday.pk).delete()
    if deleted:  # a second click (or a second admin) removes nothing and records nothing
        audit_event_record(kind=EventKind.HOLIDAY_REMOVED, actor=actor,
                           details={"date": holiday.date.isoformat(), "name": holiday.name})
