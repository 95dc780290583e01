"""Incidents: the record (units and systems concerned, times, category, severity, personal data,
reporter and handler, actions and lessons), its append-only timeline and evidence files, the
containments of accounts and units, and the deadline rules the IT Center keeps (versioned, each rule
with its legal basis: nothing about a deadline is written in the code)."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    ContainmentTarget,
    EvidenceType,
    IncidentCategory,
    IncidentState,
    PeriodUnit,
    RuleApplies,
    RuleKind,
    RuleStartsFrom,
    Severity,
    TimelineKind,
)


class Incident(models.Model):
    number = models.CharField(_("incident number"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what happened"), blank=True)
    category = models.CharField(_("category"), max_length=24, choices=IncidentCategory.choices)
    severity = models.CharField(_("severity"), max_length=12, choices=Severity.choices, default=Severity.MEDIUM)
    state = models.CharField(_("stage"), max_length=12, choices=IncidentState.choices, default=IncidentState.REPORTED)
    units = models.ManyToManyField("accounts.Unit", verbose_name=_("units concerned"), related_name="+", blank=True)
    # The connected systems concerned, by name, until the connected-systems registry lands.
    systems = models.JSONField(_("systems concerned"), default=list, blank=True)
    discovered_at = models.DateTimeField(_("discovered at"))
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    # When the response ended (the incident was resolved): Circular 20/2017's final report counts from here.
    response_ended_at = models.DateTimeField(_("response ended at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    personal_data_involved = models.BooleanField(_("personal data involved"), default=False)
    personal_data_categories = models.CharField(_("categories of personal data"), max_length=300, blank=True)
    citizens_affected = models.PositiveIntegerField(_("about how many citizens"), null=True, blank=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reported by"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    reporter_name = models.CharField(_("reported by"), max_length=150)
    # The reporter's unit when reporting: a leader sees the incidents reported in their subtree.
    reporter_unit = models.ForeignKey("accounts.Unit", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handled by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    actions_taken = models.TextField(_("actions taken"), blank=True)
    lessons_learned = models.TextField(_("lessons learned"), blank=True)
    # What opened it in one step ("anomaly_flag:12", "lockout:345", "seal_verification:7"): the same
    # button pressed twice opens the same incident.
    source_key = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField(_("reported at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("security incident")
        verbose_name_plural = _("security incidents")
        constraints = [
            models.UniqueConstraint(fields=["source_key"], condition=~Q(source_key=""), name="incident_once_per_source"),
        ]
        indexes = [models.Index(fields=["state"], name="incident_state")]

    def __str__(self):
        return f"{self.number} — {self.title}"

    @property
    def involves_personal_data(self) -> bool:
        return self.personal_data_involved or self.category == IncidentCategory.PERSONAL_DATA_BREACH


class TimelineEntry(models.Model):
    """One line of an incident's timeline; append-only in the database (migration 0002)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=16, choices=TimelineKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_name = models.CharField(_("by"), max_length=150)
    text = models.TextField(_("entry"))
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Evidence(models.Model):
    """An evidence file, checked by its content (a PDF that parses, a PNG or JPEG by its magic bytes),
    stored outside the web root under its SHA-256; append-only (migration 0002)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="evidence")
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField(_("size"))
    name = models.CharField(_("file name"), max_length=200)
    file_type = models.CharField(_("type"), max_length=8, choices=EvidenceType.choices)
    description = models.CharField(_("description"), max_length=300, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    added_by_name = models.CharField(max_length=150)
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "sha256"], name="evidence_once_per_incident")]


class Containment(models.Model):
    """One containment of an account or of a unit subtree, its steps' results, and its lifting. The state
    that refuses access is on the account or unit (accounts.models: contained_at), readable by the
    accounts kernel; this row is the history. At most one open containment per account and per unit."""

    target = models.CharField(_("what"), max_length=8, choices=ContainmentTarget.choices)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    unit = models.ForeignKey("accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="containments")
    reason = models.CharField(_("reason"), max_length=300)
    started_at = models.DateTimeField(_("contained at"), default=timezone.now)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    started_by_name = models.CharField(max_length=150)
    steps = models.JSONField(default=list, blank=True)
    accounts_count = models.PositiveIntegerField(default=0)
    api_clients_suspended = models.JSONField(default=list, blank=True)
    # Chosen at containment: the accounts were deactivated in the connected systems that keep their own
    # (SCIM, manual targets); lifting reactivates them only then.
    targets_deactivated = models.BooleanField(_("deactivated in the connected systems"), default=False)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    lifted_by_name = models.CharField(max_length=150, blank=True)
    lift_reason = models.CharField(_("reason lifted"), max_length=300, blank=True)
    lift_steps = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(target=ContainmentTarget.ACCOUNT, account__isnull=False, unit__isnull=True)
                           | Q(target=ContainmentTarget.UNIT, unit__isnull=False, account__isnull=True)),
                name="containment_one_target"),
            models.UniqueConstraint(fields=["account"], condition=Q(lifted_at__isnull=True, account__isnull=False),
                                    name="containment_open_once_per_account"),
            models.UniqueConstraint(fields=["unit"], condition=Q(lifted_at__isnull=True, unit__isnull=False),
                                    name="containment_open_once_per_unit"),
        ]

    @property
    def target_label(self) -> str:
        return str(self.account) if self.account_id else str(self.unit)


class DeadlineRuleSet(models.Model):
    """A version of the deadline rules. The rules in force for an incident are those of the latest
    version effective on the day it was discovered; a new law is a new version, never an edit of the
    rules an older incident was judged by."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    effective_from = models.DateField(_("in force from"))
    note = models.TextField(_("note"), blank=True)
    # When the IT Center must look at the rules again (a law announced to take effect then).
    review_by = models.DateField(_("review by"), null=True, blank=True)
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-effective_from", "-number"]
        verbose_name = _("deadline rules version")

    def __str__(self):
        return f"v{self.number} — {self.title}"


class DeadlineRule(models.Model):
    rule_set = models.ForeignKey(DeadlineRuleSet, on_delete=models.PROTECT, related_name="rules")
    # Stable across versions: a reminder is sent once per incident and code, whatever version.
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("obligation"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    authority = models.CharField(_("to whom"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=RuleKind.choices, default=RuleKind.DEADLINE)
    applies_to = models.CharField(_("applies to"), max_length=16, choices=RuleApplies.choices, default=RuleApplies.ALL)
    starts_from = models.CharField(_("counted from"), max_length=16, choices=RuleStartsFrom.choices)
    amount = models.PositiveIntegerField(_("period"))
    period_unit = models.CharField(_("unit"), max_length=8, choices=PeriodUnit.choices)
    remind_hours_before = models.PositiveIntegerField(_("remind hours before"), default=24)

    class Meta:
        ordering = ["rule_set", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "code"], name="deadline_rule_code_once_per_version"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="deadline_rule_period_positive"),
            models.CheckConstraint(condition=~Q(legal_basis=""), name="deadline_rule_has_legal_basis"),
        ]

    def __str__(self):
        return self.label


class DeadlineMet(models.Model):
    """An obligation done for an incident (the report sent, the notification made): no more reminders."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="deadlines_met")
    code = models.SlugField(max_length=40)
    met_at = models.DateTimeField(default=timezone.now)
    met_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    met_by_name = models.CharField(max_length=150)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "code"], name="deadline_met_once")]
