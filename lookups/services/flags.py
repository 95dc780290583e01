"""Anomaly flags after the decision: the job that records them as security events, the IT Center's
review, and the alert's claim."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Unit, User
from accounts.permissions import ensure_it_admin, ensure_right
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.actors import Right
from portal.errors import DomainError, PolicyViolation
from portal.text import first_invisible_character

from ..models import AnomalyFlag

ANOMALY_BATCH = 500


def _anomaly_events_record(*, actor, flags: list[AnomalyFlag]) -> None:
    officers = User.objects.in_bulk({flag.officer_id for flag in flags if flag.officer_id is not None})
    units = Unit.objects.in_bulk({flag.unit_id_then for flag in flags if flag.unit_id_then is not None})
    for flag in flags:
        officer = officers.get(flag.officer_id)
        audit_event_record(kind=EventKind.LOOKUP_ANOMALY_FLAGGED, actor=actor, target=officer,
                           target_username=flag.officer_username, unit=units.get(flag.unit_id_then),
                           details={"anomaly": flag.kind, "lookup": flag.lookup_id,
                                    "decided_at": flag.decided_at.isoformat(), **flag.details})


def anomaly_flags_process(*, actor, batch_size: int = ANOMALY_BATCH) -> int:
    """The job (lookups.tasks.process_anomaly_flags): one security event per flag not yet processed,
    batch by batch. A batch is claimed with a conditional update (`processed_at` still empty) on rows
    locked SKIP LOCKED, and its events are written in the same transaction: a second worker or a second
    run finds nothing to do, a worker killed mid-batch leaves the batch unclaimed, and nothing is
    recorded twice. Returns how many flags were processed."""
    ensure_right(actor, Right.ANOMALIES_PROCESS, _("Only IT Center administrators may process anomaly flags."))
    processed = 0
    while True:
        with transaction.atomic():
            ids = list(AnomalyFlag.objects.select_for_update(skip_locked=True).filter(processed_at__isnull=True)
                       .order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return processed
            now = timezone.now()
            AnomalyFlag.objects.filter(pk__in=ids, processed_at__isnull=True).update(processed_at=now)
            flags = list(AnomalyFlag.objects.filter(pk__in=ids, processed_at=now).order_by("pk"))
            _anomaly_events_record(actor=actor, flags=flags)
            processed += len(flags)
        if len(ids) < batch_size:
            return processed


REVIEW_NOTE_MAX = 1000


def anomaly_flag_review(*, actor, flag: AnomalyFlag, note: str) -> AnomalyFlag:
    """The IT Center closes a flag after looking into it, saying what it found: from then on the flag no
    longer counts against the officer (compliance: "lookups without open anomalies"). Once only — two
    admins clicking at once: one conditional update wins, the other is told it was reviewed already."""
    ensure_it_admin(actor, _("Only IT Center administrators may close a flagged lookup."))
    note = (note or "").strip()
    if not note:
        raise PolicyViolation([_("Say what the review found.")], field="note")
    if len(note) > REVIEW_NOTE_MAX:
        raise PolicyViolation([_("The note may have at most %(max)d characters.") % {"max": REVIEW_NOTE_MAX}],
                              field="note")
    if first_invisible_character(note.replace("\n", "").replace("\r", "").replace("\t", "")) is not None:
        raise PolicyViolation([_("The note holds a control character.")], field="note")
    now = timezone.now()
    with transaction.atomic():
        closed = AnomalyFlag.objects.filter(pk=flag.pk, reviewed_at__isnull=True).update(
            reviewed_at=now, reviewed_by=actor, review_note=note)
        if not closed:
            raise DomainError(_("This flagged lookup was reviewed already."), code="already_reviewed")
        flag.refresh_from_db()
        officer = User.objects.filter(pk=flag.officer_id).first() if flag.officer_id else None
        audit_event_record(kind=EventKind.LOOKUP_ANOMALY_REVIEWED, actor=actor, target=officer,
                           target_username=flag.officer_username,
                           unit=Unit.objects.filter(pk=flag.unit_id_then).first() if flag.unit_id_then else None,
                           details={"anomaly": flag.kind, "lookup": flag.lookup_id, "note": note})
    return flag


def anomaly_flags_mark_alerted(*, actor, flag_ids) -> list[int]:
    """The IT Center's alert claims the flags it is about to announce: of `flag_ids`, those processed and
    not alerted yet get `alerted_at` now, and their ids are returned — only those may be announced.
    Call it inside the transaction that writes the notifications (outbox rows), so that the claim and
    the notices commit or roll back together: a second run, or a second worker waiting on the row
    locks, gets an empty list. Flags are alerted once, whatever the number of callers."""
    ensure_right(actor, Right.ANOMALY_ALERTS_SEND, _("Only IT Center administrators may mark anomaly alerts as sent."))
    ids = [flag_id for flag_id in flag_ids if isinstance(flag_id, int) and not isinstance(flag_id, bool)]
    if not ids:
        return []
    with transaction.atomic():
        claimed = list(AnomalyFlag.objects.select_for_update().filter(
            pk__in=ids, processed_at__isnull=False, alerted_at__isnull=True).order_by("pk").values_list("pk", flat=True))
        AnomalyFlag.objects.filter(pk__in=claimed).update(alerted_at=timezone.now())
    return claimed
