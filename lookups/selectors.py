"""What the lookups app reads for others: the quota limits that apply to an officer, the API client
a bearer token belongs to, an officer's own recent lookups and the lookup log within a reader's scope."""
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.choices import Role, TurnoverAction
from accounts.models import Unit, User
from accounts.scope import units_visible_to
from accounts.selectors import lockout_end
from policy.models import PasswordPolicy
from policy.selectors import current_policy, policy_remember

from .anomalies import OPEN_TURNOVER_STATES, Facts
from .choices import Decision
from .models import AnomalyFlag, ApiClient, LookupRecord, QuotaOverride, RegistryFailure
from .quotas import QUOTA_TIME_ZONE, WINDOWS, Limits
from .tokens import api_token_hash


def quota_limits_for(officer) -> Limits:
    """The four limits of an officer's lookups, each resolved most specific first: an override for the
    officer's role in the officer's unit, then for the unit, then for the role anywhere, then the
    policy. Unit windows are the unit's whole allowance: they are overridden per unit only. Overrides in
    shadow mode are not enforced: they come back in `Limits.shadow`, most specific first."""
    overrides = QuotaOverride.objects.filter(
        Q(unit_id=officer.unit_id, role=officer.role) | Q(unit_id=officer.unit_id, role="")
        | Q(unit__isnull=True, role=officer.role)
    ).values_list("unit_id", "role", "window", "limit", "shadow")
    return _limits(current_policy(), overrides)


def _limits(policy, overrides) -> Limits:
    """The rule of quota_limits_for over the officer's override rows (unit_id, role, window, limit,
    shadow), however they were read."""
    values = {str(window): getattr(policy, f"quota_{window}") for window in WINDOWS}

    def specificity(row):
        unit_id, role, _window, _limit, _shadow = row
        return (unit_id is not None) * 2 + bool(role)

    shadow = {}
    for _unit_id, _role, window, limit, in_shadow in sorted(overrides, key=specificity):  # most specific last
        if in_shadow:  # counted against, not enforced: the less specific limit stays the enforced one
            shadow[window] = limit
        else:
            values[window] = limit
    return Limits(**values, shadow=shadow)


# ----- the officer of a lookup decision, in one statement ---------------------------------------------

@dataclass(frozen=True)
class DecisionOfficer:
    """What a lookup decision needs to know of the officer named, read in one statement."""

    officer: User  # with its unit loaded
    locked_until: datetime | None  # the lockout rule (accounts.selectors.lockout_end) over django-axes' rows
    limits: Limits  # quota_limits_for's rule over the officer's overrides
    facts: Facts  # the anomaly rules' facts, with the lookup about to be recorded counted in
    contained_paths: list[str]  # for accounts.permissions.account_contained: the unit's path when it or a
    # unit above it is held by an incident containment, else none


_USER_FIELDS = [field for field in User._meta.concrete_fields]
_UNIT_FIELDS = [field for field in Unit._meta.concrete_fields]
_POLICY_FIELDS = [field for field in PasswordPolicy._meta.concrete_fields]
_UNIT_RELATION = User._meta.get_field("unit")

# The account with its unit, the policy record, and (lookups_decision_facts, migrations 0010 and 0011)
# django-axes' failures of the username in the cool-off window (the figures of the lockout rule), the
# quota overrides that may apply to it, the anomaly rules' facts about the lookup asked for
# (lookups/anomalies.py) and whether its unit or one above it is contained — one round trip instead of
# six queries (README, "Where a decision's time goes"). The statement is a call of the server-side
# function lookups_decision_officer (migration 0012), whose plan PostgreSQL keeps per connection (sent as
# a join it was parsed and planned on every decision), answering one JSON text: the three rows by column
# name, then the facts. The facts are read before the lookup's own record exists and counted with it in
# Python: "others" plus this one.
OFFICER_SQL = ("SELECT lookups_decision_officer(%(username)s, %(policy_id)s, %(now)s, %(lockout_minutes)s, %(day)s, "
               "%(dossier)s, %(citizen)s, %(allow)s, %(since)s, %(disable)s, %(open_states)s)")
_DEFERRED = frozenset({"password"})  # what the function leaves out of the account's row: never read here


def _converter(field):
    """How a column's value in row_to_json becomes what the ORM would have loaded (None: as it is)."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return lambda value: None if value is None else datetime.fromisoformat(value)
    if kind == "DateField":
        return lambda value: None if value is None else date.fromisoformat(value)
    if kind in ("JSONField", "AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
                "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField", "BooleanField",
                "CharField", "TextField", "ForeignKey", "OneToOneField", "EmailField", "SlugField"):
        return None  # JSON's number, boolean, string, array or null is the value (jsonb is embedded as JSON)
    raise TypeError(f"{field.model.__name__}.{field.name}: no JSON conversion for {kind} (lookups.selectors)")


def _model_loader(model, fields, *, deferred=frozenset()):
    """A function building `model` from its row as a JSON object, as Model.from_db does from columns."""
    loaded = [(field.attname, field.column, _converter(field)) for field in fields if field.name not in deferred]
    attnames = [attname for attname, _column, _convert in loaded]

    def load(row: dict):
        values = [row[column] if convert is None else convert(row[column]) for _attname, column, convert in loaded]
        return model.from_db("default", attnames, values)
    return load


_load_user = _model_loader(User, _USER_FIELDS, deferred=_DEFERRED)
_load_unit = _model_loader(Unit, _UNIT_FIELDS)
_load_policy = _model_loader(PasswordPolicy, _POLICY_FIELDS)


def officer_for_decision(username: str, *, now: datetime, citizen_id_hash: str, dossier_code: str
                         ) -> DecisionOfficer | None:
    """The account named `username` (exactly: the caller folds it), its lockout, its quota limits and
    the anomaly facts of a lookup of `citizen_id_hash` for `dossier_code` by it at `now`; None when no
    account has this username. The policy record is read by the same statement (and remembered for
    the request, as current_policy does)."""
    with connection.cursor() as cursor:
        cursor.execute(OFFICER_SQL, {
            "policy_id": PasswordPolicy.SINGLETON_ID, "now": now,
            "lockout_minutes": settings.POLICY_DEFAULTS["lockout_minutes"], "username": username,
            "day": now.astimezone(QUOTA_TIME_ZONE).date(), "dossier": dossier_code, "citizen": citizen_id_hash,
            "allow": Decision.ALLOW.value, "since": now - timedelta(hours=settings.LOOKUP_ANOMALY_WINDOW_HOURS),
            "disable": TurnoverAction.DISABLE.value,
            "open_states": [state.value for state in OPEN_TURNOVER_STATES],
        })
        found = cursor.fetchone()[0]
    if found is None:
        return None
    user_row, unit_row, policy_row, *facts_row = json.loads(found)
    officer = _load_user(user_row)
    unit = _load_unit(unit_row)
    _UNIT_RELATION.set_cached_value(officer, unit)
    # The defaults when the database has no record (current_policy's rule).
    policy = PasswordPolicy.from_defaults() if policy_row is None else _load_policy(policy_row)
    policy_remember(policy)  # what the officer's state checks read next (password expiry) in this request
    (total, latest, overrides, holiday, dossier_citizens, citizen_seen, citizen_officers, officer_seen,
     disable_request, unit_contained) = facts_row
    latest = None if latest is None else datetime.fromisoformat(latest)
    locked_until = lockout_end(total=total or 0, latest=latest, escalating=officer.role == Role.IT_ADMIN, now=now,
                               policy=policy)
    facts = Facts(holiday=holiday, dossier_citizens=dossier_citizens + (0 if citizen_seen else 1),
                  citizen_new_to_dossier=not citizen_seen,
                  citizen_officers=citizen_officers + (0 if officer_seen else 1),
                  officer_new_to_citizen=not officer_seen, disable_request_id=disable_request)
    return DecisionOfficer(officer=officer, locked_until=locked_until,
                           limits=_limits(policy, [tuple(item) for item in json.loads(overrides)]), facts=facts,
                           contained_paths=[unit.path] if unit_contained else [])


def quota_overrides() -> list[QuotaOverride]:
    return list(QuotaOverride.objects.select_related("unit").order_by("unit__code", "role", "window"))


def quota_override_get(pk) -> QuotaOverride:
    return get_object_or_404(QuotaOverride.objects.select_related("unit"), pk=pk)


def quota_policy_limits() -> list[tuple]:
    """[(window, its label, the policy's limit)]: what applies where no override does."""
    policy = current_policy()
    return [(str(window), window.label, getattr(policy, f"quota_{window}")) for window in WINDOWS]


def api_client_for_token(token: str) -> ApiClient | None:
    """The active client whose token this is, or None. One indexed equality on the token's keyed hash
    (the hash of a guess tells nothing about the stored hashes, so no comparison timing leaks)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return ApiClient.objects.select_related("unit").filter(token_hash=api_token_hash(token), is_active=True).first()


def lookups_of_officer(officer, *, limit: int = 10) -> list[LookupRecord]:
    """The officer's own latest decisions, newest first (the lookup_record_officer index)."""
    return list(LookupRecord.objects.filter(officer_id=officer.pk).order_by("-decided_at", "-pk")[:limit])


def lookup_records_visible_to(user):
    """The log a reader may see: it_admin and inspector everything; a unit leader the records whose
    officer's unit (as it was when decided) is in their subtree — one subquery, whatever the subtree's
    size; anyone else nothing. A record of an unknown officer has no unit: only the first two see it."""
    if user.sees_everything:
        return LookupRecord.objects.all()
    if user.role == Role.UNIT_LEADER:
        return LookupRecord.objects.filter(unit_id_then__in=units_visible_to(user).values("pk"))
    return LookupRecord.objects.none()


# The log's order and page key: the time, then the id (two records of one microsecond).
LOOKUP_LOG_ORDER = ("-decided_at", "-pk")


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def lookup_log(user, *, citizen_id_hash: str = "", officer_username: str = "", unit_code: str = "",
               decision: str = "", reason: str = "", date_from=None, date_to=None, unit_exact: bool = False):
    """The reader's log with the filters given (each optional), newest first; the date bounds are whole
    days in the portal's time zone. A unit code stands for that unit and the units below it (as the
    flagged lookups' filter), or for that unit alone with `unit_exact`. A queryset: the page reads one page of it by key (portal/keyset.py,
    LOOKUP_LOG_ORDER), never a count."""
    records = lookup_records_visible_to(user).select_related("client")
    if citizen_id_hash:
        records = records.filter(citizen_id_hash=citizen_id_hash)
    if officer_username:
        records = records.filter(officer_username=officer_username)
    if unit_code:
        unit = None if unit_exact else Unit.objects.filter(code=unit_code).only("path").first()
        if unit is None:
            records = records.filter(unit_code_then=unit_code)
        else:
            records = records.filter(unit_id_then__in=Unit.objects.filter(path__startswith=unit.path).values("pk"))
    if decision:
        records = records.filter(decision=decision)
    if reason:
        records = records.filter(reason=reason)
    if date_from is not None:  # bounds as instants, so that the lookup_record_time index serves them
        records = records.filter(decided_at__gte=_day_start(date_from))
    if date_to is not None:
        records = records.filter(decided_at__lt=_day_start(date_to + timedelta(days=1)))
    return records.order_by(*LOOKUP_LOG_ORDER)


# ----- anomaly flags --------------------------------------------------------------------------------------

def anomaly_flags_to_alert(*, limit: int = 500) -> list[AnomalyFlag]:
    """The IT Center's alert queue: flags already recorded as security events and not yet announced,
    oldest first (the anomaly_flag_unalerted partial index). Announce only those that
    lookups.services.anomaly_flags_mark_alerted then hands back. Each flag carries `kind` (an
    AnomalyKind; `get_kind_display()`), `decided_at`, `officer_username`, `unit_code_then`, `lookup_id`
    and `details` (the rule's figures)."""
    return list(AnomalyFlag.objects.filter(processed_at__isnull=False, alerted_at__isnull=True).order_by("pk")[:limit])


def anomaly_flags_visible_to(user):
    """The flags a reader may see: it_admin and inspector all; a unit leader those whose lookup's unit
    (as it was when decided) is in their subtree; anyone else none."""
    if user.sees_everything:
        return AnomalyFlag.objects.all()
    if user.role == Role.UNIT_LEADER:
        return AnomalyFlag.objects.filter(unit_id_then__in=units_visible_to(user).values("pk"))
    return AnomalyFlag.objects.none()


def anomaly_flag_list(user, *, kind: str = "", unit=None, officer_username: str = "", date_from=None,
                      date_to=None, state: str = ""):
    """The reader's flags with the filters given, newest first. `unit` (already checked to be visible to
    the reader) stands for its whole subtree; date bounds are whole days in the portal's time zone."""
    flags = anomaly_flags_visible_to(user).select_related("lookup")
    if kind:
        flags = flags.filter(kind=kind)
    if state:  # "open": not closed by the IT Center's review yet; "closed": reviewed
        flags = flags.filter(reviewed_at__isnull=(state == "open"))
    if unit is not None:
        flags = flags.filter(unit_id_then__in=Unit.objects.filter(path__startswith=unit.path).values("pk"))
    if officer_username:
        flags = flags.filter(officer_username=officer_username)
    if date_from is not None:
        flags = flags.filter(decided_at__gte=_day_start(date_from))
    if date_to is not None:
        flags = flags.filter(decided_at__lt=_day_start(date_to + timedelta(days=1)))
    return flags.order_by("-decided_at", "-pk")


def anomaly_flag_get_visible(user, pk) -> AnomalyFlag:
    return get_object_or_404(anomaly_flags_visible_to(user).select_related("lookup", "lookup__client"), pk=pk)


def registry_failures_of(lookup_ids) -> dict:
    """{lookup id: its latest registry failure} for the lookups given (one query)."""
    failures = {}
    for failure in RegistryFailure.objects.filter(lookup_id__in=list(lookup_ids)).order_by("occurred_at", "pk"):
        failures[failure.lookup_id] = failure
    return failures


def unit_visible_by_code(user, code: str):
    """The unit with this agency code if the reader may see it, else None."""
    return units_visible_to(user).filter(code=code).first() if code else None


def lookup_history_of(reader, officer, *, date_from=None, date_to=None):
    """An officer's own decisions, oldest first, as far as the reader may see them: it_admin and
    inspector all; a unit leader those made while the officer's unit (as it was) was in their subtree;
    the officer themself all of theirs; anyone else none."""
    records = LookupRecord.objects.filter(officer_id=officer.pk)
    if reader.sees_everything or reader.pk == officer.pk:
        pass
    elif reader.role == Role.UNIT_LEADER:
        records = records.filter(unit_id_then__in=units_visible_to(reader).values("pk"))
    else:
        return LookupRecord.objects.none()
    if date_from is not None:
        records = records.filter(decided_at__gte=_day_start(date_from))
    if date_to is not None:
        records = records.filter(decided_at__lt=_day_start(date_to + timedelta(days=1)))
    return records.select_related("client").order_by("decided_at", "pk")
