"""The lookups app's tables: API clients, the lookup records, the quota overrides and counters
(lookups/quotas.py), anomaly flags and registry failures."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role

from .choices import AnomalyKind, Decision, QuotaWindow, RegistryFailureKind


class QuotaOverride(models.Model):
    """A limit that replaces the policy's for one window: for one unit, one role, or a role in one unit.
    Resolved most specific first (unit and role, unit, role, then the policy). Unit windows are the
    unit's whole allowance, so they take no role."""

    unit = models.ForeignKey("accounts.Unit", verbose_name=_("unit"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True, default="")
    window = models.CharField(_("quota window"), max_length=16, choices=QuotaWindow.choices)
    limit = models.PositiveIntegerField(_("limit"))
    # Shadow mode (as Envoy's ratelimit rules have it): the limit is counted against and a lookup past it
    # is flagged (AnomalyKind.QUOTA_SHADOW_EXCEEDED), never refused — the next less specific limit is the
    # one enforced. For trying a new quota before it refuses anyone.
    shadow = models.BooleanField(_("shadow mode (count, do not refuse)"), default=False)

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
    """The quota counters (lookups/quotas.py): one row per subject and window kind — `officer:<id>:minute`,
    `officer:<id>:day`, `unit:<id>:minute`, `unit:<id>:day` — holding the count of its current window. A
    new window resets the row in place, so the table never holds more than two rows per officer and two
    per unit. Written only by the database function lookups_quota_consume (migration 0008)."""

    unit_id = models.BigIntegerField()  # the unit the subject counted for last (an officer's unit)
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key"], name="quota_counter_one_per_subject")]


class ApiClient(models.Model):
    """An external system that asks for lookup decisions with a bearer token. It decides only for the
    officers of its unit's subtree. The token is shown once; the table keeps its keyed SHA-256 (HMAC:
    a slow password hash would cost every call ~200 ms, and a 256-bit random token needs no
    stretching) and its first characters, so that an operator can tell tokens apart."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    unit = models.ForeignKey("accounts.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=12, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self):
        return self.name


class LookupRecord(models.Model):
    """One row per lookup decision, allowed or refused (append-only: migration 0002; partitioned by
    month, the primary key (id, decided_at) in the database: migration 0003). The citizen ID
    is kept only as its keyed hash (HMAC-SHA256 with CITIZEN_ID_KEY: "who looked up this citizen" is
    an indexed equality on the hash of the typed number) and a masked form for people to read. The
    officer's username and unit are copied as they were: history keeps pointing at them."""

    id = models.BigAutoField(primary_key=True)
    decided_at = models.DateTimeField(_("time"), default=timezone.now)
    # No single-column indexes on the two keys (migration 0012): lookup_record_officer serves every read by
    # officer, nothing reads by client, and each index is one more insert on every decision.
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("officer"), null=True, blank=True,
                                on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    officer_username = models.CharField(_("officer's username"), max_length=64, blank=True)
    unit_id_then = models.BigIntegerField(null=True, blank=True)
    unit_code_then = models.CharField(_("unit code"), max_length=13, blank=True)
    client = models.ForeignKey(ApiClient, verbose_name=_("API client"), null=True, blank=True,
                               on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    dossier_code = models.CharField(_("dossier code"), max_length=40, blank=True)
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    citizen_id_hash = models.CharField(max_length=64, blank=True)
    citizen_id_masked = models.CharField(_("citizen ID"), max_length=12, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("lookup record")
        verbose_name_plural = _("lookup records")
        indexes = [
            models.Index(fields=["citizen_id_hash", "decided_at"], name="lookup_record_citizen"),
            models.Index(fields=["officer", "decided_at"], name="lookup_record_officer"),
            models.Index(fields=["unit_id_then", "decided_at"], name="lookup_record_unit"),
            models.Index(fields=["decided_at"], name="lookup_record_time"),
            # The anomaly rule "many different citizens for one dossier" (lookups/anomalies.py).
            models.Index(fields=["dossier_code", "decided_at"], name="lookup_record_dossier"),
        ]


class AnomalyFlag(models.Model):
    """One anomaly rule that an allowed lookup tripped (lookups/anomalies.py), written in the decision's
    own transaction so that a flag exists exactly when its lookup does, and nothing in the decision
    waits for the Celery broker. The job `lookups.process_anomaly_flags` then records one audit event
    per flag and stamps `processed_at` (a conditional update: a second run finds nothing to do); the IT
    Center's alert reads the processed flags not yet alerted (`anomaly_flags_to_alert`) and stamps
    `alerted_at` (`anomaly_flags_mark_alerted`).

    The lookup is pointed at without a database constraint, and its time is kept beside it: the record
    table is partitioned by month, its primary key holds the time, and it is append-only. The officer
    and unit are copied as the record has them (the unit as it was: scope follows the record)."""

    # Indexed by the unique constraint (lookup, kind).
    lookup = models.ForeignKey(LookupRecord, verbose_name=_("lookup"), on_delete=models.DO_NOTHING,
                               db_constraint=False, db_index=False, related_name="+")
    decided_at = models.DateTimeField(_("time"))
    kind = models.CharField(_("anomaly"), max_length=32, choices=AnomalyKind.choices)
    # Not indexed: the pages filter by the username, within the unit and time indexes.
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("officer"), null=True, blank=True,
                                on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                related_name="+")
    officer_username = models.CharField(_("officer's username"), max_length=64, blank=True)
    unit_id_then = models.BigIntegerField(null=True, blank=True)
    unit_code_then = models.CharField(_("unit code"), max_length=13, blank=True)
    details = models.JSONField(default=dict, blank=True)
    processed_at = models.DateTimeField(_("recorded in the security events at"), null=True, blank=True)
    alerted_at = models.DateTimeField(_("IT Center alerted at"), null=True, blank=True)
    # The IT Center's review closes a flag (anomaly_flag_review): until then it counts against the
    # officer in the compliance rules ("lookups without open anomalies").
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    review_note = models.TextField(_("review note"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("anomaly flag")
        verbose_name_plural = _("anomaly flags")
        constraints = [models.UniqueConstraint(fields=["lookup", "kind"], name="anomaly_flag_once_per_lookup")]
        indexes = [
            models.Index(fields=["decided_at"], name="anomaly_flag_time"),
            models.Index(fields=["unit_id_then", "decided_at"], name="anomaly_flag_unit"),
            # The job's and the alert's queues: small partial indexes over what is still to do.
            models.Index(fields=["id"], name="anomaly_flag_unprocessed", condition=Q(processed_at__isnull=True)),
            models.Index(fields=["id"], name="anomaly_flag_unalerted",
                         condition=Q(alerted_at__isnull=True, processed_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.lookup_id}"


class RegistryFailure(models.Model):
    """An allowed lookup the population registry did not answer (timeout, error, unreadable answer):
    kept beside the append-only record, which cannot be changed, and shown with it in the log."""

    lookup = models.ForeignKey(LookupRecord, verbose_name=_("lookup"), on_delete=models.DO_NOTHING,
                               db_constraint=False, related_name="+")
    decided_at = models.DateTimeField(_("time of the lookup"))
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("failure"), max_length=16, choices=RegistryFailureKind.choices)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("registry failure")
        verbose_name_plural = _("registry failures")
