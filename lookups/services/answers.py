"""The registry's answer to an allowed lookup: in the officer's page, and in full within a short window."""
import hmac
import logging
from datetime import timedelta

from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import NotAllowed

from ..choices import Decision
from ..models import LookupRecord, RegistryFailure
from ..registry import CitizenRecord, RegistryUnavailable, registry_adapter
from .decisions import LookupDecision, citizen_id_hash

logger = logging.getLogger(__name__)


REVEAL_WINDOW = timedelta(minutes=30)


def _registry_fetch(*, lookup_id: int, decided_at, citizen_id: str) -> CitizenRecord:
    """The configured registry's record of the citizen. A failure is recorded beside the lookup (the
    record itself is append-only) in its own transaction, and raised as the RegistryUnavailable the
    interfaces show. No transaction is held open while the registry is asked."""
    try:
        return registry_adapter().fetch(citizen_id)
    except RegistryUnavailable as failure:
        logger.warning("Registry failure for lookup %s: %s %s", lookup_id, failure.kind, failure.status_code or "")
        try:
            RegistryFailure.objects.create(lookup_id=lookup_id, decided_at=decided_at, kind=failure.kind,
                                           status_code=failure.status_code, detail=failure.detail)
        except DatabaseError:
            logger.exception("A registry failure could not be recorded")
        raise


def lookup_answer(*, decision: LookupDecision, citizen_id: str) -> CitizenRecord:
    """The registry's record for an allowed decision (the officer's page shows it masked). Raises
    RegistryUnavailable — recorded with the lookup — when the registry gives none."""
    if not decision.allowed or decision.record_id is None:
        raise NotAllowed(_("Only an allowed lookup is answered."), code="lookup_not_allowed")
    return _registry_fetch(lookup_id=decision.record_id, decided_at=decision.decided_at,
                           citizen_id=citizen_id.strip())


def lookup_reveal(*, actor, lookup_id: int, citizen_id: str) -> CitizenRecord:
    """The registry's answer in full, for the officer who was allowed this lookup, within
    REVEAL_WINDOW of the decision, and only for the citizen it was allowed for (the typed number must
    hash to the record's). Recorded as an event naming the lookup once the registry has answered (a
    failure is recorded as a RegistryFailure instead: nothing was shown)."""
    refused = NotAllowed(_("This lookup's answer can no longer be shown in full: look the citizen up again."),
                         code="reveal_refused")
    citizen = citizen_id.strip() if isinstance(citizen_id, str) else ""
    if not citizen or len(citizen) > 12 or getattr(actor, "pk", None) is None:
        raise refused
    record = LookupRecord.objects.filter(
        pk=lookup_id, officer_id=actor.pk, decision=Decision.ALLOW,
        decided_at__gte=timezone.now() - REVEAL_WINDOW).first()
    if record is None or not hmac.compare_digest(record.citizen_id_hash, citizen_id_hash(citizen)):
        raise refused
    answer = _registry_fetch(lookup_id=record.pk, decided_at=record.decided_at, citizen_id=citizen)
    audit_event_record(kind=EventKind.LOOKUP_REVEALED, actor=actor, unit=actor.unit,
                       details={"lookup": record.pk, "dossier_code": record.dossier_code})
    return answer
