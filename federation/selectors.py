"""What the connected systems show: the registry (IT admins and inspectors), an account's sign-outs
("đã đăng xuất khỏi N/M hệ thống"), failing deliveries, and what the IT Center's alert pass reads."""
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import Unit, User
from accounts.permissions import unit_paths_contained

from .choices import AccessEndReason, DeliveryKind, DeliveryState, SystemKind
from .models import ConnectedSystem, Delivery, ManualTask, Reconciliation, ScimAccount


def registry_readable_by(user) -> bool:
    return getattr(user, "role", None) in (Role.IT_ADMIN, Role.INSPECTOR)


def systems_visible_to(user):
    """The registry is the IT Center's (inspectors read it); nobody else lists it."""
    if not registry_readable_by(user):
        return ConnectedSystem.objects.none()
    return ConnectedSystem.objects.select_related("unit", "application").annotate(
        failing=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
        pending=Count("deliveries", filter=Q(deliveries__state__in=[DeliveryState.READY, DeliveryState.SENDING])),
    ).order_by("name")


def system_deliveries_failing(system, limit=50) -> list[Delivery]:
    return list(system.deliveries.filter(
        Q(state=DeliveryState.FAILED) | Q(state__in=[DeliveryState.READY, DeliveryState.SENDING], attempts__gt=0))
        .select_related("account").order_by("-created_at")[:limit])


@dataclass
class AccountSignOuts:
    """The latest access end of an account in the connected systems: N of M systems confirmed."""

    delivered: int = 0
    total: int = 0
    deliveries: list = field(default_factory=list)


def account_sign_outs(account) -> AccountSignOuts:
    """The deliveries of the account's latest access end (the batch queued with the newest one), and
    how many distinct systems confirmed all of theirs."""
    newest = Delivery.objects.filter(account_id=account.pk, kind=DeliveryKind.BACKCHANNEL_LOGOUT).order_by(
        "-created_at").values_list("created_at", flat=True).first()
    if newest is None:
        return AccountSignOuts()
    batch = list(Delivery.objects.filter(account_id=account.pk, kind=DeliveryKind.BACKCHANNEL_LOGOUT,
                                         created_at=newest).select_related("system").order_by("system__name", "pk"))
    systems = {}
    for row in batch:
        systems.setdefault(row.system_id, []).append(row.state == DeliveryState.DELIVERED)
    return AccountSignOuts(delivered=sum(1 for states in systems.values() if all(states)), total=len(systems),
                           deliveries=batch)


def deliveries_to_alert(limit=200) -> list[Delivery]:
    """Deliveries that failed for good and were not alerted yet (notifications' alert pass)."""
    return list(Delivery.objects.filter(state=DeliveryState.FAILED, alerted_at=None)
                .select_related("system", "account").order_by("pk")[:limit])


def systems_quarantined_to_alert() -> list[ConnectedSystem]:
    """Targets quarantined and not alerted yet (notifications' alert pass: the IT Center told once)."""
    return list(ConnectedSystem.objects.filter(quarantined_at__isnull=False, quarantine_alerted_at=None)
                .select_related("unit").order_by("pk"))


def reconciliations_of(system, limit=20):
    return list(Reconciliation.objects.filter(system=system).order_by("-started_at")[:limit])


def reconciliation_visible_to(user, pk):
    """A kept reconciliation report, for the registry's readers only (None otherwise: a 404)."""
    if not registry_readable_by(user):
        return None
    return Reconciliation.objects.select_related("system", "system__unit").filter(pk=pk).first()


RECONCILIATION_CSV_HEADER = ("finding", "username", "target_id", "portal_account_id", "field", "on_target", "in_portal")


def reconciliation_rows(report) -> list[tuple]:
    """One row per finding (a drift: one row per field that differs), for the CSV export."""
    rows = []
    for finding in report.findings:
        differences = finding.get("fields") or {}
        if not differences:
            rows.append((finding["kind"], finding["username"], finding["external_id"], finding["account_id"], "", "", ""))
        for name, (there, here) in differences.items():
            rows.append((finding["kind"], finding["username"], finding["external_id"], finding["account_id"], name,
                         there, here))
    return rows


def manual_tasks_visible_to(user, *, open_only=True):
    """Manual targets' tasks: the IT Center's work list (inspectors read it), the oldest due first."""
    if not registry_readable_by(user):
        return ManualTask.objects.none()
    tasks = ManualTask.objects.select_related("system", "account", "account__unit")
    return tasks.filter(done_at=None).order_by("due_at", "pk") if open_only else tasks.order_by("-done_at")


# ----- coverage on the dashboards (per unit, its subtree) ----------------------------------------------

@dataclass
class UnitCoverage:
    """A unit's subtree in the systems that keep their own accounts: of the account × system pairs that
    should exist (an active, uncontained account in a SCIM or manual target's subtree), how many the
    target holds active; the orphans the targets' latest reconciliations found; deliveries failing."""

    unit_id: int
    unit_name: str
    expected: int = 0
    present: int = 0
    orphans: int = 0
    failing: int = 0

    @property
    def missing(self) -> int:
        return self.expected - self.present


FAILING_DELIVERY = Q(state=DeliveryState.FAILED) | Q(state__in=[DeliveryState.READY, DeliveryState.SENDING],
                                                       attempts__gt=0)


def systems_coverage(unit_ids) -> list[UnitCoverage]:
    """Coverage of each unit's subtree (the caller passes units it may read: the dashboard's unit and
    the units below it it sees). A fixed number of queries, whatever the number of units or accounts."""
    units = list(Unit.objects.filter(pk__in=list(unit_ids)).only("pk", "name", "path").order_by("path"))
    if not units:
        return []
    rows = {unit.pk: UnitCoverage(unit.pk, unit.name) for unit in units}

    def holders(path: str) -> list[UnitCoverage]:
        return [rows[unit.pk] for unit in units if path.startswith(unit.path)]

    in_units = reduce(or_, (Q(unit__path__startswith=unit.path) for unit in units))
    targets = list(ConnectedSystem.objects.filter(kind__in=[SystemKind.SCIM, SystemKind.MANUAL], is_active=True)
                   .select_related("unit").only("pk", "kind", "unit__path"))
    active = User.objects.filter(in_units, is_active=True, contained_at=None)
    accounts = list(active.values_list("pk", "unit__path"))
    contained = unit_paths_contained()
    accounts = [(pk, path) for pk, path in accounts if not any(path.startswith(root) for root in contained)]
    present = set(ScimAccount.objects.filter(active=True, system__in=[t for t in targets if t.kind == SystemKind.SCIM],
                                             account__in=active.values("pk"))
                  .values_list("system_id", "account_id"))
    # A manual target holds the account when the last task done for it was not a deactivation.
    last_done = {}
    for system_id, account_id, action in ManualTask.objects.filter(
            system__in=[t for t in targets if t.kind == SystemKind.MANUAL], done_at__isnull=False,
            account__in=active.values("pk")).order_by("done_at", "pk").values_list(
            "system_id", "account_id", "action"):
        last_done[(system_id, account_id)] = action
    present |= {pair for pair, action in last_done.items() if action != ManualTask.Action.DEACTIVATE}
    for pk, path in accounts:
        for target in targets:
            if path.startswith(target.unit.path):
                for row in holders(path):
                    row.expected += 1
                    row.present += (target.pk, pk) in present
    _orphans_count(targets, holders)
    failing = (Delivery.objects.filter(FAILING_DELIVERY).filter(reduce(or_, (
        Q(account__unit__path__startswith=unit.path) for unit in units)))
        .values_list("account__unit__path").annotate(n=Count("pk")).order_by())
    for path, count in failing:
        for row in holders(path):
            row.failing += count
    return [rows[unit.pk] for unit in units]


def _orphans_count(targets, holders) -> None:
    """The orphans of each SCIM target's latest finished reconciliation, counted in the unit of the
    portal account (disabled here) or, when the target's user is unknown here, in the target's unit."""
    scim = {target.pk: target for target in targets if target.kind == SystemKind.SCIM}
    latest = (Reconciliation.objects.filter(system__in=list(scim), finished_at__isnull=False)
              .order_by("system_id", "-started_at").distinct("system_id").only("system_id", "findings"))
    orphans = [(report.system_id, finding.get("account_id")) for report in latest
               for finding in report.findings if finding.get("kind") == "orphan"]
    known = dict(User.objects.filter(pk__in=[pk for _system, pk in orphans if pk]).values_list("pk", "unit__path"))
    for system_id, account_id in orphans:
        for row in holders(known.get(account_id) or scim[system_id].unit.path):
            row.orphans += 1


def systems_in_quarantine():
    """The targets quarantined now (their pushes retried once a day), for the IT Center's home."""
    return list(ConnectedSystem.objects.filter(quarantined_at__isnull=False, is_active=True).select_related("unit")
                .annotate(waiting=Count("deliveries", filter=Q(deliveries__state__in=[DeliveryState.READY,
                                                                                     DeliveryState.SENDING])))
                .order_by("quarantined_at", "name"))


def systems_stopped_to_alert() -> list[ConnectedSystem]:
    """Targets whose deliveries were stopped after four weeks in quarantine, not alerted yet (the
    alert pass: the IT Center told once)."""
    return list(ConnectedSystem.objects.filter(deliveries_stopped_at__isnull=False, deliveries_stopped_alerted_at=None)
                .select_related("unit").order_by("pk"))


@dataclass
class SystemProvisioning:
    """One connected system as an account's page shows it: the SCIM pushes of the account (newest
    first), the id the target gave it and whether it is active there, or the manual tasks."""

    system: ConnectedSystem
    link: ScimAccount | None = None
    pushes: list = field(default_factory=list)
    tasks: list = field(default_factory=list)


ACCOUNT_PUSHES_SHOWN = 5
# Why a push was queued (the reason its caller gave), as the account page names it.
PUSH_REASONS = {
    "created": _("Account created"), "updated": _("Account changed"), "enabled": _("Account enabled"),
    AccessEndReason.ACCOUNT_DISABLED: _("Account disabled or contained"), "containment_lifted": _("Containment lifted"),
    "provisioning": _("First load of the system"), "reconciliation": _("Correction after a reconciliation"),
    "role_mapping": _("Role mapping changed"),
}
ACCOUNT_TASKS_SHOWN = 10


def account_provisioning(account) -> list[SystemProvisioning]:
    """Per SCIM or manual target that received (or owes) something for the account: its latest pushes
    and its manual tasks, in three queries whatever the number of systems. The caller has already
    checked that the reader sees the account (accounts.scope)."""
    systems: dict[int, SystemProvisioning] = {}

    def entry(system):
        return systems.setdefault(system.pk, SystemProvisioning(system=system))

    newest_first = [F("created_at").desc(), F("pk").desc()]
    pushes = (Delivery.objects.filter(account_id=account.pk, kind=DeliveryKind.SCIM_PUSH)
              .annotate(rank=Window(RowNumber(), partition_by=[F("system_id")], order_by=newest_first))
              .filter(rank__lte=ACCOUNT_PUSHES_SHOWN).select_related("system").order_by("-created_at", "-pk"))
    for push in pushes:
        push.reason_label = PUSH_REASONS.get(push.reason, push.reason)
        entry(push.system).pushes.append(push)
    for link in ScimAccount.objects.filter(account_id=account.pk).select_related("system"):
        entry(link.system).link = link
    tasks = (ManualTask.objects.filter(account_id=account.pk)
             .annotate(rank=Window(RowNumber(), partition_by=[F("system_id")], order_by=newest_first))
             .filter(rank__lte=ACCOUNT_TASKS_SHOWN).select_related("system").order_by("-created_at", "-pk"))
    for task in tasks:
        entry(task.system).tasks.append(task)
    return sorted(systems.values(), key=lambda item: item.system.name)
