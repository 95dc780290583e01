from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentCategory(models.TextChoices):
    PASSWORD_LEAK = "password_leak", _("Password leak")
    MALWARE = "malware", _("Malware")
    CITIZEN_DATA_MISUSE = "citizen_data_misuse", _("Misuse of citizen data")
    PERSONAL_DATA_BREACH = "personal_data_breach", _("Personal-data breach")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class IncidentState(models.TextChoices):
    """reported → triaged → contained → resolved → closed (a triaged incident that needs no containment
    goes straight to resolved)."""

    REPORTED = "reported", _("Reported")
    TRIAGED = "triaged", _("Triaged")
    CONTAINED = "contained", _("Contained")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# The stages an incident may move to from each stage (incidents.services.incidents.incident_state_change).
NEXT_STATES = {
    IncidentState.REPORTED: (IncidentState.TRIAGED,),
    IncidentState.TRIAGED: (IncidentState.CONTAINED, IncidentState.RESOLVED),
    IncidentState.CONTAINED: (IncidentState.RESOLVED,),
    IncidentState.RESOLVED: (IncidentState.CLOSED,),
    IncidentState.CLOSED: (),
}


class TimelineKind(models.TextChoices):
    REPORTED = "reported", _("Reported")
    NOTE = "note", _("Note")
    STATE = "state", _("Stage changed")
    UPDATED = "updated", _("Record changed")
    EVIDENCE = "evidence", _("Evidence added")
    CONTAINMENT = "containment", _("Containment")
    LIFT = "lift", _("Containment lifted")
    DEADLINE = "deadline", _("Deadline met")


class ContainmentTarget(models.TextChoices):
    ACCOUNT = "account", _("Account")
    UNIT = "unit", _("Unit and the units below it")


class StepOutcome(models.TextChoices):
    DONE = "done", _("Step done")
    SKIPPED = "skipped", _("Not chosen")
    FAILED = "failed", _("Step failed")


class RuleApplies(models.TextChoices):
    ALL = "all", _("Every incident")
    PERSONAL_DATA = "personal_data", _("Incidents involving personal data")


class RuleStartsFrom(models.TextChoices):
    DISCOVERED = "discovered", _("Discovery of the incident")
    RESPONSE_ENDED = "response_ended", _("End of the response (resolved)")
    CLOSED = "closed", _("Closing of the record")


class PeriodUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")
    YEARS = "years", _("years")


class RuleKind(models.TextChoices):
    DEADLINE = "deadline", _("Deadline to act (reminded, escalated)")
    RETENTION = "retention", _("Keep the record at least until")


class EvidenceType(models.TextChoices):
    PDF = "pdf", "PDF"
    PNG = "png", "PNG"
    JPEG = "jpeg", "JPEG"


class ContainmentStep(models.TextChoices):
    """The steps of a containment and of its lifting, in order (shown with each step's result)."""

    HOLD = "hold", _("Hold sign-in")
    SESSIONS = "sessions", _("End every session")
    PASSWORD_CHANGE = "password_change", _("Password change at the next sign-in")
    LOOKUPS = "lookups", _("Refuse lookups")
    TARGETS = "targets", _("Accounts in the connected systems")
    API_CLIENTS = "api_clients", _("Lookup API clients")
    RELEASE = "release", _("Allow sign-in again")
