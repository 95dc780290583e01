"""Retention (docs/architecture.md: configurable, at least 3 months by the level-3 rules, 12 by default): whole
monthly partitions older than the retention are removed only here, after a clean verification, with a
signed and sealed "retention" event that names what went, so that verification knows where the chain
now legitimately starts.

The event (kind audit_retention in the security events, sealed by the events' own chain) names the
table, the partitions and months removed, the id range and count of the records removed, the last
seal all of whose records went (its records are no longer expected; the seals themselves stay and are
still checked), and the few records of later seals that went too (a record's id and month need not
agree at a month's edge: ids are drawn before commit). Its details carry an Ed25519 signature by the
portal's signing key, so a row inserted behind the triggers cannot pass for one."""
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portal.errors import PolicyViolation

from .choices import EventKind
from .keys import known_public_keys, signature_valid, signing_key, signing_key_id
from .models import Seal, SecurityEvent
from .partitions import months_before, partitions_of
from .sealing import seals_run
from .services import audit_event_record

MAX_STRAGGLERS = 100_000


def _details_bytes(details: dict) -> bytes:
    unsigned = {key: value for key, value in details.items() if key != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def retention_events(table: str) -> list[SecurityEvent]:
    """The table's retention events whose signature verifies, oldest first."""
    events = SecurityEvent.objects.filter(kind=EventKind.AUDIT_RETENTION, details__table=table).order_by("id")
    trusted = []
    for event in events:
        details = event.details
        key = known_public_keys().get(details.get("signing_key_id", ""))
        try:
            signature = bytes.fromhex(details.get("signature", ""))
        except ValueError:
            continue
        if key is not None and signature_valid(key, signature, _details_bytes(details)):
            trusted.append(event)
    return trusted


@dataclass
class Removed:
    """The records a table legitimately lacks: every id below `below`, and the ids listed."""

    through_position: int = 0
    below: int = 0
    ids: frozenset = frozenset()

    def __contains__(self, record_id: int) -> bool:
        return record_id < self.below or record_id in self.ids

    def overlaps(self, first_id: int, last_id: int) -> bool:
        return first_id < self.below or any(first_id <= record_id <= last_id for record_id in self.ids)


def retention_of(table: str) -> Removed:
    """What the table's trusted retention events removed."""
    removed = Removed()
    for event in retention_events(table):
        details = event.details
        removed = Removed(through_position=max(removed.through_position, details["through_position"]),
                          below=max(removed.below, details["removed_below_id"]),
                          ids=removed.ids | frozenset(details["straggler_ids"]))
    return removed


@dataclass
class RetentionPlan:
    table: str
    cutoff_month: str
    partitions: list
    removed_count: int
    removed_first_id: int | None
    removed_last_id: int | None
    through_position: int
    removed_below_id: int
    straggler_ids: list


def retention_plan(table: str, *, months: int) -> RetentionPlan:
    """What applying the retention would remove now: the partitions whose whole month lies before the
    current local month minus `months`."""
    if table not in settings.AUDIT_PARTITIONED_TABLES:
        raise PolicyViolation(f"{table} is not partitioned by month: retention removes whole partitions only.")
    if months < 3:
        raise PolicyViolation("Retention keeps at least 3 months (level-3 rules).")
    cutoff = months_before(timezone.localdate().replace(day=1), months)
    old = [partition for partition in partitions_of(table) if partition.month < cutoff]
    quote = connection.ops.quote_name
    removed_count, first_id, last_id, kept_min = 0, None, None, None
    with connection.cursor() as cursor:
        for partition in old:
            cursor.execute(f"SELECT count(*), min(id), max(id) FROM {quote(partition.name)}")
            count, low, high = cursor.fetchone()
            removed_count += count
            if count:
                first_id = low if first_id is None else min(first_id, low)
                last_id = high if last_id is None else max(last_id, high)
        kept = [partition.name for partition in partitions_of(table) if partition.month >= cutoff]
        for name in kept:
            cursor.execute(f"SELECT min(id) FROM {quote(name)}")
            low = cursor.fetchone()[0]
            if low is not None:
                kept_min = low if kept_min is None else min(kept_min, low)
        stragglers = []
        if old and kept_min is not None:
            union = " UNION ALL ".join(f"SELECT id FROM {quote(partition.name)} WHERE id >= %s" for partition in old)
            cursor.execute(f"SELECT id FROM ({union}) removed ORDER BY id LIMIT {MAX_STRAGGLERS + 1}",
                           [kept_min] * len(old))
            stragglers = [row[0] for row in cursor.fetchall()]
    if len(stragglers) > MAX_STRAGGLERS:
        raise PolicyViolation("Too many records of the removed months have ids among the kept ones.")
    boundary = kept_min if kept_min is not None else (last_id + 1 if last_id is not None else 1)
    through = Seal.objects.filter(table_name=table, last_id__lt=boundary).order_by("-position") \
        .values_list("position", flat=True).first() or 0
    return RetentionPlan(table=table, cutoff_month=cutoff.isoformat(), partitions=[p.name for p in old],
                         removed_count=removed_count, removed_first_id=first_id, removed_last_id=last_id,
                         through_position=through, removed_below_id=boundary if old else 0,
                         straggler_ids=stragglers)


def retention_apply(*, actor, table: str, months: int | None = None, verify) -> RetentionPlan:
    """Remove the partitions older than the retention, after `verify(table)` found the chain clean and
    every record to go sealed; the event is recorded, signed and sealed in the same run. `verify` is
    the caller's (the command's) run of audit/verification.py, so that its report is shown."""
    months = settings.AUDIT_RETENTION_MONTHS if months is None else months
    seals_run(tables=[table], settle_seconds=5)
    if not verify(table):
        raise PolicyViolation("Verification found problems: nothing removed. Investigate them first.")
    with transaction.atomic():
        plan = retention_plan(table, months=months)
        if not plan.partitions:
            return plan
        last = Seal.objects.filter(table_name=table).order_by("-position").first()
        if plan.removed_last_id is not None and (last is None or last.last_id < plan.removed_last_id):
            raise PolicyViolation("Some records to remove are not sealed yet: run audit_seal first.")
        details = {"table": table, "months_kept": months, "before_month": plan.cutoff_month,
                   "partitions": plan.partitions, "removed_count": plan.removed_count,
                   "removed_first_id": plan.removed_first_id, "removed_last_id": plan.removed_last_id,
                   "through_position": plan.through_position, "removed_below_id": plan.removed_below_id,
                   "straggler_ids": plan.straggler_ids,
                   "signing_key_id": signing_key_id(signing_key().public_key())}
        details["signature"] = signing_key().sign(_details_bytes(details)).hex()
        audit_event_record(kind=EventKind.AUDIT_RETENTION, actor=actor, details=details)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for name in plan.partitions:
                cursor.execute(f"ALTER TABLE {quote(table)} DETACH PARTITION {quote(name)}")
                cursor.execute(f"DROP TABLE {quote(name)}")
    seals_run(tables=["audit_securityevent"], settle_seconds=5)
    return plan
