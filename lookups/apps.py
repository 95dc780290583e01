from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LookupsConfig(AppConfig):
    name = "lookups"
    verbose_name = _("Citizen lookups")
    default_auto_field = "django.db.models.BigAutoField"

    def audit_detail_labels(self):
        """How the audit log names this app's fields in an event's details."""
        from .choices import QuotaWindow

        labels = {"lookup": _("Lookup"), "dossier_code": _("Dossier code"), "client": _("Connected system"),
                  "token_prefix": _("Token (first characters)"), "window": _("Quota window")}
        return labels, {"window": QuotaWindow}
