"""Four eyes on the keys: an IT administrator account created by a person stays disabled until a
second IT administrator (not the one who created it) confirms it by enabling it. The server's command
line (`create_account`, a named system actor) is the break-glass that needs no second person."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AdminConfirmation(models.Model):
    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="admin_confirmation")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "accounts"
        verbose_name = _("IT administrator confirmation")
