"""The quota tables (lookups/quotas.py explains how they work together with Redis)."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role

from .choices import QuotaBackend, QuotaWindow


class QuotaOverride(models.Model):
    """A limit that replaces the policy's for one window: for one unit, one role, or a role in one unit.
    Resolved most specific first (unit and role, unit, role, then the policy). Unit windows are the
    unit's whole allowance, so they take no role."""

    unit = models.ForeignKey("accounts.Unit", verbose_name=_("unit"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True, default="")
    window = models.CharField(_("quota window"), max_length=16, choices=QuotaWindow.choices)
    limit = models.PositiveIntegerField(_("limit"))

    class Meta:
        verbose_name = _("quota override")
        constraints = [
            models.UniqueConstraint(fields=["unit", "role", "window"], nulls_distinct=False,
                                    name="quota_override_one_per_scope"),
            models.CheckConstraint(condition=Q(limit__gte=1), name="quota_override_limit_positive"),
            models.CheckConstraint(condition=Q(unit__isnull=False) | ~Q(role=""), name="quota_override_has_scope"),
            models.CheckConstraint(
                condition=Q(role="") | Q(window__in=[QuotaWindow.OFFICER_MINUTE, QuotaWindow.OFFICER_DAY]),
                name="quota_override_role_only_officer_windows",
            ),
        ]


class QuotaCounter(models.Model):
    """The PostgreSQL twin's counters: one row per subject (officer or unit) and window, present only
    while the database counts that unit's windows (Redis unreachable, or not yet handed back)."""

    unit_id = models.BigIntegerField()  # the unit whose lock guards the row (an officer's unit)
    key = models.CharField(max_length=64)  # "o:<officer id>:minute", "u:<unit id>:day", …
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="quota_counter_one_per_window")]
        indexes = [models.Index(fields=["unit_id", "window_end"], name="quota_counter_unit_end")]


class QuotaGrant(models.Model):
    """One row per allowed lookup, whichever backend allowed it, at the time that backend saw: the
    ledger the twin seeds its counters from. Insert-only; no lock is taken on it."""

    officer_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()
    granted_at = models.DateTimeField()
    backend = models.CharField(max_length=8, choices=QuotaBackend.choices)

    class Meta:
        indexes = [
            models.Index(fields=["officer_id", "granted_at"], name="quota_grant_officer_at"),
            models.Index(fields=["unit_id", "granted_at"], name="quota_grant_unit_at"),
        ]
