from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Security incidents")
    default_auto_field = "django.db.models.BigAutoField"

    def audit_detail_labels(self):
        """How the audit log names this app's fields in an event's details (audit imports no app)."""
        from .choices import IncidentCategory, IncidentState, Severity

        labels = {
            "incident": _("Incident"), "state": _("Stage"), "category": _("Category"), "severity": _("Severity"),
            "steps": _("Steps"), "accounts_contained": _("Accounts contained"), "api_clients": _("API clients"),
            "evidence": _("Evidence file"), "rule_set": _("Deadline rules version"), "obligation": _("Obligation"),
            "handler": _("Handled by"),
        }
        return labels, {"state": IncidentState, "category": IncidentCategory, "severity": Severity}
