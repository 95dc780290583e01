"""Containment of an account or of a unit subtree (the playbooks of Entra's revokeSignInSessions and
Okta's global token revocation): hold the accounts (the refusal lives in the accounts kernel:
accounts.permissions.account_access_refusal), end every session through the accounts' one chokepoint
(accounts.services.lifecycle.sessions_end_for — which also revokes tokens and signs out of connected
systems where those are wired), force a password change at the next sign-in, refuse lookups
(`contained`), deactivate the accounts in the connected systems that keep their own (SCIM and manual
targets) when chosen, suspend the unit's lookup API clients when chosen.

Each step runs in a savepoint of its own: a failing step is rolled back, recorded and shown, and never
stops the others. Two administrators containing at once contain once: the hold is claimed by a
conditional UPDATE (… WHERE contained_at IS NULL), so the second waits for the first's commit and then
changes nothing. Lifting is a step of its own, audited; the forced password change stays, so lookups
come back once the officer has chosen a new password; the targets' deactivation is undone (reactivated)
only when the containment did it."""
import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.choices import PasswordChangeReason
from accounts.models import Unit, User
from accounts.permissions import account_deactivated_by_containment, ensure_it_admin, is_system_actor
from accounts.services._common import plain_text_or_refuse
from accounts.services.lifecycle import sessions_end_for
from audit.choices import EventKind
from audit.services import audit_event_record
from federation.choices import AccessEndReason
from federation.propagation import account_changed
from lookups.models import ApiClient
from portal.errors import DomainError, PolicyViolation

from ..choices import ContainmentTarget, IncidentState, StepOutcome, TimelineKind
from ..models import Containment, Incident
from ._common import TEXT_MAX_LENGTH, actor_name, ensure_open, timeline_add
from .records import incident_state_set_locked

logger = logging.getLogger(__name__)

# What a password change is forced over: an account already asked for a first (one-time) change keeps it.
FORCEABLE_REASONS = (PasswordChangeReason.NONE, PasswordChangeReason.EXPIRED)


@dataclass
class ContainmentResult:
    containment: Containment | None
    already: bool = False
    steps: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [step for step in self.steps if step["outcome"] == StepOutcome.FAILED]


def _step(steps: list, name: str, outcome: str, detail: str) -> None:
    steps.append({"step": name, "outcome": str(outcome), "detail": str(detail)})


def _run_step(steps: list, name: str, action) -> None:
    """Run one step in a savepoint: its failure is rolled back and recorded, the playbook goes on."""
    try:
        with transaction.atomic():
            outcome, detail = action()
    except (DomainError, DatabaseError) as error:
        logger.warning("Containment step %s failed", name, exc_info=True)
        _step(steps, name, StepOutcome.FAILED, _("Failed: %(error)s") % {"error": type(error).__name__})
        return
    _step(steps, name, outcome, detail)


def _steps_recorded(steps: list[dict]) -> list[str]:
    """The steps as an audit event keeps them: one readable line each (the log shows lists joined)."""
    return [f"{step['step']}: {step['outcome']} — {step['detail']}" for step in steps]


def _reason_checked(reason: str) -> str:
    reason = plain_text_or_refuse(reason, field="reason", max_length=TEXT_MAX_LENGTH)
    if not reason:
        raise PolicyViolation(_("Give the reason for the containment."), field="reason", code="reason_missing")
    return reason


def _incident_locked(incident: Incident | None) -> Incident | None:
    if incident is None:
        return None
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    ensure_open(incident)
    return incident


def _sessions_end_each(accounts: list[User]):
    """Every session of every account ends through the chokepoint, one savepoint per account."""
    ended = failed = 0
    for account in accounts:
        try:
            with transaction.atomic():
                ended += sessions_end_for(account)
        except DatabaseError:
            logger.warning("Ending the sessions of account %s failed", account.pk, exc_info=True)
            failed += 1
    detail = ngettext("%(count)d session ended", "%(count)d sessions ended", ended) % {"count": ended}
    if failed:
        # The accounts whose sessions did end stay so (their savepoints committed): shown as failed.
        return StepOutcome.FAILED, detail + "; " + ngettext(
            "ending them failed for %(count)d account", "ending them failed for %(count)d accounts", failed) % {
            "count": failed}
    return StepOutcome.DONE, detail


def _password_change_force(account_ids: list[int]):
    changed = (User.objects.filter(pk__in=account_ids, is_active=True, password_change_reason__in=FORCEABLE_REASONS)
               .update(password_change_reason=PasswordChangeReason.FORCED))
    return StepOutcome.DONE, ngettext("%(count)d account must change its password at the next sign-in",
                                      "%(count)d accounts must change their password at the next sign-in",
                                      changed) % {"count": changed}


def _targets_deactivate(*, accounts: list[User], account: User | None = None, unit: Unit | None = None,
                        containment: Containment):
    """Chosen at containment: the connected systems that keep their own accounts deactivate them too
    (SCIM PATCH active=false, a task on a manual target). The flag on the account or unit is what the
    pushes read (accounts.permissions.account_deactivated_by_containment), so an account created or moved
    into the subtree meanwhile is deactivated as well; this step's savepoint undoes both if it fails."""
    holder = User.objects.filter(pk=account.pk) if account is not None else Unit.objects.filter(pk=unit.pk)
    holder.update(contained_targets_deactivated=True)
    queued = 0
    for contained in User.objects.filter(pk__in=[a.pk for a in accounts]).select_related("unit"):
        queued += account_changed(account=contained, reason=AccessEndReason.ACCOUNT_DISABLED)
    containment.targets_deactivated = True
    return StepOutcome.DONE, ngettext(
        "%(count)d deactivation queued for the connected systems that keep their own accounts",
        "%(count)d deactivations queued for the connected systems that keep their own accounts",
        queued) % {"count": queued}


def _targets_step(steps: list, chosen: bool, **target) -> None:
    if chosen:
        _run_step(steps, "targets", lambda: _targets_deactivate(**target))
    else:
        _step(steps, "targets", StepOutcome.SKIPPED,
              _("The accounts stay active in the connected systems that keep their own accounts (not chosen); "
                "their sessions and tokens there ended"))


def _incident_attach(*, actor, incident: Incident | None, text: str, steps: list, kind=TimelineKind.CONTAINMENT):
    if incident is None:
        return
    timeline_add(incident=incident, actor=actor, kind=kind, text=text, details={"steps": _steps_recorded(steps)})
    if kind == TimelineKind.CONTAINMENT and incident.state in (IncidentState.REPORTED, IncidentState.TRIAGED):
        if incident.state == IncidentState.REPORTED:
            incident_state_set_locked(actor=actor, incident=incident, state=IncidentState.TRIAGED)
        incident_state_set_locked(actor=actor, incident=incident, state=IncidentState.CONTAINED)


def _containment_open(*, actor, incident, reason, **target) -> Containment:
    return Containment.objects.create(
        incident=incident, reason=reason, started_by=None if is_system_actor(actor) else actor,
        started_by_name=actor_name(actor), **target)


@transaction.atomic
def account_contain(*, actor, account: User, reason: str, incident: Incident | None = None,
                    deactivate_targets: bool = False) -> ContainmentResult:
    ensure_it_admin(actor, _("Only IT Center administrators may contain accounts."))
    reason = _reason_checked(reason)
    if getattr(actor, "pk", None) == account.pk:
        raise DomainError(_("You cannot contain your own account."), code="contain_self")
    incident = _incident_locked(incident)
    now = timezone.now()
    claimed = User.objects.filter(pk=account.pk, contained_at__isnull=True).update(
        contained_at=now, contained_reason=reason)
    if not claimed:
        return ContainmentResult(containment=_open_containment(account=account), already=True)
    account = User.objects.select_related("unit").get(pk=account.pk)
    containment = _containment_open(actor=actor, incident=incident, reason=reason, target=ContainmentTarget.ACCOUNT,
                                    account=account)
    steps: list[dict] = []
    _step(steps, "hold", StepOutcome.DONE, _("Sign-in refused while the containment holds"))
    _run_step(steps, "sessions", lambda: _sessions_end_each([account]))
    _run_step(steps, "password_change", lambda: _password_change_force([account.pk]))
    _step(steps, "lookups", StepOutcome.DONE, _("Lookups refused (reason “contained”)"))
    _targets_step(steps, deactivate_targets, accounts=[account], account=account, containment=containment)
    containment.steps, containment.accounts_count = steps, 1
    containment.save(update_fields=["steps", "accounts_count", "targets_deactivated"])
    audit_event_record(kind=EventKind.ACCOUNT_CONTAINED, actor=actor, target=account,
                       details={"reason": reason, "incident": incident.number if incident else "",
                                "steps": _steps_recorded(steps)})
    _incident_attach(actor=actor, incident=incident, steps=steps,
                     text=_("Account %(account)s contained: %(reason)s") % {"account": account.username,
                                                                           "reason": reason})
    return ContainmentResult(containment=containment, steps=steps)


def _subtree_accounts(unit: Unit) -> list[User]:
    return list(User.objects.filter(unit__path__startswith=unit.path, is_active=True).select_related("unit"))


def _api_clients_suspend(*, actor, unit: Unit, containment: Containment):
    now = timezone.now()
    clients = list(ApiClient.objects.select_for_update().filter(unit__path__startswith=unit.path, is_active=True))
    for client in clients:
        ApiClient.objects.filter(pk=client.pk).update(is_active=False, revoked_at=now)
        audit_event_record(kind=EventKind.API_CLIENT_SUSPENDED, actor=actor, unit=unit,
                           details={"client": client.name, "token_prefix": client.token_prefix})
    containment.api_clients_suspended = [client.pk for client in clients]
    return StepOutcome.DONE, ngettext("%(count)d lookup API client suspended", "%(count)d lookup API clients suspended",
                                      len(clients)) % {"count": len(clients)}


@transaction.atomic
def unit_contain(*, actor, unit: Unit, reason: str, incident: Incident | None = None,
                 suspend_api_clients: bool = False, deactivate_targets: bool = False) -> ContainmentResult:
    """The unit and every unit below it: every account now there, and every account created or moved
    there while the containment holds."""
    ensure_it_admin(actor, _("Only IT Center administrators may contain units."))
    reason = _reason_checked(reason)
    unit = Unit.objects.get(pk=unit.pk)
    if getattr(actor, "unit_id", None) is not None and actor.unit.path.startswith(unit.path):
        raise DomainError(_("You cannot contain the unit your own account belongs to."), code="contain_self")
    incident = _incident_locked(incident)
    claimed = Unit.objects.filter(pk=unit.pk, contained_at__isnull=True).update(
        contained_at=timezone.now(), contained_reason=reason)
    if not claimed:
        return ContainmentResult(containment=_open_containment(unit=unit), already=True)
    containment = _containment_open(actor=actor, incident=incident, reason=reason, target=ContainmentTarget.UNIT,
                                    unit=unit)
    accounts = _subtree_accounts(unit)
    steps: list[dict] = []
    _step(steps, "hold", StepOutcome.DONE, ngettext(
        "Sign-in refused for %(count)d account while the containment holds",
        "Sign-in refused for %(count)d accounts while the containment holds", len(accounts)) % {"count": len(accounts)})
    _run_step(steps, "sessions", lambda: _sessions_end_each(accounts))
    _run_step(steps, "password_change", lambda: _password_change_force([account.pk for account in accounts]))
    _step(steps, "lookups", StepOutcome.DONE, _("Lookups refused (reason “contained”)"))
    _targets_step(steps, deactivate_targets, accounts=accounts, unit=unit, containment=containment)
    if suspend_api_clients:
        _run_step(steps, "api_clients", lambda: _api_clients_suspend(actor=actor, unit=unit, containment=containment))
    else:
        _step(steps, "api_clients", StepOutcome.SKIPPED, _("The unit's lookup API clients keep working (not chosen)"))
    containment.steps, containment.accounts_count = steps, len(accounts)
    containment.save(update_fields=["steps", "accounts_count", "api_clients_suspended", "targets_deactivated"])
    audit_event_record(kind=EventKind.UNIT_CONTAINED, actor=actor, unit=unit,
                       details={"reason": reason, "incident": incident.number if incident else "",
                                "accounts_contained": len(accounts), "steps": _steps_recorded(steps)})
    _incident_attach(actor=actor, incident=incident, steps=steps,
                     text=_("Unit %(unit)s and the units below it contained: %(reason)s") % {"unit": unit.name,
                                                                                            "reason": reason})
    return ContainmentResult(containment=containment, steps=steps)


def _open_containment(*, account: User | None = None, unit: Unit | None = None) -> Containment | None:
    if account is not None:
        return Containment.objects.filter(account=account, lifted_at__isnull=True).first()
    return Containment.objects.filter(unit=unit, lifted_at__isnull=True).first()


def _still_must_change(account_ids: list[int]):
    count = User.objects.filter(pk__in=account_ids, is_active=True).exclude(
        password_change_reason=PasswordChangeReason.NONE).count()
    return StepOutcome.DONE, ngettext(
        "%(count)d account must still change its password; its lookups come back after the change",
        "%(count)d accounts must still change their password; their lookups come back after the change",
        count) % {"count": count}


def _targets_reactivate(account_ids: list[int]):
    """Undo the containment's deactivation in the connected systems: each released account that no other
    containment still deactivates is pushed again (the push sends it as it is now: reactivated)."""
    reactivated = held = 0
    for released in User.objects.filter(pk__in=account_ids).select_related("unit"):
        if account_deactivated_by_containment(released):
            held += 1
            continue
        account_changed(account=released, reason="containment_lifted")
        reactivated += 1
    detail = ngettext("%(count)d account reactivated in the connected systems that keep their own accounts",
                      "%(count)d accounts reactivated in the connected systems that keep their own accounts",
                      reactivated) % {"count": reactivated}
    if held:
        detail += "; " + ngettext("%(count)d stays deactivated: another containment holds it",
                                  "%(count)d stay deactivated: another containment holds them", held) % {"count": held}
    return StepOutcome.DONE, detail


def _api_clients_resume(*, actor, containment: Containment):
    resumed = 0
    for client in ApiClient.objects.select_for_update().filter(pk__in=containment.api_clients_suspended,
                                                               is_active=False):
        ApiClient.objects.filter(pk=client.pk).update(is_active=True, revoked_at=None)
        audit_event_record(kind=EventKind.API_CLIENT_RESUMED, actor=actor, unit=containment.unit,
                           details={"client": client.name, "token_prefix": client.token_prefix})
        resumed += 1
    return StepOutcome.DONE, ngettext("%(count)d lookup API client resumed", "%(count)d lookup API clients resumed",
                                      resumed) % {"count": resumed}


@transaction.atomic
def containment_lift(*, actor, reason: str, account: User | None = None, unit: Unit | None = None,
                     resume_api_clients: bool = False) -> ContainmentResult:
    """Lift the containment of an account or a unit. The forced password change stays: lookups come
    back once the officer has chosen a new password."""
    ensure_it_admin(actor, _("Only IT Center administrators may lift a containment."))
    reason = plain_text_or_refuse(reason, field="reason", max_length=TEXT_MAX_LENGTH)
    if not reason:
        raise PolicyViolation(_("Give the reason for lifting the containment."), field="reason",
                              code="reason_missing")
    if (account is None) == (unit is None):
        raise TypeError("Lift the containment of an account or of a unit.")
    now = timezone.now()
    if account is not None:
        if not User.objects.filter(pk=account.pk, contained_at__isnull=False).update(
                contained_at=None, contained_reason="", contained_targets_deactivated=False):
            raise DomainError(_("This account is not contained itself (a containment of its unit may hold it)."),
                              code="not_contained")
        account_ids = [account.pk]
    else:
        if not Unit.objects.filter(pk=unit.pk, contained_at__isnull=False).update(
                contained_at=None, contained_reason="", contained_targets_deactivated=False):
            raise DomainError(_("This unit is not contained itself (a containment of a unit above may hold it)."),
                              code="not_contained")
        account_ids = [a.pk for a in _subtree_accounts(unit)]
    containment = Containment.objects.select_for_update().filter(
        account=account, unit=unit, lifted_at__isnull=True).first()
    steps: list[dict] = []
    _step(steps, "release", StepOutcome.DONE, _("Containment lifted"))
    _run_step(steps, "password_change", lambda: _still_must_change(account_ids))
    if containment is not None and containment.targets_deactivated:
        _run_step(steps, "targets", lambda: _targets_reactivate(account_ids))
    elif containment is not None:
        _step(steps, "targets", StepOutcome.SKIPPED,
              _("Nothing to undo in the connected systems that keep their own accounts (not deactivated)"))
    if containment is not None and containment.api_clients_suspended:
        if resume_api_clients:
            _run_step(steps, "api_clients", lambda: _api_clients_resume(actor=actor, containment=containment))
        else:
            _step(steps, "api_clients", StepOutcome.SKIPPED,
                  _("The suspended lookup API clients stay suspended (not chosen)"))
    incident = None
    if containment is not None:
        containment.lifted_at, containment.lift_reason, containment.lift_steps = now, reason, steps
        containment.lifted_by = None if is_system_actor(actor) else actor
        containment.lifted_by_name = actor_name(actor)
        containment.save(update_fields=["lifted_at", "lift_reason", "lift_steps", "lifted_by", "lifted_by_name"])
        incident = containment.incident
    target_name = account.username if account is not None else unit.name
    audit_event_record(kind=EventKind.CONTAINMENT_LIFTED, actor=actor, target=account,
                       unit=unit if unit is not None else None,
                       details={"reason": reason, "incident": incident.number if incident else "",
                                "steps": _steps_recorded(steps)})
    if incident is not None and incident.state != IncidentState.CLOSED:
        _incident_attach(actor=actor, incident=incident, steps=steps, kind=TimelineKind.LIFT,
                         text=_("Containment of %(target)s lifted: %(reason)s") % {"target": target_name,
                                                                                   "reason": reason})
    return ContainmentResult(containment=containment, steps=steps)
