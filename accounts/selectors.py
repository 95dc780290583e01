"""What the accounts app reads for others, always within the reader's scope (accounts.scope)."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.models import AccessAttempt
from django.db.models import BooleanField, Case, ExpressionWrapper, IntegerField, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.selectors import (
    current_policy,
    password_change_reason,
    password_expired_q,
    password_expires_at,
    password_expiring_q,
)

from .choices import AccountState, PasswordChangeReason, Role, UnitState
from .lockout import cool_off
from .models import HandoverRecord, Unit, User
from .scope import accounts_visible_to, units_visible_to
from .search import search_key, search_term


def _recent_failures(now):
    """django-axes' failure counts by username within the cool-off window (a small table)."""
    window_start = now - timedelta(minutes=current_policy().lockout_minutes)
    return (
        AccessAttempt.objects.filter(attempt_time__gte=window_start)
        .order_by()
        .values("username")
        .annotate(total=Sum("failures_since_start"))
    )


def _is_locked(now):
    """Per listed account (a page of rows): has it reached the lockout threshold in the window?"""
    failures = _recent_failures(now).filter(username=OuterRef("username")).values("total")
    reached = Q(lockout_failures__gte=current_policy().lockout_threshold)
    return Coalesce(Subquery(failures, output_field=IntegerField()), 0), ExpressionWrapper(reached, BooleanField())


def locked_usernames(now):
    """Usernames locked now, for filtering: computed from the attempts, not per account."""
    return _recent_failures(now).filter(total__gte=current_policy().lockout_threshold).values("username")


def account_is_locked(account, now=None) -> bool:
    return locked_usernames(now or timezone.now()).filter(username=account.username).exists()


def account_locked_until(account, now=None) -> datetime | None:
    """When the account's lockout ends, None when it is not locked. The same window and threshold as
    account_is_locked, read through the django-axes callables (accounts.lockout): the lockout ends when
    the failures still inside the cool-off window fall below the threshold."""
    now = now or timezone.now()
    window = cool_off()
    attempts = AccessAttempt.objects.filter(username=account.username, attempt_time__gte=now - window)
    total = 0
    for attempt_time, failures in attempts.order_by("-attempt_time").values_list("attempt_time", "failures_since_start"):
        total += failures
        if total >= current_policy().lockout_threshold:
            return attempt_time + window
    return None


@dataclass(frozen=True)
class AccountStatus:
    """The one state line of an account page and the actions that make sense next."""

    code: str  # active, locked, disabled, first_change, one_time_expired, one_time_voided, forced, expired
    tone: str  # ok, warn, bad (the tag's colour)
    text: str
    actions: frozenset  # of "reset", "disable", "enable", "unlock", "force_change"


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "H:i d/m/Y")


def _one_time_password_voided(account) -> bool:
    """Was the pending one-time password cut short by a disabling (account_disable records it), after
    the latest one was issued? A reset since then issued a new one and a new handover record."""
    issued = HandoverRecord.objects.filter(account=account).order_by("-issued_at").values_list(
        "issued_at", flat=True).first()
    events = SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED, target=account,
                                          details__one_time_password_voided=True)
    if issued is not None:
        events = events.filter(occurred_at__gte=issued)
    return events.exists()


def account_status(account, now=None) -> AccountStatus:
    """One state per account, the most pressing first: disabled, locked, a one-time password pending,
    expired or voided, a change required, active."""
    now = now or timezone.now()
    if not account.is_active:
        text = _("Disabled on %(when)s — reason: %(reason)s") % {
            "when": _when(account.disabled_at) if account.disabled_at else "—",
            "reason": account.disabled_reason or "—"}
        return AccountStatus("disabled", "bad", text, frozenset({"enable"}))
    change_reason = password_change_reason(account, now)
    locked_until = account_locked_until(account, now)
    actions = {"reset", "disable"}
    if not change_reason:
        actions.add("force_change")
    if locked_until is not None:
        actions.add("unlock")
        failures = current_policy().lockout_threshold
        text = ngettext("Locked until %(time)s (after %(failures)d failed login)",
                        "Locked until %(time)s (after %(failures)d failed logins)", failures) % {
            "time": _when(locked_until), "failures": failures}
        return AccountStatus("locked", "bad", text, frozenset(actions))
    if account.has_one_time_password:
        expires = account.one_time_password_expires_at
        if not account.one_time_password_expired(now):
            text = _("Awaiting the first password change — the one-time password expires at %(when)s") % {
                "when": _when(expires) if expires else "—"}
            return AccountStatus("first_change", "warn", text, frozenset(actions))
        if _one_time_password_voided(account):
            text = _("The one-time password was voided when the account was disabled — issue a new one")
            return AccountStatus("one_time_voided", "bad", text, frozenset(actions))
        text = _("The one-time password expired at %(when)s — issue a new one") % {"when": _when(expires)}
        return AccountStatus("one_time_expired", "bad", text, frozenset(actions))
    if change_reason == PasswordChangeReason.FORCED:
        text = _("Must change the password at the next sign-in (required by an administrator)")
        return AccountStatus("forced", "warn", text, frozenset(actions))
    if change_reason == PasswordChangeReason.EXPIRED:
        expired_at = password_expires_at(account)
        text = (_("Password expired at %(when)s — must change it at the next sign-in") % {"when": _when(expired_at)}
                if expired_at else _("Password never changed — must change it at the next sign-in"))
        return AccountStatus("expired", "warn", text, frozenset(actions))
    return AccountStatus("active", "ok", _("Active"), frozenset(actions))


def account_list(user, *, search="", unit_id=None, role="", state="", now=None):
    """The account list of the admin pages, scoped, filtered, with the figures each row shows."""
    now = now or timezone.now()
    failures, locked = _is_locked(now)
    accounts = accounts_visible_to(user).select_related("unit").annotate(lockout_failures=failures, is_locked=locked)
    if search:
        accounts = accounts.annotate(search_text=search_key("username", "full_name", "email", "phone")).filter(
            search_text__contains=search_term(search))
    if unit_id:
        unit = units_visible_to(user).filter(pk=unit_id).first()
        accounts = accounts.filter(unit__path__startswith=unit.path) if unit else accounts.none()
    if role:
        accounts = accounts.filter(role=role)
    if state == AccountState.ACTIVE:
        accounts = accounts.filter(is_active=True)
    elif state == AccountState.DISABLED:
        accounts = accounts.filter(is_active=False)
    elif state == AccountState.MUST_CHANGE:
        accounts = accounts.filter(is_active=True).exclude(password_change_reason=PasswordChangeReason.NONE)
    elif state == AccountState.EXPIRING:
        accounts = accounts.filter(password_expiring_q(now), is_active=True)
    elif state == AccountState.EXPIRED:
        accounts = accounts.filter(password_expired_q(now), is_active=True)
    elif state == AccountState.LOCKED:
        accounts = accounts.filter(username__in=locked_usernames(now))
    return accounts.order_by("unit__path", "username")


def unit_tree(user):
    """Units in scope in tree order (the materialised path sorts parents before children)."""
    return units_visible_to(user).select_related("parent", "merged_into").order_by("path")


def handover_records_for(account):
    return HandoverRecord.objects.filter(account=account).select_related("issued_by")



def unit_tree_rows(user):
    """The unit list: units in scope in tree order, each with the names of its ancestors in scope
    (`ancestor_names`), the breadcrumb that shows a unit's place where indentation does not fit (a
    phone). Read from the list itself: one query whatever the depth."""
    units = list(unit_tree(user))
    names = {unit.pk: unit.name for unit in units}
    for unit in units:
        ids = [int(segment) for segment in unit.path.strip("/").split("/")[:-1] if segment]
        unit.ancestor_names = [names[pk] for pk in ids if pk in names]
    return units


@dataclass(frozen=True)
class MergePreview:
    """What a merge will move, as the confirmation page lists it."""

    unit: object
    into: object
    accounts: list  # the merged unit's own accounts, leaders first (they become officers)
    sub_units: list  # its direct sub-units (their own subtrees move with them)

    @property
    def leaders(self) -> list:
        return [account for account in self.accounts if account.role == Role.UNIT_LEADER]


def unit_merge_preview(unit, into) -> MergePreview:
    """Two queries: the accounts of the unit, and its direct sub-units. The same rows the merge moves
    (accounts.services.units.unit_merge), so that the counts the person confirms are the ones it checks."""
    accounts = list(User.objects.filter(unit=unit).order_by(
        Case(When(role=Role.UNIT_LEADER, then=0), default=1), "username"))
    sub_units = list(Unit.objects.filter(parent=unit).order_by("path"))
    return MergePreview(unit=unit, into=into, accounts=accounts, sub_units=sub_units)


UNIT_SEARCH_LIMIT = 20
UNIT_SEARCH_MAX_LENGTH = 100


def unit_search(user, text: str, *, active_only: bool = False, exclude=None) -> list:
    """The unit picker's answer: at most 20 units within the reader's scope whose accent-free name or
    agency code contains the typed text ("bien hoa" finds "Biên Hòa"), in tree order, with their
    parent for a label that tells two "UBND phường …" apart. An empty text lists the first units."""
    units = units_visible_to(user).select_related("parent")
    term = search_term(text)
    if term:
        units = units.annotate(search_text=search_key("name", "code")).filter(search_text__contains=term)
    if active_only:
        units = units.filter(state=UnitState.ACTIVE)
    if exclude is not None:
        units = units.exclude(path__startswith=exclude.path)
    return list(units.order_by("path")[:UNIT_SEARCH_LIMIT])
