"""The incident list as rows for CSV/XLSX, and the figures of the printed report (Decree 30/2020/NĐ-CP
form: the administrative document's layout), prefilled from the record."""
from django.utils import timezone
from django.utils.translation import gettext as _

from .deadlines import incident_deadlines


def incident_rows(incidents):
    header = [_("Incident number"), _("Title"), _("Category"), _("Severity"), _("Stage"), _("Discovered at"),
              _("Occurred at"), _("Units concerned"), _("Systems concerned"), _("Personal data involved"),
              _("About how many citizens"), _("Reported by"), _("Handled by"), _("Response ended at"), _("Closed at")]

    def rows():
        for incident in incidents:
            yield [incident.number, incident.title, incident.get_category_display(), incident.get_severity_display(),
                   incident.get_state_display(), incident.discovered_at, incident.occurred_at,
                   "; ".join(f"{unit.name} ({unit.code})" for unit in incident.units.all()),
                   "; ".join(incident.systems), incident.involves_personal_data, incident.citizens_affected,
                   incident.reporter_name, incident.handler.full_name if incident.handler else "",
                   incident.response_ended_at, incident.closed_at]

    return header, rows()


def report_context(incident, *, draft_code: str = "") -> dict:
    """What the printed report (or a notification draft for one obligation) says."""
    deadlines = incident_deadlines(incident)
    draft = next((d for d in deadlines if d.code == draft_code), None) if draft_code else None
    return {"incident": incident, "deadlines": deadlines, "draft": draft, "printed_at": timezone.now(),
            "units": list(incident.units.all()), "containments": list(incident.containments.select_related(
                "account", "unit"))}
