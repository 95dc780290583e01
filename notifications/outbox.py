"""Enqueue a notice (docs/architecture.md layer 3, beside audit): what every flow calls inside its own transaction,
next to its audit event, so the change, its record and its notice commit together or not at all.

A notice is claimed by inserting its row under its unique key (ON CONFLICT DO NOTHING): a flow run
twice, or two workers, make it once. After commit, the e-mails of the new rows are handed to the
delivery job by name (it lives in the interface layer, which no flow imports); should the broker be
unreachable then, the job's minutely sweep finds them ready and sends them — never silently lost.

No message may hold a password, a one-time password or a citizen ID: a context key that names one, or
a value shaped like a citizen ID (12 digits), is refused here, whoever calls."""
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from celery import current_app
from django.db import connection, transaction
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.utils import timezone
from kombu.exceptions import OperationalError

from .choices import MANDATORY_KINDS, DeliveryState, NoticeKind
from .models import Notice, NotificationPreference

logger = logging.getLogger(__name__)

DELIVER_TASK = "notifications.deliver"
# How many e-mails one delivery job takes (one SMTP session): 200,000 reminders are 400 jobs.
DELIVERY_CHUNK = 500

_SECRET_KEY_NAMES = re.compile(r"password|passwd|otp|secret|token|recovery|citizen|cccd|cmnd", re.IGNORECASE)
_CITIZEN_ID_SHAPE = re.compile(r"(?<!\d)\d{12}(?!\d)")
# A SHA-256 (or HMAC) digest in hexadecimal, e.g. a seal's chain value in the daily mail: about one digest
# in forty holds a run of exactly twelve decimal digits between two letters, which is no citizen ID.
_HEX_DIGEST = re.compile(r"[0-9a-f]{40,128}")


def _is_hex_digest(value: str) -> bool:
    """The whole value is a hexadecimal digest (with at least one letter: a long run of digits alone
    stays suspect)."""
    return _HEX_DIGEST.fullmatch(value) is not None and not value.isdigit()


def context_refuse_secrets(context: dict) -> dict:
    """The context as stored, or ValueError when it could carry a secret (a programming error: no flow
    has a reason to put one there, so it is refused loudly, never sent)."""
    def check(key, value):
        if key is not None and _SECRET_KEY_NAMES.search(str(key)):
            raise ValueError(f"A notice's context may not hold {key!r}: no password, one-time password, "
                             "token or citizen ID is ever sent.")
        if isinstance(value, dict):
            for inner_key, inner in value.items():
                check(inner_key, inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                check(None, inner)
        elif isinstance(value, str) and _CITIZEN_ID_SHAPE.search(value) and not _is_hex_digest(value):
            raise ValueError("A notice's context may not hold a citizen ID (12 digits).")

    stored = {}
    for key, value in (context or {}).items():
        check(key, value)
        # Times as ISO text (JSON); notifications.messages gives keys ending in "_at" back as datetimes.
        stored[key] = value.isoformat() if isinstance(value, datetime) else value
    return stored


@dataclass(frozen=True)
class NoticeSpec:
    recipient: object  # accounts.User
    kind: str
    source_key: str
    context: dict = field(default_factory=dict)
    deadline: datetime | None = None


def notice_enqueue(*, recipient, kind: str, source_key: str, context: dict | None = None,
                   deadline: datetime | None = None) -> int | None:
    """One notice; returns its id, or None when it existed already (the same key: a repeated flow)."""
    created = notices_enqueue([NoticeSpec(recipient=recipient, kind=kind, source_key=source_key,
                                          context=context or {}, deadline=deadline)])
    return created[0] if created else None


def notices_enqueue(specs: list[NoticeSpec]) -> list[int]:
    """Insert the notices that do not exist yet (two queries whatever their number: the preferences,
    then one INSERT … ON CONFLICT DO NOTHING RETURNING id); after commit, send their e-mails."""
    if not specs:
        return []
    now = timezone.now()
    optional = {spec.recipient.pk for spec in specs if spec.kind not in MANDATORY_KINDS}
    in_app_only = set()
    if optional:
        in_app_only = set(NotificationPreference.objects.filter(account_id__in=optional, optional_by_email=False)
                          .values_list("account_id", flat=True))
    rows = []
    for spec in specs:
        if spec.kind not in NoticeKind.values or not spec.source_key:
            raise ValueError(f"A notice needs a known kind and a key, not {spec.kind!r}/{spec.source_key!r}.")
        by_email = bool(spec.recipient.email) and not (spec.kind not in MANDATORY_KINDS
                                                      and spec.recipient.pk in in_app_only)
        rows.append(Notice(
            recipient_id=spec.recipient.pk, kind=spec.kind, source_key=spec.source_key[:120],
            context=context_refuse_secrets(spec.context), deadline=spec.deadline, created_at=now,
            email_to=spec.recipient.email if by_email else "",
            email_state=DeliveryState.READY if by_email else DeliveryState.NONE))
    created = insert_ignoring_duplicates(rows)
    made = set(created)
    deliveries_dispatch_on_commit([row.pk for row in rows if row.pk in made
                                   and row.email_state == DeliveryState.READY])
    return created


def insert_ignoring_duplicates(rows: list[Notice]) -> list[int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the ids of the rows this statement made (a row whose
    key exists already is skipped, also one a concurrent transaction is inserting: PostgreSQL waits for
    it). Django's bulk_create(ignore_conflicts=True) returns no ids, hence its insert compiler here."""
    fields = [f for f in Notice._meta.local_concrete_fields if not f.primary_key]
    query = InsertQuery(Notice, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, rows)
    returned = query.get_compiler(using=connection.alias).execute_sql([Notice._meta.pk])
    # One row inserted answers [(id,)], one skipped [None]; several answer the inserted rows only.
    ids = [row[0] for row in returned if row is not None]
    if len(ids) == len(rows):
        for row, pk in zip(rows, ids):
            row.pk = pk
    else:
        _match_ids(rows, ids)
    return ids


def _match_ids(rows: list[Notice], ids: list[int]) -> None:
    """Some rows were duplicates: learn which got the ids (one query, only in that case)."""
    made = Notice.objects.filter(pk__in=ids).values_list("pk", "recipient_id", "kind", "source_key")
    by_key = {(recipient, kind, key): pk for pk, recipient, kind, key in made}
    for row in rows:
        row.pk = by_key.get((row.recipient_id, row.kind, row.source_key))


def deliveries_dispatch_on_commit(notice_ids: list[int]) -> None:
    """After commit, one delivery job per chunk of e-mails. Never with a countdown or an ETA: Celery on
    Redis redelivers those after the visibility timeout (celery/celery#2481), and retries are rows
    (Notice.next_attempt_at) that the minutely sweep picks up."""
    chunks = [list(notice_ids[start:start + DELIVERY_CHUNK]) for start in range(0, len(notice_ids), DELIVERY_CHUNK)]
    if chunks:
        transaction.on_commit(lambda: deliveries_dispatch(chunks))


def deliveries_dispatch(chunks: list[list[int]]) -> None:
    if current_app.conf.task_always_eager:
        # The single-machine trial (no broker, no worker): run the job in-process, as eager mode means.
        current_app.loader.import_default_modules()
        for chunk in chunks:
            current_app.tasks[DELIVER_TASK].apply(args=[chunk])
        return
    for chunk in chunks:
        try:
            # No publish retries: with the broker down a sign-in must not wait for it (the sweep sends).
            current_app.send_task(DELIVER_TASK, args=[chunk], retry=False)
        except (OperationalError, OSError):
            # The broker is down: the rows stay ready, and the sweep sends them once it is back.
            logger.warning("Could not hand e-mails to the delivery job; the sweep will send them", exc_info=True)
            return
