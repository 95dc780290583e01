from django.db import models
from django.utils.translation import gettext_lazy as _


class AcknowledgementMethod(models.TextChoices):
    PORTAL = "portal", _("In the portal, by the officer")
    ON_BEHALF = "on_behalf", _("Recorded by the leader on behalf of the officer")


class AcknowledgementState(models.TextChoices):
    """An audience member's state for a directive (derived, never stored): ServiceNow's policy
    acknowledgement campaigns count the same four."""

    ACCEPTED = "accepted", _("Acknowledged")
    PENDING = "pending", _("Pending")
    OVERDUE = "overdue", _("Overdue")
    EXEMPT = "exempt", _("Exempt")


class UpdateState(models.TextChoices):
    UP_TO_DATE = "up_to_date", _("Up to date")
    OUTDATED = "outdated", _("Updates missing")
    UNKNOWN = "unknown", _("Unknown")


class EndpointSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    CSV = "csv", _("CSV import")
    XLSX = "xlsx", _("Excel import")
    GLPI = "glpi", _("GLPI export")


class LetterPoint(models.IntegerChoices):
    """The five points of the Đồng Nai letter (docs/mandate.md)."""

    POINT_1 = 1, _("Point 1 — directives disseminated and acknowledged")
    POINT_2 = 2, _("Point 2 — confidentiality; accounts follow staff changes")
    POINT_3 = 3, _("Point 3 — passwords")
    POINT_4 = 4, _("Point 4 — anti-malware and sharing with the monitoring centre")
    POINT_5 = 5, _("Point 5 — monitoring, inspection, lookup limits")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class FixState(models.TextChoices):
    OPEN = "open", _("Not fixed yet")
    ANSWERED = "answered", _("Answered by the unit")
    CLOSED = "closed", _("Closed by the inspector")
