"""What the policy app does: change the policy, change and issue passwords."""
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import PasswordChangeReason
from accounts.models import normalise_password
from accounts.permissions import ensure_it_admin
from audit.choices import EventKind
from audit.services import audit_event_record, changes_between
from portal.errors import NotAllowed, PolicyViolation
from portal.text import reject_control_characters

from .models import PasswordHistory, PasswordPolicy
from .selectors import current_policy, password_change_reason, policy_cache_clear

HISTORY_KEPT = 24  # the most any policy may ask for (PasswordPolicy.history_count's maximum)


@transaction.atomic
def policy_update(*, actor, values: dict) -> PasswordPolicy:
    ensure_it_admin(actor, _("Only IT Center administrators may change the password policy."))
    policy = PasswordPolicy.objects.select_for_update().filter(id=PasswordPolicy.SINGLETON_ID).first()
    if policy is None:
        policy = PasswordPolicy.from_defaults()
    old = policy.values()
    for name in PasswordPolicy.EDITABLE_FIELDS:
        if name in values:
            setattr(policy, name, values[name])
    changes = changes_between(old, policy.values())
    if not changes["new"]:
        return policy
    policy.updated_at = timezone.now()
    policy.updated_by = None if getattr(actor, "is_system", False) else actor
    policy.full_clean()
    policy.save()
    audit_event_record(kind=EventKind.POLICY_CHANGED, actor=actor, unit=actor.unit, details=changes)
    # Now for this process, and again after commit in case another request re-read the old row.
    policy_cache_clear()
    transaction.on_commit(policy_cache_clear)
    return policy


def password_history_record(account) -> None:
    """Keep the new hash (never the password) and prune what no policy could ask for."""
    PasswordHistory.objects.create(account=account, password_hash=account.password)
    stale = PasswordHistory.objects.filter(account=account).values_list("id", flat=True)[HISTORY_KEPT:]
    PasswordHistory.objects.filter(id__in=list(stale)).delete()


@transaction.atomic
def password_change(*, actor, account, new_password: str):
    """The officer chooses a new password (self-service). Validators run here, not only in the form,
    so every path that changes a password obeys the same policy."""
    if actor.pk != account.pk:
        raise NotAllowed(_("You may only change your own password."))
    # The validators judge, and the history compares, the password as it is stored: NFC.
    new_password = normalise_password(new_password)
    # Lock the row and judge against its committed state: a reset by the IT Center or a second change
    # in another tab must not be overwritten, nor slip past the history and minimum-age rules.
    locked = get_user_model().objects.select_for_update().get(pk=account.pk)
    for name in ("password", "password_changed_at", "password_change_reason", "one_time_password_expires_at",
                 "password_set_by_self"):
        setattr(account, name, getattr(locked, name))
    required_because = password_change_reason(account)
    try:
        validate_password(new_password, user=account)
    except ValidationError as error:
        raise PolicyViolation.from_validation_error(error, field="new_password") from error
    account.set_password(new_password)
    account.password_changed_at = timezone.now()
    account.password_change_reason = PasswordChangeReason.NONE
    account.one_time_password_expires_at = None
    account.password_set_by_self = True  # this one starts the minimum age
    account.save(update_fields=["password", "password_changed_at", "password_change_reason",
                                "one_time_password_expires_at", "password_set_by_self"])
    password_history_record(account)
    audit_event_record(
        kind=EventKind.PASSWORD_CHANGED, actor=actor, target=account,
        details={"required_because": required_because},
    )
    return account


# One-time passwords avoid look-alike characters (0/O, 1/l/I) because they are read off a screen
# and typed by hand; 14 characters from 4 classes give about 80 bits.
_OTP_ALPHABETS = (
    "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "abcdefghijkmnopqrstuvwxyz",
    "23456789",
    "@#$%&*+=?!",
)
ONE_TIME_PASSWORD_LENGTH = 14


def one_time_password_generate() -> str:
    chars = [secrets.choice(alphabet) for alphabet in _OTP_ALPHABETS]
    everything = "".join(_OTP_ALPHABETS)
    chars += [secrets.choice(everything) for _ in range(ONE_TIME_PASSWORD_LENGTH - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def one_time_password_issue(account) -> str:
    """Set a fresh one-time password on the account (not saved) and return it, to be shown once.
    Letter point 3: it must be changed at first login, and it stops working after its validity."""
    password = normalise_password(one_time_password_generate())  # ASCII today; NFC whatever the alphabets become
    account.set_password(password)
    account.password_change_reason = PasswordChangeReason.ONE_TIME
    account.password_set_by_self = False  # the IT Center set it: it does not start the minimum age
    account.one_time_password_expires_at = timezone.now() + timedelta(hours=current_policy().one_time_password_hours)
    return password


FORCE_REASON_MAX_LENGTH = 300


@transaction.atomic
def password_change_force(*, actor, account, reason: str) -> str:
    """The account must change its password at its next request, whatever its age (a tightened
    policy, a password seen on a shared screen). The officer proves themself with the current
    password, so this is not the answer to a password known to be stolen: that is
    `accounts.services.account_password_reset`, which kills the password and every session at once.

    An account that must already change (a pending one-time password, an expired or already forced
    password) keeps the reason it has — a one-time password keeps its expiry — but the request is still
    recorded with its reason and what was already required: the administrator asked for something on
    the record, and the log must show it. Returns the reason that was already in force, or ""."""
    ensure_it_admin(actor, _("Only IT Center administrators may force a password change."))
    reason = (reason or "").strip()
    try:
        reject_control_characters(reason)
    except ValidationError as error:
        raise PolicyViolation.from_validation_error(error, field="reason") from error
    if not reason or len(reason) > FORCE_REASON_MAX_LENGTH:
        raise PolicyViolation(_("Give a reason of at most %(limit)d characters.") % {
            "limit": FORCE_REASON_MAX_LENGTH}, field="reason", code="reason_invalid")
    locked = get_user_model().objects.select_for_update().get(pk=account.pk)
    already_required = password_change_reason(locked)
    if not locked.password_change_reason:
        locked.password_change_reason = PasswordChangeReason.FORCED
        locked.save(update_fields=["password_change_reason"])
    account.password_change_reason = locked.password_change_reason
    details = {"reason": reason}
    if already_required:
        details["already_required"] = already_required
    audit_event_record(kind=EventKind.PASSWORD_FORCED, actor=actor, target=locked, details=details)
    return already_required
