from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LookupsConfig(AppConfig):
    name = "lookups"
    verbose_name = _("Citizen lookups")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)

    def audit_detail_labels(self):
        """How the audit log names this app's fields in an event's details."""
        from .choices import AnomalyKind, QuotaWindow

        labels = {"lookup": _("Lookup"), "dossier_code": _("Dossier code"), "client": _("Connected system"),
                  "token_prefix": _("Token (first characters)"), "window": _("Quota window"),
                  "anomaly": _("Anomaly"), "decided_at": _("Time of the lookup"), "used": _("Lookups used"),
                  "limit": _("Limit"), "citizens": _("Different citizens"), "officers": _("Different officers"),
                  "threshold": _("Threshold"), "hours": _("Within (hours)"),
                  "province_code": _("Province code of the ID"), "province": _("Province of birth registration"),
                  "local_time": _("Local time"), "working_day": _("Working day"),
                  "turnover_request": _("Turnover request"), "officer": _("Officer"), "format": _("File format"),
                  "rows": _("Rows"), "date_from": _("From"), "date_to": _("To"),
                  "shadow": _("Shadow mode")}
        return labels, {"window": QuotaWindow, "anomaly": AnomalyKind}
