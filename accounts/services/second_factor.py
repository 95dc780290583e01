"""The second factor (TOTP, django-otp's TOTPDevice) of the accounts that need one (policy.selectors.
second_factor_required): enrolment confirmed by a first code, verification (a code accepted once:
django-otp keeps the last accepted time step, `last_t`, and refuses it and anything before it), the ten
one-time recovery codes (kept only as keyed hashes), and the re-enrolment an IT admin orders.

The TOTP key itself stays readable in `otp_totp_totpdevice.key` (it must be, to compute the codes):
protected by the database role and the encrypted backups (deploy/), like the password hashes beside
it. Encrypting it with a key from the environment would move, not remove, the secret (the web process
holds both), and would fork django-otp's model; not done (README, "Sign-in")."""
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import DomainError, NotAllowed

from ..choices import SignInFactor
from ..models import RecoveryCode, User
from ..permissions import ensure_it_admin
from .lifecycle import sessions_end_for

DEVICE_NAME = "TOTP"
# Lower-case letters and digits without the look-alikes (0/o, 1/l/i): ten of them are ~49 random bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10
_RECOVERY_SALT = "accounts.recovery_code"


def totp_device_confirmed(account: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=account, confirmed=True).order_by("id").first()


def second_factor_enrolled(account: User) -> bool:
    return TOTPDevice.objects.filter(user=account, confirmed=True).exists()


def _enrolment_serialised(account: User) -> None:
    """Enrolments of one account run one at a time (its row locked), and only while it has no app: two
    sessions enrolling at once make one winner and a clear refusal, never a deadlock or a 500."""
    User.objects.select_for_update().filter(pk=account.pk).first()
    if second_factor_enrolled(account):
        raise DomainError(_("The authenticator app of this account has just been set up in another window or "
                            "browser. Sign in again and enter the code that app shows."), code="already_enrolled")


@transaction.atomic
def second_factor_enrolment_start(*, account: User) -> TOTPDevice:
    """A fresh, unconfirmed device with a new random key, for an account without a confirmed one. A key
    shown at an earlier, unfinished enrolment is discarded: only the one on the screen now will work."""
    _enrolment_serialised(account)
    TOTPDevice.objects.filter(user=account, confirmed=False).delete()
    return TOTPDevice.objects.create(user=account, name=DEVICE_NAME, confirmed=False)


def recovery_code_hash(account: User, code: str) -> str:
    return salted_hmac(_RECOVERY_SALT, f"{account.pk}:{code}", algorithm="sha256").hexdigest()


def recovery_code_normalise(typed: str) -> str:
    return "".join(char for char in (typed or "").lower() if char.isalnum())


def looks_like_recovery_code(typed: str) -> bool:
    code = recovery_code_normalise(typed)
    return len(code) == RECOVERY_LENGTH and all(char in RECOVERY_ALPHABET for char in code)


def recovery_codes_issue(*, account: User) -> list[str]:
    """Ten new codes (the old ones stop working), returned once for the page that shows them; the
    table keeps only their keyed hashes."""
    RecoveryCode.objects.filter(account=account).delete()
    codes = []
    for _index in range(settings.RECOVERY_CODE_COUNT):
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _position in range(RECOVERY_LENGTH))
        codes.append(code)
    RecoveryCode.objects.bulk_create([RecoveryCode(account=account, code_hash=recovery_code_hash(account, code))
                                      for code in codes])
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_codes_left(account: User) -> int:
    return RecoveryCode.objects.filter(account=account, used_at__isnull=True).count()


@transaction.atomic
def second_factor_enrolment_confirm(*, account: User, device_id: int, token: str) -> list[str] | None:
    """The first code from the app confirms the device shown at enrolment: it becomes the account's
    second factor, and ten recovery codes are issued (returned once). None when the code is wrong;
    refused (DomainError "already_enrolled") when another session enrolled the account first."""
    _enrolment_serialised(account)
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=account, confirmed=False).first()
    if device is None or not _code_shaped(token) or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=account).exclude(pk=device.pk).delete()
    codes = recovery_codes_issue(account=account)
    audit_event_record(kind=EventKind.SECOND_FACTOR_ENROLLED, actor=account, target=account,
                       details={"recovery_codes_left": len(codes)})
    return codes


def _code_shaped(token: str) -> bool:
    return len(token) == 6 and token.isascii() and token.isdigit()


@transaction.atomic
def second_factor_verify(*, account: User, token: str) -> str | None:
    """The factor that matched (SignInFactor.TOTP or RECOVERY_CODE), or None. A TOTP code is accepted
    once: the device row is locked and its `last_t` moves past the accepted step, so the same code (or
    an older one) fails afterwards, also from a second request at the same moment. A recovery code is
    spent by one conditional UPDATE: of two requests with it, one wins."""
    token = (token or "").strip().replace(" ", "")
    if _code_shaped(token):
        device = TOTPDevice.objects.select_for_update().filter(user=account, confirmed=True).order_by("id").first()
        if device is not None and device.verify_token(token):
            return SignInFactor.TOTP
        return None
    if looks_like_recovery_code(token):
        spent = RecoveryCode.objects.filter(
            account=account, code_hash=recovery_code_hash(account, recovery_code_normalise(token)),
            used_at__isnull=True).update(used_at=timezone.now())
        if spent == 1:
            return SignInFactor.RECOVERY_CODE
    return None


@transaction.atomic
def second_factor_reset(*, actor, account: User, reason: str = "") -> None:
    """An IT admin removes an account's authenticator app and recovery codes (a lost phone): the
    account enrols again at its next sign-in, and every session of it ends now. Not one's own: a
    stolen session must not be able to re-bind the second factor of the account it holds."""
    ensure_it_admin(actor)
    if getattr(actor, "pk", None) == account.pk:
        raise NotAllowed(_("Another IT Center administrator must reset your own authenticator app."))
    account = User.objects.select_for_update().get(pk=account.pk)
    devices, _details = TOTPDevice.objects.filter(user=account).delete()
    RecoveryCode.objects.filter(account=account).delete()
    ended = sessions_end_for(account)
    details = {"sessions_ended": ended}
    if reason:
        details["reason"] = reason
    audit_event_record(kind=EventKind.SECOND_FACTOR_RESET, actor=actor, target=account, details=details)
