"""Services of the systems that keep their own accounts (SCIM targets and manual targets), beside the
registry's (federation.services): the role/group mapping edited on a page, the four-week end of a
quarantine and its resumption, and a manual task's evidence handed out. Each checks its permission
first and records its audit event in its own transaction (docs/conventions.md)."""
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import ensure_it_admin, ensure_right, is_system_actor
from audit.choices import EventKind
from audit.services import audit_event_record
from incidents.evidence import CONTENT_TYPES, EXTENSIONS
from portal.actors import Right
from portal.downloads import download_filename
from portal.errors import NotAllowed, PolicyViolation

from .choices import DeliveryKind, DeliveryState, SystemKind
from .models import ConnectedSystem, Delivery, ManualTask
from .propagation import account_changed, deliveries_dispatch_on_commit
from .selectors import registry_readable_by
from .services import ROLE_MAPPING_KEYS, _role_mapping_or_refuse

# Microsoft Entra disables a provisioning job that stays in quarantine for four weeks; so does the
# portal (docs/federation.md "Quarantine"): its deliveries are kept, not sent, until the IT Center resumes.
QUARANTINE_STOP_AFTER = timedelta(days=28)


@transaction.atomic
def system_role_mapping_set(*, actor, system: ConnectedSystem, mapping: dict) -> int:
    """Set how the portal's roles are named on a SCIM target (its roles and its Groups). The accounts
    whose role is now named differently are pushed again (their role and group membership change
    there). Returns how many pushes were queued; nothing changes when the mapping is the same."""
    ensure_it_admin(actor, _("Only IT Center administrators may change a system's role mapping."))
    system = ConnectedSystem.objects.select_for_update().select_related("unit").get(pk=system.pk)
    if system.kind != SystemKind.SCIM:
        raise PolicyViolation(_("Only a SCIM target has a role mapping."), code="not_scim")
    new = _role_mapping_or_refuse({role: name for role, name in (mapping or {}).items() if (name or "").strip()})
    old = dict(system.role_mapping or {})
    if new == old:
        return 0
    system.role_mapping = new
    system.save(update_fields=["role_mapping"])
    changed = [role for role in ROLE_MAPPING_KEYS if old.get(role) != new.get(role)]
    queued = 0
    accounts = User.objects.filter(Q(unit__path__startswith=system.unit.path) | Q(scim_accounts__system=system),
                                   role__in=changed).distinct().select_related("unit")
    for account in accounts:
        queued += account_changed(account=account, reason="role_mapping", only_system=system)
    audit_event_record(kind=EventKind.SYSTEM_CHANGED, actor=actor, unit=system.unit,
                       details={"system": system.name, "old": {"role_mapping": old}, "new": {"role_mapping": new},
                                "pushes_queued": queued})
    return queued


@transaction.atomic
def systems_quarantine_expire(*, actor, now=None) -> list[str]:
    """Stop the deliveries of every SCIM target quarantined for four weeks: they stay queued, unsent,
    until the IT Center resumes them (system_deliveries_resume); the alert pass tells the IT Center
    once. The rows are locked, so two runs at once stop (and audit) each target once. Returns the
    names of the targets stopped now."""
    ensure_right(actor, Right.SYSTEMS_QUARANTINE_EXPIRE,
                 _("Only the quarantine job or the IT Center may stop a system's deliveries."))
    now = now or timezone.now()
    due = Q(kind=SystemKind.SCIM, quarantined_at__lte=now - QUARANTINE_STOP_AFTER, deliveries_stopped_at=None)
    systems = list(ConnectedSystem.objects.select_for_update().filter(due).select_related("unit").order_by("pk"))
    if not systems:
        return []
    ConnectedSystem.objects.filter(due, pk__in=[system.pk for system in systems]).update(deliveries_stopped_at=now)
    for system in systems:
        waiting = Delivery.objects.filter(system=system, state__in=[DeliveryState.READY, DeliveryState.SENDING]).count()
        audit_event_record(kind=EventKind.SYSTEM_DELIVERIES_STOPPED, actor=actor, unit=system.unit,
                           details={"system": system.name, "quarantined_since": system.quarantined_at.isoformat(),
                                    "deliveries_kept": waiting})
    return [system.name for system in systems]


@transaction.atomic
def system_deliveries_resume(*, actor, system: ConnectedSystem) -> int:
    """The IT Center resumes a target stopped after its quarantine: the quarantine is lifted and every
    delivery kept for it is sent now (a target still failing is quarantined again at its next failure,
    and stopped again four weeks later). Returns how many deliveries were handed to the job; False-y
    when it was not stopped."""
    ensure_it_admin(actor, _("Only IT Center administrators may resume a system's deliveries."))
    system = ConnectedSystem.objects.select_for_update().select_related("unit").get(pk=system.pk)
    if system.deliveries_stopped_at is None:
        raise PolicyViolation(_("The deliveries to this system are not stopped."), code="not_stopped")
    stopped_at = system.deliveries_stopped_at
    system.deliveries_stopped_at = system.deliveries_stopped_alerted_at = None
    system.quarantined_at = system.quarantine_alerted_at = None
    system.save(update_fields=["deliveries_stopped_at", "deliveries_stopped_alerted_at", "quarantined_at",
                               "quarantine_alerted_at"])
    now = timezone.now()
    waiting = Delivery.objects.filter(system=system, state=DeliveryState.READY).exclude(kind=DeliveryKind.MANUAL_TASK)
    ids = list(waiting.values_list("pk", flat=True))
    waiting.update(next_at=now)
    deliveries_dispatch_on_commit(ids)
    audit_event_record(kind=EventKind.SYSTEM_DELIVERIES_RESUMED, actor=actor, unit=system.unit,
                       details={"system": system.name, "stopped_at": stopped_at.isoformat(), "deliveries_sent": len(ids)})
    return len(ids)


def systems_mark_stop_alerted(*, ids: list[int], now) -> int:
    """The alert pass marks the stopped targets it alerted (once)."""
    return ConnectedSystem.objects.filter(pk__in=ids, deliveries_stopped_alerted_at=None).exclude(
        deliveries_stopped_at=None).update(deliveries_stopped_alerted_at=now)


def manual_task_evidence_path(task: ManualTask) -> Path:
    digest = task.evidence_sha256
    if len(digest) != 64 or any(char not in "0123456789abcdef" for char in digest):
        raise ValueError("not a SHA-256 digest")
    return Path(settings.PRIVATE_MEDIA_ROOT) / "federation" / f"{digest}.{EXTENSIONS[task.evidence_type]}"


@transaction.atomic
def manual_task_evidence_open(*, actor, task: ManualTask):
    """Hand the evidence of a done task to the IT Center or an inspector, recorded in the security log
    (who read which evidence). Returns (open binary file, content type, download name); a task without
    evidence, or a file no longer there, raises FileNotFoundError (the page answers 404)."""
    if is_system_actor(actor) or not registry_readable_by(actor):
        raise NotAllowed(_("Only the IT Center and inspectors may download the evidence of manual tasks."))
    if not task.evidence_sha256 or task.evidence_type not in EXTENSIONS:
        raise FileNotFoundError(task.pk)
    try:
        handle = manual_task_evidence_path(task).open("rb")
    except ValueError as error:
        raise FileNotFoundError(task.pk) from error
    audit_event_record(kind=EventKind.SYSTEM_EVIDENCE_DOWNLOADED, actor=actor, target=task.account,
                       unit=task.system.unit, details={"system": task.system.name, "task": task.pk,
                                                       "evidence_sha256": task.evidence_sha256})
    return handle, CONTENT_TYPES[task.evidence_type], \
        download_filename(task.evidence_name, EXTENSIONS[task.evidence_type], default_stem=f"evidence-{task.pk}")
