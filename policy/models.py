from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def reminder_days_parse(text: str) -> list[int]:
    """The reminder thresholds as typed ("14, 7, 3, 1"): whole days before expiry, each fired once per
    password (notifications.reminders), largest first. The notice on the day of expiry is always sent."""
    days = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 60:
            raise ValidationError(
                _("Write the days before expiry as whole numbers from 1 to 60 separated by commas, for example "
                  "14, 7, 3, 1."), code="reminder_days")
        days.add(int(part))
    if len(days) > 8:
        raise ValidationError(_("At most 8 reminders before expiry."), code="reminder_days")
    return sorted(days, reverse=True)


def reminder_days_validator(text: str) -> None:
    reminder_days_parse(text)


class PasswordPolicy(models.Model):
    """The one password policy of the portal (row id 1), edited by IT admins, every change audited.

    The letter's rules are a floor the form will not go below: length ≥ 8, all four character
    classes, rotation at least every 90 days (letter point 3).
    """

    SINGLETON_ID = 1

    min_length = models.PositiveSmallIntegerField(
        _("minimum length"), validators=[MinValueValidator(8), MaxValueValidator(64)]
    )
    min_length_admin = models.PositiveSmallIntegerField(
        _("minimum length for IT admins"), validators=[MinValueValidator(8), MaxValueValidator(64)]
    )
    min_zxcvbn_score = models.PositiveSmallIntegerField(
        _("minimum password strength (2–4)"), validators=[MinValueValidator(2), MaxValueValidator(4)],
        help_text=_("How hard a password must be to guess: 2 fair, 3 strong (about a hundred million guesses), "
                    "4 very strong (ten billion guesses or more)."),
    )
    history_count = models.PositiveSmallIntegerField(
        _("previous passwords that may not be reused"), validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    history_count_admin = models.PositiveSmallIntegerField(
        _("previous passwords that may not be reused (IT admins)"),
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    min_age_hours = models.PositiveSmallIntegerField(
        _("minimum password age (hours)"), validators=[MaxValueValidator(24 * 7)]
    )
    max_age_days = models.PositiveSmallIntegerField(
        _("maximum password age (days)"), validators=[MinValueValidator(7), MaxValueValidator(90)]
    )
    max_age_days_admin = models.PositiveSmallIntegerField(
        _("maximum password age for IT admins (days)"), validators=[MinValueValidator(7), MaxValueValidator(90)]
    )
    # FreeIPA's ipa-epn sends 28/14/7/3/1; the portal's default is 14/7/3/1, plus one on expiry. The
    # largest is also when the "your password expires soon" banner starts (expiry_warning_days): one
    # setting for both, so the banner and the first reminder never disagree.
    expiry_reminder_days = models.CharField(
        _("send reminders this many days before expiry"), max_length=40, default="14,7,3,1",
        validators=[reminder_days_validator],
        help_text=_("Days before a password expires, separated by commas. A reminder is also sent on the day it "
                    "expires; a day missed is caught up on the next run. From the largest, the holder also "
                    "sees a warning on every page."),
    )
    one_time_password_hours = models.PositiveSmallIntegerField(
        _("one-time password validity (hours)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 7)]
    )
    lockout_threshold = models.PositiveSmallIntegerField(
        _("failed logins before lockout"), validators=[MinValueValidator(3), MaxValueValidator(10)]
    )
    lockout_minutes = models.PositiveSmallIntegerField(
        _("lockout duration (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    dormant_days = models.PositiveSmallIntegerField(
        _("disable accounts unused for (days)"), validators=[MinValueValidator(7), MaxValueValidator(365)],
        help_text=_("The daily job disables an account without a sign-in for this many days (exempted service "
                    "accounts and the last IT admin excepted)."),
    )
    recertify_months = models.PositiveSmallIntegerField(
        _("units recertify their accounts every (months)"), validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("A new recertification campaign starts this many months after the previous one began."),
    )
    session_idle_minutes = models.PositiveSmallIntegerField(
        _("idle session timeout (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    session_idle_minutes_admin = models.PositiveSmallIntegerField(
        _("idle session timeout for IT admins (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    # Citizen lookups (letter point 5): how many an officer and a unit may make, per minute and per day.
    # Overrides per unit and per role are lookups.QuotaOverride rows.
    quota_officer_minute = models.PositiveIntegerField(
        _("lookups per officer per minute"), default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    quota_officer_day = models.PositiveIntegerField(
        _("lookups per officer per day"), default=300, validators=[MinValueValidator(1), MaxValueValidator(100000)]
    )
    quota_unit_minute = models.PositiveIntegerField(
        _("lookups per unit per minute"), default=200, validators=[MinValueValidator(1), MaxValueValidator(100000)]
    )
    quota_unit_day = models.PositiveIntegerField(
        _("lookups per unit per day"), default=20000, validators=[MinValueValidator(1), MaxValueValidator(10000000)]
    )
    # The second factor (TOTP): IT admins and inspectors always (docs/architecture.md "Policy defaults"); these add
    # more roles (unit leaders, officers) and the officers who hold the right to look up citizens.
    second_factor_roles = models.JSONField(
        _("other roles that sign in with a second factor"), default=list, blank=True,
        help_text=_("IT Center administrators and inspectors always use one."))
    second_factor_lookup = models.BooleanField(
        _("officers who may look up citizens sign in with a second factor"), default=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("password policy")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="password_policy_singleton"),
            # Letter point 3 as a database invariant, whatever writes the row.
            models.CheckConstraint(
                condition=models.Q(min_length__gte=8, min_length_admin__gte=8, max_age_days__lte=90,
                                   max_age_days_admin__lte=90),
                name="password_policy_letter_floor",
            ),
            models.CheckConstraint(
                condition=models.Q(quota_officer_minute__gte=1, quota_officer_day__gte=1, quota_unit_minute__gte=1,
                                   quota_unit_day__gte=1),
                name="password_policy_quotas_positive",
            ),
        ]

    EDITABLE_FIELDS = (
        "min_length", "min_length_admin", "min_zxcvbn_score", "history_count", "history_count_admin",
        "min_age_hours", "max_age_days", "max_age_days_admin",
        "expiry_reminder_days", "one_time_password_hours", "lockout_threshold", "lockout_minutes", "dormant_days",
        "recertify_months", "session_idle_minutes", "session_idle_minutes_admin",
        "quota_officer_minute", "quota_officer_day", "quota_unit_minute", "quota_unit_day",
        "second_factor_roles", "second_factor_lookup",
    )
    SECOND_FACTOR_FIELDS = ("second_factor_roles", "second_factor_lookup")
    QUOTA_FIELDS = ("quota_officer_minute", "quota_officer_day", "quota_unit_minute", "quota_unit_day")

    @classmethod
    def from_defaults(cls) -> "PasswordPolicy":
        return cls(id=cls.SINGLETON_ID, second_factor_roles=[], second_factor_lookup=False,
                   **settings.POLICY_DEFAULTS)

    @property
    def expiry_warning_days(self) -> int:
        """The warning window before expiry (the banner, the digests' "expiring soon"): the first reminder's."""
        return max(self.reminder_days, default=0)

    @property
    def reminder_days(self) -> list[int]:
        try:
            return reminder_days_parse(self.expiry_reminder_days)
        except ValidationError:  # a row written around the form: the default rather than no reminders
            return [14, 7, 3, 1]

    def values(self) -> dict:
        values = {name: getattr(self, name) for name in self.EDITABLE_FIELDS}
        values["second_factor_roles"] = sorted(values["second_factor_roles"] or [])
        return values


class PasswordHistory(models.Model):
    """Hashes of an account's previous passwords (never the passwords), for the no-reuse rule."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history")
    password_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"])]
