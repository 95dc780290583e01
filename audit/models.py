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
            models.Index(fields=["target_username", "-id"], name="audit_event_target_name"),
            models.Index(fields=["actor_username", "-id"], name="audit_event_actor_name"),
        ]

    def get_kind_display(self):
        return EventKind(self.kind).label if self.kind in EventKind.values else self.kind

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind} {self.target_username}"


class Seal(models.Model):
    """One block of consecutive records of an append-only table, chained to the table's previous seal
    (audit/canonical.py says what each field covers). Append-only like the records it seals; the chain
    position is unique per table, so two sealers can never fork a chain."""

    table_name = models.CharField(_("table"), max_length=63)
    position = models.PositiveBigIntegerField(_("position"))
    first_id = models.BigIntegerField(_("first id"))
    last_id = models.BigIntegerField(_("last id"))
    row_count = models.BigIntegerField(_("records"))
    # Ids of the range that held no committed row when sealed (rolled-back inserts): [[from, to], …].
    gaps = models.JSONField(default=list)
    columns = models.JSONField(default=list)
    first_record_at = models.DateTimeField(null=True)
    last_record_at = models.DateTimeField(null=True)
    digest = models.CharField(max_length=64)
    # The first bytes of each record's leaf hash, in id order: they name the record that changed.
    row_tags = models.BinaryField()
    sealed_at = models.DateTimeField(_("sealed at"))
    previous_chain = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    chain = models.CharField(max_length=64)
    signing_key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)

    class Meta:
        verbose_name = _("seal")
        verbose_name_plural = _("seals")
        constraints = [
            models.UniqueConstraint(fields=["table_name", "position"], name="seal_one_per_position"),
            models.UniqueConstraint(fields=["table_name", "first_id"], name="seal_one_per_first_id"),
            models.CheckConstraint(condition=models.Q(last_id__gte=models.F("first_id")), name="seal_range_ordered"),
        ]

    def __str__(self):
        return f"{self.table_name} #{self.position} ({self.first_id}–{self.last_id})"


class SealWatermark(models.Model):
    """What a sealing run saw of a table: the sequence's last value and the transactions inserting into
    the table then. Once all of those have ended, every id up to that value is settled (committed or
    rolled back) and may be sealed. Working state of the sealer, not evidence: rows come and go."""

    table_name = models.CharField(max_length=63)
    last_value = models.BigIntegerField()
    # Virtual transaction ids (pg_locks) of the sessions that held the table's insert lock.
    open_transactions = models.JSONField(default=list)
    observed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["table_name", "last_value"], name="seal_watermark_table")]


class SealVerification(models.Model):
    """One run of audit_verify (command, daily job or the inspector's page): what it checked and found.
    Insert-only: the page shows the latest."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    actor_username = models.CharField(_("by"), max_length=64)
    ok = models.BooleanField(_("valid"))
    seals_checked = models.BigIntegerField(default=0)
    seals_valid = models.BigIntegerField(default=0)
    records_checked = models.BigIntegerField(default=0)
    records_valid = models.BigIntegerField(default=0)
    first_problem = models.TextField(blank=True)
    # The report as audit_verify --json prints it (problems capped, see audit/verification.py).
    report = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("seal verification")
        ordering = ["-id"]
