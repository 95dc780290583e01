from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LetterConfig(AppConfig):
    """The rest of the letter: directives and their acknowledgements (point 1), the endpoint-protection
    register (point 4) and inspections with findings and remediation deadlines (point 5)."""

    name = "letter"
    verbose_name = _("Directives, endpoints and inspections")
    default_auto_field = "django.db.models.BigAutoField"

    def audit_detail_labels(self):
        """How the audit log names this app's fields in its events (audit asks every app; it imports none)."""
        labels = {
            "directive": _("Directive"), "version": _("Version"), "material": _("Material change"),
            "due_date": _("Due date"), "method": _("How"), "note": _("Note"), "on_behalf_of": _("On behalf of"),
            "rows": _("Rows"), "created": _("Created"), "updated": _("Updated"), "file": _("File"),
            "inspection": _("Inspection"), "fix": _("Required fix"), "point": _("Letter point"),
            "severity": _("Severity"), "deadline": _("Deadline"), "asset_tag": _("Asset tag"), "date": _("Date"),
            "state": _("State"), "reminders": _("Reminders"), "overdue": _("Overdue"), "escalations": _("Escalations"),
        }
        return labels, {}
