from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def audit_detail_labels(self):
        """How the audit log names this app's fields in its events (audit asks every app; it imports none)."""
        labels = {
            "good_from": _("Good from (%)"), "attention_from": _("Needs attention from (%)"),
            "list": _("List"), "rows": _("Rows"), "file_format": _("File format"), "month": _("Month"),
            "reports": _("Reports"),
        }
        return labels, {}
