from django.db import models
from django.utils.translation import gettext_lazy as _


class QuotaWindow(models.TextChoices):
    """The four windows every lookup is counted in (DESIGN.md: per officer and per unit, per minute and
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
