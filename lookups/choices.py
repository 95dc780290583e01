from django.db import models
from django.utils.translation import gettext_lazy as _


class QuotaWindow(models.TextChoices):
    """The four windows every lookup is counted in (docs/architecture.md: per officer and per unit, per minute and
    per day). The values are the names the API and the RateLimit headers use."""

    OFFICER_MINUTE = "officer_minute", _("Lookups per officer per minute")
    OFFICER_DAY = "officer_day", _("Lookups per officer per day")
    UNIT_MINUTE = "unit_minute", _("Lookups per unit per minute")
    UNIT_DAY = "unit_day", _("Lookups per unit per day")


class QuotaBackend(models.TextChoices):
    REDIS = "redis", _("Redis")
    DATABASE = "database", _("Database")


class Decision(models.TextChoices):
    ALLOW = "allow", _("Allowed")
    REFUSE = "refuse", _("Refused")


class AnomalyKind(models.TextChoices):
    """What the anomaly rules flag on an allowed lookup (lookups/anomalies.py). The values are stable codes
    (alerts and audit events name them)."""

    OUTSIDE_OFFICE_HOURS = "outside_office_hours", _("Outside office hours")
    NEAR_QUOTA = "near_quota", _("Burst near the quota")
    DOSSIER_MANY_CITIZENS = "dossier_many_citizens", _("Many different citizens for one dossier")
    CITIZEN_OTHER_PROVINCE = "citizen_other_province", _("Citizen born in another province, looked up by a commune")
    CITIZEN_MANY_OFFICERS = "citizen_many_officers", _("Same citizen looked up by many officers")
    DISABLE_REQUESTED = "disable_requested", _("Account used after its disabling was requested")
    QUOTA_SHADOW_EXCEEDED = "quota_shadow_exceeded", _("Past a quota in shadow mode (allowed, counted)")


class RegistryFailureKind(models.TextChoices):
    """Why the population registry gave no answer to an allowed lookup (lookups/registry.py)."""

    TIMEOUT = "timeout", _("The registry did not answer in time")
    UNREACHABLE = "unreachable", _("The registry could not be reached")
    SERVER_ERROR = "server_error", _("The registry answered with an error")
    REFUSED = "refused", _("The registry refused the portal's request")
    NOT_FOUND = "not_found", _("The registry has no citizen with this number")
    BAD_ANSWER = "bad_answer", _("The registry's answer could not be read")
