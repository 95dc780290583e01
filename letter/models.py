"""The rest of the letter (docs/mandate.md): directives and their acknowledgements (point 1), the
endpoint-protection register (point 4), inspections with findings and remediation deadlines (point 5).

Attachments (a directive's PDF, evidence) are checked by content and stored under their SHA-256 outside
the web root (accounts.attachments); a row keeps only the digest, the name and the size."""
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models.turnover import letter_number_validator

from .choices import AcknowledgementMethod, EndpointSource, FixState, LetterPoint, Severity, UpdateState


class Directive(models.Model):
    """An official document every officer of an audience must read and acknowledge (letter point 1:
    re-disseminate letter 5722/TCTTKĐA to every officer). Its text changes through versions."""

    number = models.CharField(_("number and symbol"), max_length=40, validators=[letter_number_validator])
    issued_on = models.DateField(_("date"))
    issuer = models.CharField(_("issuing body"), max_length=200)
    signer = models.CharField(_("signed by"), max_length=150)
    title = models.CharField(_("subject"), max_length=300)
    # The audience: every active account of these units and the units below them, in these roles.
    audience_units = models.ManyToManyField("accounts.Unit", related_name="+", verbose_name=_("audience units"))
    # A JSON list of role codes (jsonb: "contains" is one indexed operator on PostgreSQL).
    audience_roles = models.JSONField(_("audience roles"), default=list)
    due_date = models.DateField(_("acknowledge by"))
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("directive")
        verbose_name_plural = _("directives")
        constraints = [models.UniqueConstraint(fields=["number", "issued_on"], name="directive_number_date_unique")]

    def __str__(self):
        return f"{self.number} — {self.title}"


class DirectiveVersion(models.Model):
    """One text of a directive. A material change asks everyone again; a minor one (a typo fixed)
    keeps every acknowledgement (Moodle tool_policy's minor versions; StoryBB #258)."""

    directive = models.ForeignKey(Directive, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    material = models.BooleanField(_("material change"), default=True)
    summary = models.TextField(_("summary"))
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    attachment_sha256 = models.CharField(max_length=64)
    attachment_name = models.CharField(max_length=200)
    attachment_size = models.PositiveIntegerField(default=0)
    published_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["directive", "-number"]
        constraints = [models.UniqueConstraint(fields=["directive", "number"], name="directive_version_unique")]

    def __str__(self):
        return f"{self.directive.number} v{self.number}"


class Acknowledgement(models.Model):
    """One officer has read one version: when, and how (in the portal, or recorded by their leader on
    their behalf — someone without an account, with a note saying how they were briefed)."""

    version = models.ForeignKey(DirectiveVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    account = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(_("how"), max_length=16, choices=AcknowledgementMethod.choices)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "account"], name="acknowledgement_once_per_version"),
            models.CheckConstraint(condition=Q(method=AcknowledgementMethod.PORTAL) | ~Q(note=""),
                                   name="acknowledgement_on_behalf_has_note"),
        ]


class UnitMeasure(models.Model):
    """What a unit's leader says the unit did about a directive (the briefing held, the rules posted)."""

    directive = models.ForeignKey(Directive, on_delete=models.PROTECT, related_name="measures")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField(_("measures taken"))
    stated_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    stated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["directive", "unit"], name="unit_measure_once")]


class Endpoint(models.Model):
    """A computer that reaches the administrative-procedure system (letter point 4), with the fields of
    CIS Controls v8 safeguard 1.1 (the enterprise asset inventory) and 10.1–10.7 (anti-malware
    deployed, signatures updated, centrally managed), and GLPI's antivirus record."""

    asset_tag = models.CharField(_("asset tag"), max_length=64, unique=True)
    hostname = models.CharField(_("computer name"), max_length=100, blank=True)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    user_name = models.CharField(_("user"), max_length=150, blank=True)
    os_name = models.CharField(_("operating system"), max_length=100, blank=True)
    os_version = models.CharField(_("version"), max_length=100, blank=True)
    update_state = models.CharField(_("updates"), max_length=16, choices=UpdateState.choices,
                                    default=UpdateState.UNKNOWN)
    antimalware_product = models.CharField(_("anti-malware product"), max_length=100, blank=True)
    antimalware_version = models.CharField(_("anti-malware version"), max_length=50, blank=True)
    signature_date = models.DateField(_("signature date"), null=True, blank=True)
    centrally_managed = models.BooleanField(_("centrally managed"), default=False)
    monitoring_agent = models.BooleanField(_("monitoring-centre agent installed"), default=False)
    monitoring_sharing = models.BooleanField(_("sharing with the monitoring centre"), default=False)
    last_checked = models.DateField(_("last checked"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=EndpointSource.choices,
                              default=EndpointSource.MANUAL)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["unit__path", "asset_tag"]
        verbose_name = _("computer")
        verbose_name_plural = _("computers")
        indexes = [models.Index(fields=["unit", "asset_tag"])]

    def __str__(self):
        return self.asset_tag


class EndpointImport(models.Model):
    """One upload of the register: what the file said line by line, and what it changed."""

    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    rows_total = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list)  # [[line, message]]; nothing is imported when any

    class Meta:
        ordering = ["-uploaded_at", "-id"]


class Inspection(models.Model):
    """An inspection of a unit by the Department's inspectors (letter point 5), recorded as the
    inspection record (biên bản kiểm tra) of Decree 30/2020/NĐ-CP prints it."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    unit_name = models.CharField(max_length=200)
    decision_number = models.CharField(_("inspection decision number"), max_length=40, blank=True,
                                       validators=[letter_number_validator])
    inspected_on = models.DateField(_("inspection date"))
    team = models.TextField(_("inspection team"))
    scope = models.TextField(_("scope"))
    conclusion = models.TextField(_("conclusion"), blank=True)
    evidence_note = models.TextField(_("evidence"), blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    evidence_name = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-inspected_on", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self):
        return f"{self.unit_name} — {self.inspected_on:%d/%m/%Y}"


class Finding(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="findings")
    point = models.PositiveSmallIntegerField(_("letter point"), choices=LetterPoint.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    description = models.TextField(_("finding"))

    class Meta:
        ordering = ["point", "id"]


class RequiredFix(models.Model):
    """What the unit must fix, by whom and by when. Open past its deadline, it counts against the unit."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="fixes")
    description = models.TextField(_("required fix"))
    owner = models.CharField(_("owner"), max_length=150)
    deadline = models.DateField(_("deadline"))
    state = models.CharField(_("state"), max_length=10, choices=FixState.choices, default=FixState.OPEN)
    answer = models.TextField(_("unit's answer"), blank=True)
    answer_evidence_sha256 = models.CharField(max_length=64, blank=True)
    answer_evidence_name = models.CharField(max_length=200, blank=True)
    answered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    close_note = models.CharField(_("closing note"), max_length=300, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["state", "deadline"])]
