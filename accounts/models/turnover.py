"""Turnover requests (đề nghị thay đổi cán bộ), letter point 2: when the officers who handle dossiers
change, the unit sends an official letter so that the IT Center removes or changes their accounts at
once. Each request carries its letter (number, date, signer, the scanned PDF and its SHA-256) and its
lines; every transition is an audit event, claimed by a conditional update."""
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..choices import DepartureReason, Role, TurnoverAction, TurnoverState

# Vietnamese document numbers as they are written: "125/UBND-VP", "3449/STTTT-CDS", "12/2024/QĐ-UBND".
letter_number_validator = RegexValidator(
    r"\A\d{1,6}(/\d{4})?/[0-9A-ZĐ]+(-[0-9A-ZĐ]+)*\Z",
    _("Write the number and symbol as on the letter, for example 125/UBND-VP."),
)


class TurnoverRequest(models.Model):
    unit = models.ForeignKey("accounts.Unit", verbose_name=_("requesting unit"), on_delete=models.PROTECT,
                             related_name="turnover_requests")
    unit_code = models.CharField(max_length=13)
    unit_name = models.CharField(max_length=200)
    state = models.CharField(_("state"), max_length=16, choices=TurnoverState.choices, default=TurnoverState.DRAFT)

    # The official letter (công văn).
    letter_number = models.CharField(_("letter number and symbol"), max_length=40,
                                     validators=[letter_number_validator])
    letter_date = models.DateField(_("letter date"))
    issuing_unit_name = models.CharField(_("issuing unit"), max_length=200)
    signer_name = models.CharField(_("signed by"), max_length=150)
    signer_position = models.CharField(_("signer's position"), max_length=150)
    effective_date = models.DateField(_("effective date"))
    # The scanned letter, stored outside the web root under its digest (turnover attachments).
    attachment_sha256 = models.CharField(max_length=64, blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_size = models.PositiveIntegerField(default=0)

    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("due by"), null=True, blank=True)
    decided_by_name = models.CharField(max_length=150, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    returned_reason = models.CharField(_("reason returned"), max_length=300, blank=True)
    executed_by_name = models.CharField(max_length=150, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    # Every connected system concerned confirmed (the last confirmation's time): letter → complete is
    # what the service level, the overdue marks and the compliance rule measure (docs/federation.md).
    completed_at = models.DateTimeField(_("complete"), null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    record_number = models.CharField(_("record number"), max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("turnover request")
        verbose_name_plural = _("turnover requests")
        indexes = [models.Index(fields=["state", "due_at"]), models.Index(fields=["state", "effective_date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(effective_date__gte=models.F("letter_date")),
                                   name="turnover_effective_after_letter"),
        ]

    def __str__(self):
        return f"{self.letter_number} ({self.unit_name})"

    @property
    def is_open(self) -> bool:
        return self.state in (TurnoverState.SUBMITTED, TurnoverState.ACCEPTED)


class TurnoverLine(models.Model):
    request = models.ForeignKey(TurnoverRequest, on_delete=models.CASCADE, related_name="lines")
    action = models.CharField(_("action"), max_length=16, choices=TurnoverAction.choices)
    account = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="turnover_lines")
    username = models.CharField(_("username"), max_length=64, blank=True)
    departure_reason = models.CharField(_("why"), max_length=16, choices=DepartureReason.choices, blank=True)
    new_role = models.CharField(_("new role"), max_length=16, choices=Role.choices, blank=True)
    new_can_lookup = models.BooleanField(_("may look up citizens"), null=True, blank=True)
    new_unit = models.ForeignKey("accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # A move is confirmed by the receiving unit's leader (or an IT admin) before it can be executed.
    move_confirmed_by_name = models.CharField(max_length=150, blank=True)
    move_confirmed_at = models.DateTimeField(null=True, blank=True)
    # A newcomer's account.
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("turnover request line")
        verbose_name_plural = _("turnover request lines")


class TurnoverConfirmation(models.Model):
    """What one connected system owes an executed request for one account, and when it confirmed it:
    a back-channel logout delivered, a SCIM push acknowledged, or a manual task done (its delivery or
    task linked). Made when the request is executed, in the same transaction; marked by
    accounts.services.turnover_completion from the delivery ledger and the manual tasks."""

    class Awaited(models.TextChoices):
        LOGOUT = "logout", _("Sign-out delivered")
        SCIM = "scim", _("Account change acknowledged (SCIM)")
        MANUAL = "manual", _("Manual task done")

    request = models.ForeignKey(TurnoverRequest, on_delete=models.CASCADE, related_name="confirmations")
    system = models.ForeignKey("federation.ConnectedSystem", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    awaited = models.CharField(_("awaited"), max_length=8, choices=Awaited.choices)
    delivery = models.ForeignKey("federation.Delivery", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    manual_task = models.ForeignKey("federation.ManualTask", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("turnover confirmation")
        verbose_name_plural = _("turnover confirmations")
        constraints = [
            models.UniqueConstraint(fields=["request", "delivery"], name="turnover_confirmation_delivery_once"),
            models.UniqueConstraint(fields=["request", "manual_task"], name="turnover_confirmation_task_once"),
        ]
        indexes = [models.Index(fields=["request"], name="turnover_confirmation_open",
                                condition=models.Q(confirmed_at=None))]


class Holiday(models.Model):
    """A public holiday the IT Center keeps, so that service levels count working days only."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["date"]
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")

    def __str__(self):
        return f"{self.date:%d/%m/%Y} {self.name}"


class RosterImport(models.Model):
    """One upload of a unit's staff roster and what its reconciliation found. Large files are
    reconciled by a background job that reports its progress here."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", pgettext_lazy("a roster import", "Done")
        REFUSED = "refused", _("Refused: the file has problems")
        FAILED = "failed", _("Failed")

    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # [[line, message], …] when refused; the reconciliation's lists when done (accounts by id).
    problems = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The running worker's claim and lease (portal.leases): a claim not renewed within the lease is a
    # dead worker's, and the next worker takes the job over.
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
