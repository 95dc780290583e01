"""What the accounts app reads for others, always within the reader's scope (accounts.scope)."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.compliance import is_working_day, request_overdue_q
from policy.selectors import (
    current_policy,
    password_change_reason,
    password_expired_q,
    password_expires_at,
    password_expiring_q,
)

from .choices import AccountState, PasswordChangeReason, Role, TurnoverState, UnitState
from .models import (
    AccountSession,
    HandoverRecord,
    Holiday,
    TurnoverConfirmation,
    Unit,
    User,
    unit_contents_digest,
)
from .scope import accounts_visible_to, turnover_requests_visible_to, units_visible_to
from .search import search_key, search_term
from .session_store import session_handle


def _recent_failures(now):
    """django-axes' failure counts by username within the cool-off window (a small table)."""
    window_start = now - timedelta(minutes=current_policy().lockout_minutes)
    return (
        AccessAttempt.objects.filter(attempt_time__gte=window_start)
        .order_by()
        .values("username")
        .annotate(total=Sum("failures_since_start"))
    )


def escalating_delay(failures: int, threshold: int, cool_off: timedelta) -> timedelta:
    """How long an IT admin waits after `failures` counted failures (the threshold or more): 2 s after
    the threshold's failure, then 4, 8, 16 s… capped at the cool-off. A stranger who keeps guessing gets
    a few guesses an hour, while the real administrator's right password still works after the wait —
    ten anonymous requests must not keep the IT Center out of its own portal for a quarter hour."""
    exponent = min(failures - threshold + 1, 20)
    return min(timedelta(seconds=2 ** exponent), cool_off)


def _lockouts(now, usernames=None) -> dict:
    """THE lockout rule, for every reader (the login, the password-change page, the account list and
    detail, the "locked" filter): {username: when its lockout ends} for the usernames locked now.
    - An account that is not an IT admin is locked while the policy's threshold of failures counted
      in the cool-off window is reached (letter: 5 failures lock the username for 15 minutes; refused
      attempts are not counted, so the lockout ends 15 minutes after the failure that started it).
    - An IT admin's username is not locked for the cool-off but delayed (escalating_delay) after its
      latest counted failure."""
    policy = current_policy()
    rows = _recent_failures(now).filter(total__gte=policy.lockout_threshold).annotate(
        latest=Max("attempt_time"),
        escalating=Exists(User.objects.filter(username=OuterRef("username"), role=Role.IT_ADMIN)),
    )
    if usernames is not None:
        rows = rows.filter(username__in=usernames)
    locked = {}
    for row in rows:
        ends_at = lockout_end(total=row["total"], latest=row["latest"], escalating=row["escalating"], now=now,
                              policy=policy)
        if ends_at is not None:
            locked[row["username"]] = ends_at
    return locked


def lockout_end(*, total: int, latest, escalating: bool, now, policy) -> datetime | None:
    """The lockout rule of `_lockouts` for one username whose failures in the cool-off window are
    already counted (`total`, the `latest` attempt's time): when its lockout ends, or None. For a reader
    that fetched the figures with its own statement (the lookup decision reads them with the officer)."""
    if latest is None or total < policy.lockout_threshold:
        return None
    cool_off = timedelta(minutes=policy.lockout_minutes)
    if escalating:
        ends_at = latest + escalating_delay(total, policy.lockout_threshold, cool_off)
    else:
        ends_at = latest + cool_off
    return ends_at if ends_at > now else None


def lockout_ends_at(username: str, now=None):
    """When the lockout of this username (as django-axes counts it) ends, or None when it is not locked."""
    return _lockouts(now or timezone.now(), usernames=[username]).get(username)


def address_blocked_until(ip_address, now=None):
    """The faster block of one source address: so many failures from it, over any usernames, within the
    window that it is guessing or locking accounts wholesale. It is refused until the window has
    passed its latest counted failure (refused attempts are not counted, so the block ends)."""
    if not ip_address:
        return None
    now = now or timezone.now()
    window = timedelta(minutes=settings.SIGNIN_ADDRESS_BLOCK_MINUTES)
    figures = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=now - window).aggregate(
        total=Sum("failures_since_start"), latest=Max("attempt_time"))
    if (figures["total"] or 0) < settings.SIGNIN_ADDRESS_FAILURE_LIMIT:
        return None
    return figures["latest"] + window


def responsible_leaders(unit: Unit) -> list[User]:
    """The active leaders nearest above (or of) the unit: its own, else those of the closest unit above
    that has any (a ward without a leader is the city's to answer for)."""
    ends = [index for index, char in enumerate(unit.path) if char == "/" and index > 0]
    paths = [unit.path[:end + 1] for end in ends]
    leaders = list(User.objects.filter(role=Role.UNIT_LEADER, is_active=True, unit__path__in=paths)
                   .select_related("unit"))
    if not leaders:
        return []
    nearest = max(len(leader.unit.path) for leader in leaders)
    return sorted((leader for leader in leaders if len(leader.unit.path) == nearest), key=lambda leader: leader.pk)


def _is_locked(now):
    """Per listed account (a page of rows): its failures in the window, and whether it is locked now."""
    failures = _recent_failures(now).filter(username=OuterRef("username")).values("total")
    reached = Q(username__in=list(_lockouts(now)))
    return Coalesce(Subquery(failures, output_field=IntegerField()), 0), ExpressionWrapper(reached, BooleanField())


def locked_usernames(now):
    """Usernames locked now, for filtering: computed from the attempts, not per account."""
    return list(_lockouts(now))


def account_is_locked(account, now=None) -> bool:
    return lockout_ends_at(account.username, now) is not None


def account_locked_until(account, now=None) -> datetime | None:
    """When the account's lockout (or an IT admin's delay) ends, None when it is not locked: the one
    lockout rule, `lockout_ends_at`."""
    return lockout_ends_at(account.username, now)


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



# ----- turnover requests (letter point 2) ------------------------------------------------------------

def letter_to_execution(request):
    """From the start of the letter's day to the execution: how long the officers' rights outlived
    the letter that took them away here (None while not executed)."""
    if request.executed_at is None:
        return None
    start = timezone.make_aware(datetime.combine(request.letter_date, time.min))
    return request.executed_at - start


def letter_to_completion(request):
    """From the start of the letter's day to the last confirmation of a connected system: how long the
    rights outlived the letter everywhere (None while not complete). Letter point 2 is measured here."""
    if request.completed_at is None:
        return None
    start = timezone.make_aware(datetime.combine(request.letter_date, time.min))
    return request.completed_at - start


def _waiting_systems():
    """How many connected systems an executed request still waits for (a subquery: no query per row)."""
    waiting = TurnoverConfirmation.objects.filter(request_id=OuterRef("pk"), confirmed_at=None).order_by().values(
        "request_id").annotate(systems=Count("system_id", distinct=True)).values("systems")
    return Coalesce(Subquery(waiting, output_field=IntegerField()), 0)


def turnover_request_list(user, *, state="", now=None):
    """The turnover requests the user may read, newest first, each with `overdue` (not complete in
    every connected system within its service level) and `waiting_systems` computed in the same query."""
    now = now or timezone.now()
    requests = turnover_requests_visible_to(user).select_related("unit").annotate(
        overdue=ExpressionWrapper(request_overdue_q(now), output_field=BooleanField()),
        waiting_systems=_waiting_systems())
    if state:
        requests = requests.filter(state=state)
    return requests.order_by("-created_at", "-id")


def turnover_deadline_shown(due_at, holidays: set) -> datetime | None:
    """The deadline as people read it: a deadline at midnight ("08/12 00:00", the service level
    counted from the start of a day) is the end of the last working day before it ("07/12 17:00" —
    settings.OFFICE_DAY_END), which is what the office means; any other deadline as it is."""
    if due_at is None:
        return None
    local = timezone.localtime(due_at)
    if local.time() != time.min:
        return local
    day = local.date() - timedelta(days=1)
    while not is_working_day(day, holidays):
        day -= timedelta(days=1)
    hour, minute = (int(part) for part in settings.OFFICE_DAY_END.split(":"))
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), local.tzinfo)


def turnover_deadlines_shown(requests) -> None:
    """Give each request `due_shown` (turnover_deadline_shown), with one read of the holidays."""
    days = [timezone.localdate(request.due_at) for request in requests if request.due_at is not None]
    holidays = set()
    if days:
        holidays = set(Holiday.objects.filter(date__gte=min(days) - timedelta(days=40), date__lte=max(days))
                       .values_list("date", flat=True))
    for request in requests:
        request.due_shown = turnover_deadline_shown(request.due_at, holidays)


def turnover_completion_times(requests) -> dict:
    """Median and worst letter→complete time (every connected system confirmed) over the complete
    requests of a (scoped) queryset, in one query. The pk is selected too: a leader's queryset is
    DISTINCT, and two requests with the same dates must both count."""
    rows = requests.filter(state=TurnoverState.COMPLETE).order_by().values_list("pk", "letter_date", "completed_at")
    durations = sorted(
        completed_at - timezone.make_aware(datetime.combine(letter_date, time.min))
        for _pk, letter_date, completed_at in rows)
    if not durations:
        return {"count": 0, "median": None, "worst": None}
    middle = len(durations) // 2
    median = durations[middle] if len(durations) % 2 else (durations[middle - 1] + durations[middle]) / 2
    return {"count": len(durations), "median": median, "worst": durations[-1]}


def turnover_request_confirmations(request) -> list:
    """What each connected system owes the executed request, system by system: each awaited item with
    its account, when it was confirmed, and the state of its delivery or task (a failed delivery shows)."""
    return list(TurnoverConfirmation.objects.filter(request=request).select_related(
        "system", "account", "delivery", "manual_task").order_by("system__name", "account__username", "pk"))


def turnover_request_lines(request):
    return request.lines.select_related("account", "new_unit").order_by("id")


def turnover_request_history(request):
    """The request's state history: every audit event that names it (its transitions and the
    accounts its execution changed), oldest first. On the request's own page the reference back to it
    (its internal id) says nothing, so it is left out of each event's details."""
    events = list(SecurityEvent.objects.filter(details__turnover_request=request.pk).order_by("id"))
    for event in events:
        if isinstance(event.details, dict):
            event.details = {key: value for key, value in event.details.items() if key != "turnover_request"}
    return events


def holidays_list(*, year=None):
    holidays = Holiday.objects.all()
    if year:
        holidays = holidays.filter(date__year=year)
    return holidays.order_by("date")


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

    @property
    def digest(self) -> str:
        return unit_contents_digest([a.pk for a in self.accounts], [u.pk for u in self.sub_units])


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


# ----- sessions ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionRow:
    handle: str
    device: str
    ip_address: str
    started_at: datetime | None
    last_seen_at: datetime | None
    current: bool


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("coc_coc_browser", "Cốc Cốc"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_label(user_agent: str) -> str:
    """"Chrome · Windows" from a browser's User-Agent, enough for a person to recognise their own."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    label = " · ".join(part for part in (browser, system) if part)
    return label or (user_agent[:60] if user_agent else _("Unknown browser"))


def sessions_active_for(account, *, current_session_key: str | None, now=None) -> list[SessionRow]:
    """The account's sessions that have not expired, the most recently used first."""
    now = now or timezone.now()
    sessions = AccountSession.objects.filter(account_id=account.pk, expire_date__gt=now).order_by(
        "-last_seen_at", "-started_at")
    return [SessionRow(handle=session_handle(session.session_key), device=device_label(session.user_agent),
                       ip_address=session.ip_address or "", started_at=session.started_at,
                       last_seen_at=session.last_seen_at, current=session.session_key == current_session_key)
            for session in sessions]
