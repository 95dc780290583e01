"""Reconciliation of a SCIM target (on demand from its page or `reconcile_system`, nightly from beat):
read every user the target holds (paged), compare with the portal, keep the report, and — as one
separate step — turn its findings into corrective pushes through the delivery ledger.

- orphan: active there, but disabled here, or unknown here (no portal account with that userName);
- drift: active on both sides, but the name, the role (through the target's mapping) or the unit
  (`department`, the agency code) differ;
- missing: an account that should be active there (the target's subtree, active, not contained) and
  that the target does not hold, or holds deactivated.

A target user matched by userName to a portal account the portal has no id for is adopted (its id
kept), so that the corrective push addresses it instead of creating a second one."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from scim2_client import SCIMClientException
from scim2_models import EnterpriseUser

from accounts.models import User
from accounts.permissions import ensure_it_admin, ensure_right, is_system_actor
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.actors import Right
from portal.errors import PolicyViolation

from .choices import SystemKind
from .models import ConnectedSystem, Reconciliation, ScimAccount
from .propagation import account_changed
from .scim import scim_client, scim_users_read, should_be_active

ORPHAN, DRIFT, MISSING = "orphan", "drift", "missing"
PAGE_SIZE = 100


def _actor_name(actor) -> str:
    return f"system:{actor.username}" if is_system_actor(actor) else actor.username


def _department(resource) -> str:
    extension = resource[EnterpriseUser]
    return (extension.department or "") if extension is not None else ""


def _differences(system, account, resource) -> dict:
    mapping = system.role_mapping or {}
    there = {"full_name": resource.display_name or (resource.name.formatted if resource.name else "") or "",
             "role": resource.roles[0].value if resource.roles else "",
             "unit": _department(resource)}
    here = {"full_name": account.full_name, "role": mapping.get(account.role, account.role), "unit": account.unit.code}
    return {name: [there[name], here[name]] for name in there if there[name] != here[name]}


def system_reconcile(*, actor, system: ConnectedSystem, page_size: int = PAGE_SIZE) -> Reconciliation:
    """Read the target and keep a report. A target that cannot be read gives a report with `error`."""
    ensure_right(actor, Right.SYSTEMS_RECONCILE, _("Only IT Center administrators may reconcile a connected system."))
    if system.kind != SystemKind.SCIM:
        raise PolicyViolation(_("Only a SCIM target can be reconciled."), code="not_scim")
    started = timezone.now()
    resources, error = [], ""
    try:
        client = scim_client(system)
        with client.client:
            resources = list(scim_users_read(client, page_size=page_size))
    except SCIMClientException as failure:
        notes = "; ".join(getattr(failure, "__notes__", []) or [])
        error = f"{type(failure).__name__}: {notes or failure}"[:300]
    return _report_record(actor=actor, system=system, started=started, resources=resources, error=error)


@transaction.atomic
def _report_record(*, actor, system, started, resources, error) -> Reconciliation:
    findings = []
    links = {link.external_id: link for link in ScimAccount.objects.filter(system=system).select_related("account")}
    usernames = [resource.user_name for resource in resources if resource.user_name]
    by_username = {account.username: account for account in
                   User.objects.filter(username__in=usernames).select_related("unit")}
    seen_accounts = set()
    now = timezone.now()
    for resource in ([] if error else resources):
        link = links.get(resource.id)
        account = link.account if link else by_username.get(resource.user_name)
        if account is not None and link is None:
            # Known here by its userName only: adopt the target's id (the corrective push then updates it).
            link, _created = ScimAccount.objects.get_or_create(
                system=system, account=account,
                defaults={"external_id": resource.id, "active": bool(resource.active), "created_at": now,
                          "pushed_at": now})
        entry = {"username": resource.user_name or "", "external_id": resource.id or "",
                 "account_id": account.pk if account else None, "fields": {}}
        if account is not None:
            seen_accounts.add(account.pk)
        wanted = account is not None and should_be_active(system, account)
        if resource.active is not False and not wanted:
            findings.append({**entry, "kind": ORPHAN})
        elif wanted and resource.active is False:
            findings.append({**entry, "kind": MISSING})
        elif wanted:
            differences = _differences(system, account, resource)
            if differences:
                findings.append({**entry, "kind": DRIFT, "fields": differences})
    if not error:
        for account in User.objects.filter(unit__path__startswith=system.unit.path, is_active=True).exclude(
                pk__in=seen_accounts).select_related("unit").order_by("username"):
            if should_be_active(system, account):
                findings.append({"kind": MISSING, "username": account.username, "external_id": "",
                                 "account_id": account.pk, "fields": {}})
    counts = {kind: sum(1 for finding in findings if finding["kind"] == kind) for kind in (ORPHAN, DRIFT, MISSING)}
    report = Reconciliation.objects.create(
        system=system, started_at=started, finished_at=timezone.now(), started_by_name=_actor_name(actor),
        users_read=len(resources), orphans=counts[ORPHAN], drifts=counts[DRIFT], missing=counts[MISSING],
        findings=findings, error=error)
    audit_event_record(kind=EventKind.SYSTEM_RECONCILED, actor=actor, unit=system.unit,
                       details={"system": system.name, "report": report.pk, "users_read": len(resources),
                                "orphans": counts[ORPHAN], "drifts": counts[DRIFT], "missing": counts[MISSING],
                                "error": error})
    return report


@transaction.atomic
def reconciliation_correct(*, actor, report: Reconciliation) -> int:
    """Queue a corrective push for each finding about a portal account (deactivate an orphan, update a
    drift, create or reactivate a missing one). An orphan unknown here stays in the report: no account
    here names it (a turnover request or the system's own administrator deals with it). Once only."""
    ensure_it_admin(actor, _("Only IT Center administrators may correct a connected system."))
    report = Reconciliation.objects.select_for_update().select_related("system", "system__unit").get(pk=report.pk)
    if report.corrected_at is not None:
        raise PolicyViolation(_("The findings of this reconciliation were already turned into pushes."),
                              code="already_corrected")
    queued = 0
    ids = sorted({finding["account_id"] for finding in report.findings if finding.get("account_id")})
    for account in User.objects.filter(pk__in=ids).select_related("unit"):
        queued += account_changed(account=account, reason="reconciliation", only_system=report.system)
    report.corrected_at, report.corrections_queued = timezone.now(), queued
    report.save(update_fields=["corrected_at", "corrections_queued"])
    audit_event_record(kind=EventKind.SYSTEM_CHANGED, actor=actor, unit=report.system.unit,
                       details={"system": report.system.name, "report": report.pk, "corrections_queued": queued})
    return queued
