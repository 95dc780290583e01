"""Recertification campaigns: every few months each unit leader certifies, account by account, that
the accounts of their unit are still needed with their role and lookup right."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import RecertificationDecision, RecertificationOutcome


class RecertificationCampaign(models.Model):
    name = models.CharField(_("name"), max_length=150)
    started_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(_("deadline"))
    outcome = models.CharField(_("accounts left uncertified"), max_length=20, choices=RecertificationOutcome.choices,
                               default=RecertificationOutcome.WITHDRAW_LOOKUP)
    started_by_name = models.CharField(max_length=150)
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("recertification campaign")
        verbose_name_plural = _("recertification campaigns")

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RecertificationItem(models.Model):
    """One account to certify. Its reviewers are the leaders of `reviewer_unit` (and of the units
    above it): the account's own unit — or the unit above, for a leader's own account (nobody
    certifies themself) and for every item still open after the deadline (escalation)."""

    campaign = models.ForeignKey(RecertificationCampaign, on_delete=models.CASCADE, related_name="items")
    account = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="recertification_items")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    reviewer_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    # What was certified: the account as it was when the campaign started.
    role = models.CharField(max_length=16)
    can_lookup = models.BooleanField()
    decision = models.CharField(_("decision"), max_length=16, choices=RecertificationDecision.choices,
                                default=RecertificationDecision.PENDING)
    note = models.CharField(_("note"), max_length=300, blank=True)
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    escalated = models.BooleanField(default=False)
    outcome_applied = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["unit__path", "account__username"]
        verbose_name = _("account to recertify")
        verbose_name_plural = _("accounts to recertify")
        constraints = [models.UniqueConstraint(fields=["campaign", "account"], name="recertification_item_once")]
        indexes = [models.Index(fields=["campaign", "decision"])]


class RecertificationReminder(models.Model):
    """A reminder owed to a leader with items left, claimed once (unique) before it is recorded."""

    campaign = models.ForeignKey(RecertificationCampaign, on_delete=models.CASCADE, related_name="reminders")
    leader = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    days_before = models.SmallIntegerField()
    items_left = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "leader", "days_before"],
                                               name="recertification_reminder_once")]
