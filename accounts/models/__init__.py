"""The accounts app's tables: units, accounts, handover records, sessions, recovery codes and dormancy
exemptions here; turnover and recertification in their own modules, re-exported at the end."""
import unicodedata
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import HandoverReason, PasswordChangeReason, Role, UnitKind, UnitState
from .turnover import letter_number_validator

# Patterns end with \Z, not $: "$" also matches before a trailing newline, so "cb.moi\n" would pass.
# QCVN 102:2016 electronic agency code, e.g. 000.00.00.H19 (Đồng Nai's People's Committee).
agency_code_validator = RegexValidator(
    r"\A\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}\Z",
    _("Enter an agency code of the form NNN.NN.NN.HNN, for example 000.00.00.H19."),
)
USERNAME_PATTERN = r"\A[a-z0-9][a-z0-9._-]{2,63}\Z"
username_validator = RegexValidator(
    USERNAME_PATTERN,
    _("A username has 3–64 lower-case letters without accents, digits, dots, hyphens or underscores."),
)

PHONE_PATTERN = r"\A\+?[0-9 .]{9,15}\Z"
phone_validator = RegexValidator(PHONE_PATTERN, _("Enter a phone number of 9–15 digits."))

# The number and symbol of a decision or resolution as Vietnamese documents write them (Decree
# 30/2020/NĐ-CP, Appendix I): "1234/QĐ-UBND", "12/2025/NQ-HĐND". The same pattern as a turnover
# letter's number (accounts.models.turnover), with a unit change's own example in the message.
decision_number_validator = RegexValidator(
    letter_number_validator.regex,
    _("Write the number and symbol as on the decision, for example 1234/QĐ-UBND or 12/2025/NQ-HĐND."),
)


PATH_SEGMENT_WIDTH = 8


def unit_path_below(parent_path: str | None, unit_id: int) -> str:
    """The materialised path of a unit: its ancestors' ids, zero-padded so that sorting by path lists
    the tree depth-first with siblings in creation order ("/00000001/00000007/")."""
    return f"{parent_path or '/'}{unit_id:0{PATH_SEGMENT_WIDTH}d}/"


class Unit(models.Model):
    """A unit in the province's tree. Never deleted: history keeps pointing at it as it was.

    `path` is a materialised path of ids (`unit_path_below`) so that a leader's subtree is one indexed
    prefix query at any depth, for the 3,000-unit nationwide tree as for one province.
    """

    code = models.CharField(_("agency code"), max_length=13, unique=True, validators=[agency_code_validator])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    state = models.CharField(_("state"), max_length=16, choices=UnitState.choices, default=UnitState.ACTIVE)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged_units"
    )
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # The legal basis of the unit's latest change (rename, move, merge, retire): the decision or
    # resolution that ordered it, its date and the date it takes effect. A merged or retired unit
    # changes no more, so for it this is the basis of its state, shown in the unit list. Every
    # change, each with its basis, is in the audit log (append-only and sealed): the history is kept
    # there once, not in a second table.
    change_basis = models.CharField(_("decision number and symbol"), max_length=40, blank=True,
                                    validators=[decision_number_validator])
    change_basis_date = models.DateField(_("decision date"), null=True, blank=True)
    change_effective_date = models.DateField(_("effective date"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Incident containment of the unit and every unit below it (incidents.services.containment): while
    # set, every account of the subtree — also one created or moved there later — is refused sign-in
    # and lookups (accounts.permissions.account_access_refusal). The history is the incidents app's.
    contained_at = models.DateTimeField(_("contained since"), null=True, blank=True)
    contained_reason = models.CharField(_("reason contained"), max_length=300, blank=True)
    # Chosen at containment: the subtree's accounts are also deactivated in the connected systems that
    # keep their own accounts (SCIM and manual targets); accounts.permissions.account_deactivated_by_containment.
    contained_targets_deactivated = models.BooleanField(_("deactivated in the connected systems"), default=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        indexes = [
            models.Index(fields=["path"], name="unit_path_prefix", opclasses=["varchar_pattern_ops"]),
            # Contained units are few: the refusal asks for all of them on every request.
            models.Index(fields=["contained_at"], name="unit_contained", condition=models.Q(contained_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state=UnitState.MERGED) | models.Q(merged_into__isnull=False),
                name="unit_merged_has_target",
            ),
            models.CheckConstraint(
                condition=models.Q(change_effective_date__isnull=True) | models.Q(change_basis_date__isnull=True)
                | models.Q(change_effective_date__gte=models.F("change_basis_date")),
                name="unit_change_effective_after_decision",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    @property
    def is_active(self) -> bool:
        return self.state == UnitState.ACTIVE


def unit_contents_digest(account_ids, sub_unit_ids) -> str:
    """A fingerprint of what a merge moves (the unit's accounts and direct sub-units, by id): the
    preview shows it, the merge compares it, so one account out and another in is seen as a change
    even when the counts stay the same."""
    import hashlib

    text = ",".join(str(pk) for pk in sorted(account_ids)) + "|" + ",".join(str(pk) for pk in sorted(sub_unit_ids))
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def normalise_password(password):
    """Unicode NFC (NIST 800-63B 5.1.1.2): "Mật khẩu" typed on macOS or with some Vietnamese input
    methods arrives decomposed (NFD: a + combining marks) and must be the same password as the
    precomposed one typed on Windows. Every path that sets, checks or judges a password uses this."""
    if password is None:
        return None
    return unicodedata.normalize("NFC", password)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Usernames are stored lower-case (a CHECK constraint), so "Demo.Officer" is found as
        # "demo.officer" through the unique index; `iexact` would scan the table (UPPER(username)) on
        # every login — 80 ms at 200,000 accounts. The unit comes along for the login's audit event.
        return self.select_related("unit").get(username=normalise_username(username))


class User(AbstractBaseUser):
    username = models.CharField(_("username"), max_length=64, unique=True, validators=[username_validator])
    full_name = models.CharField(_("full name"), max_length=150)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="accounts")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OFFICER)
    can_lookup = models.BooleanField(_("may look up citizens"), default=False)

    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("reason disabled"), max_length=300, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # When the account was last enabled again: the dormancy clock of an account that never signed in
    # since starts here (as it starts at creation), not at a login years ago.
    enabled_at = models.DateTimeField(_("enabled again at"), null=True, blank=True)
    # Incident containment of this account (incidents.services.containment); see Unit.contained_at.
    contained_at = models.DateTimeField(_("contained since"), null=True, blank=True)
    contained_reason = models.CharField(_("reason contained"), max_length=300, blank=True)
    contained_targets_deactivated = models.BooleanField(_("deactivated in the connected systems"), default=False)

    # Letter point 3: the default (one-time) password is changed at first login and expires unused;
    # every password is changed at least every 3 months.
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    password_change_reason = models.CharField(
        _("must change password because"), max_length=16, choices=PasswordChangeReason.choices, blank=True, default=""
    )
    one_time_password_expires_at = models.DateTimeField(_("one-time password expires at"), null=True, blank=True)
    # Whether the officer chose the current password (policy.services.password_change) rather than the
    # IT Center (one-time, reset) or the operator (seed_demo): only an own choice starts the minimum
    # age, which is there so the history cannot be cycled through.
    password_set_by_self = models.BooleanField(_("password chosen by its owner"), default=False)

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["username"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.CheckConstraint(condition=models.Q(username=Lower("username")), name="user_username_lower"),
        ]
        indexes = [models.Index(fields=["unit", "role"]), models.Index(fields=["password_changed_at"])]

    def __str__(self):
        return f"{self.full_name} ({self.username})" if self.full_name else self.username

    # No Django admin site: every change goes through the services so that it is audited.
    is_staff = False
    is_superuser = False

    @property
    def is_it_admin(self) -> bool:
        return self.role == Role.IT_ADMIN

    @property
    def is_inspector(self) -> bool:
        return self.role == Role.INSPECTOR

    @property
    def is_unit_leader(self) -> bool:
        return self.role == Role.UNIT_LEADER

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.IT_ADMIN, Role.INSPECTOR)

    @property
    def has_one_time_password(self) -> bool:
        return self.password_change_reason == PasswordChangeReason.ONE_TIME

    def set_password(self, raw_password):
        super().set_password(normalise_password(raw_password))

    def check_password(self, raw_password):
        """Checks the NFC form. A hash set before passwords were normalised may be of the decomposed
        form the person typed then: that still opens the account once, and is rehashed as NFC."""
        if super().check_password(normalise_password(raw_password)):
            return True
        if raw_password is None or raw_password == normalise_password(raw_password):
            return False
        if not super().check_password(raw_password):
            return False
        self.set_password(raw_password)
        self.save(update_fields=["password"])
        return True

    def one_time_password_expired(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.has_one_time_password
            and self.one_time_password_expires_at is not None
            and self.one_time_password_expires_at <= now
        )

    def password_expires_at(self, max_age_days: int):
        if self.password_changed_at is None:
            return None
        return self.password_changed_at + timedelta(days=max_age_days)


class HandoverRecord(models.Model):
    """Letter point 3: a password is never disclosed without a signed handover record (biên bản
    bàn giao). The record names the account, officer, unit and who handed it over; the one-time
    password itself is handed over separately and is never stored here."""

    # "0004/BB-TTCNTT": numbered from 1 each year (accounts/documents.py), so a number recurs across
    # years (the record's date tells them apart) and is not unique on its own.
    number = models.CharField(_("record number"), max_length=32, db_index=True)
    account = models.ForeignKey(User, on_delete=models.PROTECT, related_name="handover_records")
    reason = models.CharField(_("reason"), max_length=16, choices=HandoverReason.choices)
    # Snapshots: the record keeps the unit and names as they were on the day it was issued.
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    unit_name = models.CharField(max_length=200)
    unit_code = models.CharField(max_length=13)
    officer_name = models.CharField(max_length=150)
    username = models.CharField(max_length=64)
    issued_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_by_name = models.CharField(max_length=150)
    issued_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("handover record")
        verbose_name_plural = _("handover records")

    def __str__(self):
        return self.number


class AccountSession(AbstractBaseSession):
    """Django's database session with the account it belongs to (Django's documented way to extend
    the session model), so that every session of an account can be ended at once — for good: the
    rows are deleted, and re-enabling the account brings none of them back."""

    account_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # What the "your sessions" page lists, copied from the session data at each save (the store writes
    # the whole row every time): the browser, the address at the sign-in, when it started and was last used.
    user_agent = models.CharField(max_length=255, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        from ..session_store import SessionStore

        return SessionStore


class RecoveryCode(models.Model):
    """One of the ten one-time recovery codes of an account's second factor, kept only as a keyed hash
    (HMAC-SHA256 with a key derived from SECRET_KEY): django-otp's StaticToken would keep them in
    clear. A code has 50 random bits, so a fast keyed hash is enough; a used code keeps its row with
    `used_at`, and is accepted once by a conditional UPDATE."""

    account = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "code_hash"], name="recovery_code_unique")]


class DormancyExemption(models.Model):
    """A service account that may stay unused (a monitoring login, a standby admin): the IT Center
    exempts it from the dormant-account pass, with a reason and an end date — never for ever."""

    account = models.ForeignKey(User, on_delete=models.PROTECT, related_name="dormancy_exemptions")
    reason = models.CharField(_("reason"), max_length=300)
    expires_at = models.DateTimeField(_("exempt until"))
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    granted_by_name = models.CharField(max_length=150)
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = _("dormancy exemption")
        verbose_name_plural = _("dormancy exemptions")
        indexes = [models.Index(fields=["account", "expires_at"])]


# Turnover requests (with holidays and roster imports) and recertification live in modules of their own
# (accounts/models/turnover.py, recertification.py); re-exported, so `from accounts.models import …` finds all.
from ..confirmation_models import AdminConfirmation  # noqa: E402, F401
from ..documents import DocumentCounter  # noqa: E402, F401
from .recertification import (  # noqa: E402, F401
    RecertificationCampaign,
    RecertificationItem,
    RecertificationReminder,
)
from .turnover import (  # noqa: E402, F401
    Holiday,
    RosterImport,
    TurnoverConfirmation,
    TurnoverLine,
    TurnoverRequest,
)
