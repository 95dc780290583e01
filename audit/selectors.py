from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import Unit
from accounts.scope import units_visible_to

from .models import SecurityEvent


def security_events_of_account(account, *, limit=20):
    """The latest events about one account, for its page (the caller has already checked scope)."""
    return SecurityEvent.objects.filter(target=account).order_by("-id")[:limit]


def security_events_visible_to(user, *, kind="", username="", unit_code="", date_from=None, date_to=None,
                               unit_exact=False):
    """Events the user may read (it_admin and inspector: all; a leader: their subtree), filtered. A unit
    code stands for that unit and the units below it (as every unit filter of the portal), or for that
    unit alone with `unit_exact`."""
    events = SecurityEvent.objects.all()
    if not user.sees_everything:
        events = events.filter(unit__in=units_visible_to(user))
    if kind:
        events = events.filter(kind=kind)
    if username:  # exact matches on indexed columns: the table grows without end
        events = events.filter(Q(target_username=username) | Q(actor_username=username))
    if unit_code:
        events = events.filter(_unit_condition(unit_code, unit_exact))
    if date_from:  # whole local days as instants (no ::date cast: the occurred_at index serves them)
        events = events.filter(occurred_at__gte=_day_start(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_day_start(date_to + timedelta(days=1)))
    return events.order_by("-id")


def _unit_condition(unit_code: str, unit_exact: bool) -> Q:
    """The events of the unit with this code (and of the units below it unless `unit_exact`); a code no
    unit has matches the events recorded with it."""
    unit = None if unit_exact else Unit.objects.filter(code=unit_code).only("path").first()
    if unit is None:
        return Q(unit_code=unit_code)
    return Q(unit_id__in=Unit.objects.filter(path__startswith=unit.path).values("pk")) | Q(unit_code=unit_code)


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def seal_digests_latest() -> dict[str, dict]:
    """The newest seal of each sealed table, for publishing outside the database (the IT Center's daily
    mail, the monthly compliance report): a rewrite of a whole chain is caught against what was sent.
    {table: {"position", "chain", "signature", "last_id", "sealed_at"}}; a table not sealed yet is absent."""
    from django.conf import settings

    from .models import Seal

    seals = (Seal.objects.filter(table_name__in=list(settings.AUDIT_SEALED_TABLES))
             .order_by("table_name", "-position").distinct("table_name"))
    return {seal.table_name: {"position": seal.position, "chain": seal.chain, "signature": seal.signature,
                              "last_id": seal.last_id, "sealed_at": seal.sealed_at} for seal in seals}


def seal_chain_states(*, now=None) -> list[dict]:
    """The inspector's page: per sealed table, the last seal, what is not sealed yet and how long it
    has waited (the lag), and what the latest verification found for it. A few indexed reads per table
    (the unsealed tail is read by id above the last seal)."""
    from django.conf import settings
    from django.db import connection

    from .models import Seal, SealVerification

    now = now or timezone.now()
    latest = SealVerification.objects.order_by("-id").first()
    verified = {table["table"]: table for table in (latest.report.get("tables", []) if latest else [])}
    lag_limit = timedelta(minutes=settings.AUDIT_SEAL_MAX_LAG_MINUTES)
    states = []
    for table, time_column in settings.AUDIT_SEALED_TABLES.items():
        last = Seal.objects.filter(table_name=table).order_by("-position").first()
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), min({quote(time_column)}) FROM {quote(table)} WHERE id > %s",
                           [last.last_id if last else 0])
            unsealed, oldest = cursor.fetchone()
        lag = now - oldest if oldest else timedelta(0)
        states.append({"table": table, "last_seal": last, "unsealed": unsealed, "oldest_unsealed": oldest,
                       "lag_minutes": int(lag.total_seconds() // 60), "lag_ok": lag <= lag_limit,
                       "verified": verified.get(table)})
    return states


def seal_verification_latest():
    from .models import SealVerification

    return SealVerification.objects.order_by("-id").first()


def seals_for_download(table: str | None = None):
    """Every seal (of one table, or all), in chain order, as the download streams them."""
    from .models import Seal

    seals = Seal.objects.order_by("table_name", "position")
    return seals.filter(table_name=table) if table else seals
