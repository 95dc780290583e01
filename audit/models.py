from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import EventKind


class SecurityEvent(models.Model):
    """One security-relevant event. Append-only: PostgreSQL refuses UPDATE and DELETE on this table
    (audit.operations.MakeAppendOnly), and a later sealing job chains blocks of rows by id with a keyed digest, so
    rows carry plain snapshots (usernames, unit code) that stay true after renames and merges.
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # EventKind values; no `choices=` on the column, so that each app's new kinds need no migration here.
    kind = models.CharField(_("event"), max_length=32, db_index=True)
    # Foreign keys without database constraints: an append-only row must never block or be touched
    # by changes elsewhere; the snapshots below are what the record proves.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    # A person's username, or "system:<name>" for a named system actor (portal.actors).
    actor_username = models.CharField(_("by"), max_length=64, blank=True)
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    target_username = models.CharField(_("account"), max_length=64, blank=True)
    unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    unit_code = models.CharField(_("unit code"), max_length=13, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    # The request, API call or job the event belongs to (portal.audit_context), to tie its events together.
    request_id = models.CharField(_("request id"), max_length=32, blank=True)
    # Old and new values where they apply ({"old": {...}, "new": {...}}), a reason, a record number.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [
            models.Index(fields=["target", "-id"]),
            models.Index(fields=["unit_code", "-id"]),
            models.Index(fields=["kind", "-occurred_at"]),
        ]

    def get_kind_display(self):
        return EventKind(self.kind).label if self.kind in EventKind.values else self.kind

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind} {self.target_username}"
