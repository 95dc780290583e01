from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemKind(models.TextChoices):
    OIDC = "oidc", _("Signs in through the portal (OpenID Connect)")
    SCIM = "scim", _("Receives account changes (SCIM 2.0)")
    MANUAL = "manual", _("Changed by hand (task for the IT Center)")


class DeliveryKind(models.TextChoices):
    BACKCHANNEL_LOGOUT = "backchannel_logout", _("Sign-out (back-channel logout)")
    SCIM_PUSH = "scim_push", _("Account update (SCIM)")
    MANUAL_TASK = "manual_task", _("Manual task")


class DeliveryState(models.TextChoices):
    READY = "ready", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class AccessEndReason(models.TextChoices):
    """Why an account's access ended in the connected systems (a delivery keeps it)."""

    SIGNED_OUT = "signed_out", _("Signed out of the portal")
    SESSION_ENDED = "session_ended", _("Session ended")
    SESSIONS_ENDED = "sessions_ended", _("Every session ended")
    OTHER_SESSIONS_ENDED = "other_sessions_ended", _("Other sessions ended after a password change")
    ACCOUNT_DISABLED = "account_disabled", _("Account disabled or refused")
