"""The compliance app's tables: the IT Center's zone thresholds, the daily per-unit snapshots every
dashboard reads, the monthly reports as they were generated, and background exports."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ComplianceThresholds(models.Model):
    """The zones of a score (Secure Score's good / okay / bad), set by the IT Center: one row, id 1."""

    SINGLETON_ID = 1
    DEFAULT_GOOD_FROM = 90
    DEFAULT_ATTENTION_FROM = 70

    good_from = models.PositiveSmallIntegerField(_("good from (%)"), default=DEFAULT_GOOD_FROM,
                                                 validators=[MinValueValidator(1), MaxValueValidator(100)])
    attention_from = models.PositiveSmallIntegerField(_("needs attention from (%)"), default=DEFAULT_ATTENTION_FROM,
                                                      validators=[MinValueValidator(0), MaxValueValidator(99)])
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("compliance zone thresholds")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="compliance_thresholds_singleton"),
            models.CheckConstraint(condition=Q(attention_from__lt=models.F("good_from")),
                                   name="compliance_thresholds_ordered"),
        ]


class UnitSnapshot(models.Model):
    """One unit's compliance figures at the end of one day, for its whole subtree (the units below
    rolled up), with the unit's code, name and path as they were that day: a unit renamed, moved or
    merged later keeps its history, and a dashboard reads these rows, never the accounts or lookups.
    Written once per unit and day (unique): a second run of the job adds nothing."""

    day = models.DateField()
    unit = models.ForeignKey("accounts.Unit", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    unit_code = models.CharField(max_length=13)
    unit_name = models.CharField(max_length=200)
    unit_path = models.CharField(max_length=255)
    depth = models.PositiveSmallIntegerField()
    # Active accounts of the subtree, how many comply, and how many fail each rule.
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_compliant = models.PositiveIntegerField(default=0)
    accounts_own = models.PositiveIntegerField(default=0)  # of the unit itself, not below
    password_expired = models.PositiveIntegerField(default=0)
    one_time_unused = models.PositiveIntegerField(default=0)
    dormant = models.PositiveIntegerField(default=0)
    uncertified = models.PositiveIntegerField(default=0)
    turnover_overdue = models.PositiveIntegerField(default=0)
    lookup_quota = models.PositiveIntegerField(default=0)
    lookup_anomaly = models.PositiveIntegerField(default=0)
    second_factor = models.PositiveIntegerField(default=0)
    # What happened that day in the subtree (the province's "per day" charts).
    expiring_week = models.PositiveIntegerField(default=0)  # passwords that expire within 7 days
    lookups_allowed = models.PositiveIntegerField(default=0)
    lookups_refused = models.PositiveIntegerField(default=0)
    lockouts = models.PositiveIntegerField(default=0)
    # Rules that had nothing to judge that day (no campaign past its deadline, anomalies not deployed).
    rules_not_judged = models.JSONField(default=list, blank=True)
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily compliance snapshot")
        constraints = [models.UniqueConstraint(fields=["day", "unit"], name="unit_snapshot_once_a_day")]
        indexes = [
            models.Index(fields=["unit", "day"], name="unit_snapshot_unit_day"),
            models.Index(fields=["day", "depth", "unit_path"], name="unit_snapshot_day_depth_path",
                         opclasses=["date_ops", "int2_ops", "varchar_pattern_ops"]),
        ]

    @property
    def accounts_failing(self) -> int:
        return self.accounts_total - self.accounts_compliant

    @property
    def score(self) -> float | None:
        if not self.accounts_total:
            return None
        return round(100 * self.accounts_compliant / self.accounts_total, 1)


class MonthlyReport(models.Model):
    """A unit's (or the province's) compliance report for one month, kept exactly as generated on the
    1st — the HTML, PDF and XLSX bytes and the figures they were made from — so that last March's report
    says what it said last March. Append-only in PostgreSQL (migration 0002)."""

    month = models.DateField(_("month"))  # its first day
    unit = models.ForeignKey("accounts.Unit", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    unit_code = models.CharField(_("unit code"), max_length=13)
    unit_name = models.CharField(_("unit"), max_length=200)
    unit_path = models.CharField(max_length=255)
    is_province = models.BooleanField(default=False)
    generated_at = models.DateTimeField(_("generated at"), default=timezone.now)
    # The newest seal digest of the audit chain when the report was made (None until seals exist).
    seal_digest = models.CharField(_("newest audit seal"), max_length=400, blank=True)
    figures = models.JSONField()
    html = models.TextField()
    pdf = models.BinaryField()
    xlsx = models.BinaryField()

    class Meta:
        ordering = ["-month", "unit_path"]
        verbose_name = _("monthly compliance report")
        verbose_name_plural = _("monthly compliance reports")
        constraints = [models.UniqueConstraint(fields=["month", "unit"], name="monthly_report_once")]


class ExportJob(models.Model):
    """A large export made in the background (claimed pending → running), with its progress and file."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", pgettext_lazy("an export", "Done")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    list_name = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    file_format = models.CharField(max_length=4)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    content = models.BinaryField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The running worker's claim and lease (portal.leases): a claim not renewed within the lease is a
    # dead worker's, and the next worker takes the job over.
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at", "-id"]
