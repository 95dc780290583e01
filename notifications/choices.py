from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    """What a notice is about. Its templates are notifications/email/<value>_subject.txt, .txt, .html."""

    PASSWORD_EXPIRY = "password_expiry", _("Password expiry reminder")
    ACCOUNT_LOCKED = "account_locked", _("Account locked")
    ONE_TIME_PASSWORD_ISSUED = "one_time_password_issued", _("One-time password issued")
    TURNOVER_EXECUTED = "turnover_executed", _("Turnover request executed")
    NEW_SIGNIN_ADDRESS = "new_signin_address", _("Sign-in from a new address")
    DORMANT_ACCOUNTS_DISABLED = "dormant_accounts_disabled", _("Unused accounts disabled")
    RECERTIFICATION_REMINDER = "recertification_reminder", _("Accounts left to recertify")
    LEADER_DIGEST = "leader_digest", _("Weekly digest of the units")
    IT_ALERT = "it_alert", _("IT Center alert")
    IT_DAILY = "it_daily", _("IT Center daily report")
    DIRECTIVE = "directive", _("Directive to acknowledge")


# Security notices every holder gets by e-mail (when the account has an address) and in-app, whatever
# they chose; the others follow the holder's preference (in-app always, e-mail when they want it).
MANDATORY_KINDS = frozenset({
    NoticeKind.PASSWORD_EXPIRY, NoticeKind.ACCOUNT_LOCKED, NoticeKind.ONE_TIME_PASSWORD_ISSUED, NoticeKind.IT_ALERT,
})


class DeliveryState(models.TextChoices):
    """The e-mail of a notice (the HackSoft example's outbox): ready → sending → sent | failed, each step a
    conditional UPDATE, so two workers or a redelivered task never send it twice. In-app only: ""."""

    NONE = "", _("In-app only")
    READY = "ready", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("No longer needed")
