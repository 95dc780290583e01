"""The outbox: one row per notice to one person — always shown in-app, and with the state of its e-mail.

A notice is claimed by inserting its row: the unique key (recipient, kind, threshold, password version)
for expiry reminders, (recipient, kind, source) for the rest — an audit event, a week, an alert — so a
job run twice, two workers, or a worker killed and restarted insert it once (ON CONFLICT DO NOTHING),
and only the insert that made the row sends it. What a message says is rendered from `context`, which
never holds a password, a one-time password or a citizen ID (notifications.outbox refuses them)."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import DeliveryState, NoticeKind


class Notice(models.Model):
    id = models.BigAutoField(primary_key=True)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("kind"), max_length=32, choices=NoticeKind.choices)
    # Expiry reminders: the threshold in days before expiry (0 on expiry) and the password they are about
    # (its change time): a new password starts afresh.
    threshold = models.SmallIntegerField(null=True, blank=True)
    password_version = models.DateTimeField(null=True, blank=True)
    # Every other notice: what it is about, once ("event:123", "week:2026-W49", "alert:lockout_burst:…").
    source_key = models.CharField(max_length=120, blank=True, default="")
    context = models.JSONField(default=dict, blank=True)
    # The moment the notice is about, when it has one: the password's or the one-time password's expiry,
    # a campaign's deadline (kept as it was when the notice was made: the message says what was true).
    deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    email_to = models.EmailField(_("e-mail"), blank=True)
    email_state = models.CharField(_("e-mail"), max_length=12, choices=DeliveryState.choices, blank=True,
                                   default=DeliveryState.NONE)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The claim of the sending worker (ready → sending); a claim older than the lease is taken back.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    failure_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "threshold", "password_version"],
                                    condition=Q(password_version__isnull=False),
                                    name="notice_once_per_password_threshold"),
            models.UniqueConstraint(fields=["recipient", "kind", "source_key"],
                                    condition=Q(password_version__isnull=True), name="notice_once_per_source"),
            models.CheckConstraint(condition=Q(password_version__isnull=False) | ~Q(source_key=""),
                                   name="notice_has_a_key"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notice_recipient_recent"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notice_unread"),
            models.Index(fields=["email_state", "next_attempt_at"], name="notice_delivery_due",
                         condition=Q(email_state__in=["ready", "sending", "failed"])),
        ]

    def __str__(self):
        return f"{self.kind} → {self.recipient_id}"


class NotificationPreference(models.Model):
    """How a person takes the optional notices: by e-mail and in-app, or in-app only."""

    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                   related_name="notification_preference")
    optional_by_email = models.BooleanField(_("also by e-mail"), default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")


class JobFailure(models.Model):
    """A Celery job that raised (or ran out of time): the IT Center is alerted once (alerted_at claimed).
    Only the exception's class is kept: a message may quote data the job was handling."""

    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=200)
    occurred_at = models.DateTimeField(default=timezone.now)
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["alerted_at"], condition=Q(alerted_at__isnull=True), name="jobfailure_open")]
