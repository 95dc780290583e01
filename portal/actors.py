"""Named system actors (docs/conventions.md): the actor of a service is never None. A person is a User; a job or
the server's command line is a SystemActor, recorded as such in the audit event, and the permission
helpers decide for both in one place (accounts.permissions)."""
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Right(StrEnum):
    """What an actor may do, checked by accounts.permissions for people and system actors alike. A
    person holds the rights of their role (an active IT admin holds them all); a system actor holds
    exactly those named for it in SYSTEM_ACTOR_RIGHTS below, and nothing else."""

    # The IT Center's whole authority: accounts, units, policy, lookup clients and quotas, turnover
    # decisions, holidays, resending notices. Implies every right below.
    ADMINISTER = "administer"
    # Carry out a decision already taken on accounts: create, change, disable (jobs that execute it).
    ACCOUNTS_CHANGE = "accounts_change"
    DORMANT_ACCOUNTS_DISABLE = "dormant_accounts_disable"
    TURNOVER_EXECUTE = "turnover_execute"
    RECERTIFICATION_RUN = "recertification_run"
    REMINDERS_SEND = "reminders_send"
    LOG_SEAL = "log_seal"
    LOOKUPS_DECIDE = "lookups_decide"
    COMPLIANCE_REPORT = "compliance_report"
    ANOMALIES_PROCESS = "anomalies_process"
    ANOMALY_ALERTS_SEND = "anomaly_alerts_send"
    SYSTEMS_RECONCILE = "systems_reconcile"
    TURNOVER_COMPLETE = "turnover_complete"
    SYSTEMS_QUARANTINE_EXPIRE = "systems_quarantine_expire"


# What each system actor is called where people read it (audit log, handover records).
SYSTEM_ACTOR_LABELS = {
    "command_line": _("Operator at the server's command line"),
    "seed_demo": _("Demo data set-up"),
    "dormant_job": _("Dormant-account job"),
    "turnover_job": _("Turnover effective-date job"),
    "reminder_job": _("Reminder job"),
    "recertification_job": _("Recertification job"),
    "seal_job": _("Log sealing job"),
    "lookup_api": _("Lookup API"),
    "compliance_job": _("Compliance job"),
    "anomaly_job": _("Lookup anomaly job"),
    "alert_job": _("IT Center alert job"),
    "federation_job": _("Connected-systems delivery job"),
    "reconcile_job": _("Connected-systems reconciliation job"),
    "turnover_completion_job": _("Turnover completion job"),
    "quarantine_job": _("Connected-systems quarantine job"),
    "anonymous": _("Not signed in"),
    "system": _("The portal"),
}

# The rights of each system actor: what its job needs, nothing more. The operator at the server's
# shell and the demo set-up act with the IT Center's authority (whoever runs them already holds the
# database credentials); "anonymous" (the person at the login form) and "system" (a session that ran
# out) may do nothing but be recorded. A system actor missing here holds no right at all.
SYSTEM_ACTOR_RIGHTS = {
    "command_line": frozenset({Right.ADMINISTER}),
    "seed_demo": frozenset({Right.ADMINISTER}),
    "dormant_job": frozenset({Right.DORMANT_ACCOUNTS_DISABLE}),
    "turnover_job": frozenset({Right.TURNOVER_EXECUTE, Right.ACCOUNTS_CHANGE}),
    "reminder_job": frozenset({Right.REMINDERS_SEND}),
    "recertification_job": frozenset({Right.RECERTIFICATION_RUN, Right.ACCOUNTS_CHANGE}),
    "seal_job": frozenset({Right.LOG_SEAL}),
    "lookup_api": frozenset({Right.LOOKUPS_DECIDE}),
    "compliance_job": frozenset({Right.COMPLIANCE_REPORT}),
    "anomaly_job": frozenset({Right.ANOMALIES_PROCESS}),
    "alert_job": frozenset({Right.ANOMALY_ALERTS_SEND}),
    "reconcile_job": frozenset({Right.SYSTEMS_RECONCILE}),
    # Marks what the connected systems confirmed and completes the turnover requests they all confirmed.
    "turnover_completion_job": frozenset({Right.TURNOVER_COMPLETE}),
    # Stops the deliveries of a SCIM target quarantined for four weeks (Entra's rule); nothing else.
    "quarantine_job": frozenset({Right.SYSTEMS_QUARANTINE_EXPIRE}),
    # Delivers what a change of access owes the connected systems (federation.propagation): it records
    # events and sends, and decides nothing that needs a right.
    "federation_job": frozenset(),
    "anonymous": frozenset(),
    "system": frozenset(),
}


@dataclass(frozen=True)
class SystemActor:
    name: str

    # The attributes services read of an actor, answered for a system actor.
    pk = None
    is_active = True
    is_authenticated = False
    is_system = True
    role = "system"
    unit = None
    unit_id = None

    def __post_init__(self):
        if self.name not in SYSTEM_ACTOR_LABELS:
            raise ValueError(f"Unknown system actor {self.name!r}: add it to SYSTEM_ACTOR_LABELS.")

    @property
    def rights(self) -> frozenset:
        return SYSTEM_ACTOR_RIGHTS.get(self.name, frozenset())

    @property
    def username(self) -> str:
        return f"system:{self.name}"

    @property
    def full_name(self) -> str:
        return str(SYSTEM_ACTOR_LABELS[self.name])

    @property
    def label(self):
        return SYSTEM_ACTOR_LABELS[self.name]

    def __str__(self):
        return self.full_name


COMMAND_LINE = SystemActor("command_line")
SEED_DEMO = SystemActor("seed_demo")


def system_actor_label(recorded_username: str):
    """The readable name of a system actor recorded as "system:<name>", or None for a person."""
    if recorded_username.startswith("system:"):
        return SYSTEM_ACTOR_LABELS.get(recorded_username.removeprefix("system:"))
    return None
