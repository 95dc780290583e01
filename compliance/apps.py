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
        from django.db import models

        from .exports import LISTS

        # The exported list by its title ("Tài khoản"), not its code ("accounts").
        list_names = models.TextChoices("ExportedList", [(name.upper(), (name, export.title))
                                                         for name, export in LISTS.items()])
        return labels, {"list": list_names}
