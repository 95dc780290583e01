from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    IT_ADMIN = "it_admin", _("IT Center administrator")
    INSPECTOR = "inspector", _("Department inspector")
    UNIT_LEADER = "unit_leader", _("Unit leader")
    OFFICER = "officer", _("Officer")


class SignInFactor(models.TextChoices):
    """What was checked at a sign-in step: the events say which factor failed or was used."""

    PASSWORD = "password", _("Password")
    TOTP = "totp", _("Code from the authenticator app")
    RECOVERY_CODE = "recovery_code", _("Recovery code")


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("Province")
    DEPARTMENT = "department", _("Department")
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    WARD = "ward", _("Ward")
    COMMUNE = "commune", _("Commune")
    TOWN = "town", _("Town")
    IT_CENTER = "it_center", _("IT Center")


class UnitState(models.TextChoices):
    ACTIVE = "active", _("Active")
    MERGED = "merged", _("Merged into another unit")
    RETIRED = "retired", _("Retired")


class PasswordChangeReason(models.TextChoices):
    """Why an account must change its password before doing anything else."""

    NONE = "", _("None")
    ONE_TIME = "one_time", _("Awaiting the first password change")
    EXPIRED = "expired", _("Password expired")
    FORCED = "forced", _("Change forced by an administrator")


class HandoverReason(models.TextChoices):
    CREATED = "created", _("Account created")
    RESET = "reset", _("Password reset")


class AccountState(models.TextChoices):
    """Filter values of the account list; derived, not stored."""

    ACTIVE = "active", _("Active")
    DISABLED = "disabled", _("Disabled")
    MUST_CHANGE = "must_change", _("Must change password")
    EXPIRING = "expiring", _("Password expiring")
    EXPIRED = "expired", _("Password expired")
    LOCKED = "locked", _("Locked")


class TurnoverState(models.TextChoices):
    """Letter point 2: a unit's official request to remove or change accounts, tracked to its execution."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the IT Center")
    RETURNED = "returned", _("Returned to the unit")
    ACCEPTED = "accepted", _("Accepted, awaiting its effective date")
    EXECUTED = "executed", _("Executed")
    # Executed, and every connected system concerned has confirmed (docs/federation.md, "Turnover measured
    # to the end"): the letter's point 2 is met only here.
    COMPLETE = "complete", _("Complete in every connected system")
    CANCELLED = "cancelled", _("Cancelled")


# Executed here, whether or not every connected system has confirmed yet.
TURNOVER_EXECUTED_STATES = (TurnoverState.EXECUTED, TurnoverState.COMPLETE)


class TurnoverAction(models.TextChoices):
    DISABLE = "disable", _("Disable the account")
    CHANGE_ROLE = "change_role", _("Change the role")
    CHANGE_LOOKUP = "change_lookup", _("Change the right to look up citizens")
    MOVE = "move", _("Move to another unit")
    CREATE = "create", _("Create an account for a newcomer")


class DepartureReason(models.TextChoices):
    LEFT = "left", _("Left the unit")
    RETIRED = "retired", pgettext_lazy("an officer who left", "Retired")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out of the province")
    LONG_LEAVE = "long_leave", _("Long leave")
    DUTIES_CHANGED = "duties_changed", _("No longer handles dossiers")


class EventReason(models.TextChoices):
    """Machine reasons some events record (details["reason"]); the audit log shows their labels.
    Free-text reasons typed by an administrator are shown as typed."""

    ONE_TIME_PASSWORD_EXPIRED = "one_time_password_expired", _("The one-time password had expired")
    UNIT_MERGED = "unit_merged", _("The unit was merged into another")
    # Why a sign-in was refused before the password was checked (accounts.services.signin).
    LOCKED = "locked", _("The username was locked after failed sign-ins")
    ADDRESS_BLOCKED = "address_blocked", _("The address was blocked after many failed sign-ins")
    MALFORMED = "malformed", _("No account can have such a username")


class RecertificationDecision(models.TextChoices):
    PENDING = "pending", _("Not reviewed yet")
    KEEP = "keep", _("Still needed as it is")
    CHANGE = "change", _("Needed, with changes")
    REMOVE = "remove", _("No longer needed")


class RecertificationOutcome(models.TextChoices):
    """What happens at a campaign's end to the accounts nobody certified (a visible policy choice).
    Silence must not quietly keep access to citizen data: the default withdraws the lookup right."""

    WITHDRAW_LOOKUP = "withdraw_lookup", _("Withdraw the right to look up citizens")
    DISABLE = "disable", _("Disable the account")
    KEEP_AND_FLAG = "keep_and_flag", _("Keep the account and flag it as uncertified")
