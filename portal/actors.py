"""Named system actors (STYLE.md): the actor of a service is never None. A person is a User; a job or
the server's command line is a SystemActor, recorded as such in the audit event, and the permission
helpers decide for both in one place (accounts.permissions)."""
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

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
    "anonymous": _("Not signed in"),
    "system": _("The portal"),
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
