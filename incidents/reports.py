"""The incident list as rows for CSV/XLSX, and the figures of the printed report (Decree 30/2020/NĐ-CP
form: the administrative document's layout), prefilled from the record, as a printable page and as a PDF."""
from dataclasses import asdict

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.documents import document_issuer
from portal.pdf import pdf_document, pdf_heading, pdf_letterhead, pdf_paragraph, pdf_signatures, place_date

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


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M") if moment else "—"


def incident_report_pdf(incident, *, draft_code: str = "") -> bytes:
    """The printed report (or the notification draft of one obligation) as a PDF file: the same content
    as the printable page, in the administrative document's layout (portal/pdf.py, fonts embedded)."""
    context = report_context(incident, draft_code=draft_code)
    draft, issuer = context["draft"], asdict(document_issuer())
    kind = _("NOTIFICATION") if draft else _("REPORT")
    subject = draft.label if draft else _("Network information security incident")
    pdf = pdf_document(title=f"{kind} {incident.number}")
    pdf_letterhead(pdf, issuer=issuer, number=f"……/{'TB' if draft else 'BC'}-{issuer['abbreviation']}",
                   place_and_date=place_date(issuer["place"], timezone.localdate(context["printed_at"])),
                   kind=kind, subject=[f"{subject} — {incident.number}"])
    if draft:
        pdf_paragraph(pdf, f"{_('Addressed to')}: {draft.authority or '……'}", size=11)
        pdf_paragraph(pdf, f"{_('Legal basis')}: {draft.legal_basis}. {_('Due by')}: {_when(draft.due_at)}.")
    pdf_heading(pdf, "1. " + _("The incident"))
    facts = [
        (_("Title"), incident.title), (_("Category"), incident.get_category_display()),
        (_("Severity"), incident.get_severity_display()), (_("Stage"), incident.get_state_display()),
        (_("Discovered at"), _when(incident.discovered_at)), (_("Occurred at"), _when(incident.occurred_at)),
        (_("Units concerned"), "; ".join(f"{unit.name} ({unit.code})" for unit in context["units"]) or "—"),
        (_("Systems concerned"), "; ".join(incident.systems) or "—"),
        (_("Reported by"), f"{incident.reporter_name}, {_when(incident.created_at)}"),
        (_("Handled by"), incident.handler.full_name if incident.handler else "—"),
    ]
    with pdf.table(col_widths=(45, 130), first_row_as_headings=False) as table:
        for label, value in facts:
            table.row([label, str(value)])
    pdf_heading(pdf, "2. " + _("Personal data involved"))
    personal = _("Yes") if incident.involves_personal_data else _("No")
    if incident.personal_data_categories:
        personal += f" — {incident.personal_data_categories}"
    if incident.citizens_affected is not None:
        personal += " — " + ngettext("about %(count)s citizen", "about %(count)s citizens",
                                     incident.citizens_affected) % {"count": incident.citizens_affected}
    pdf_paragraph(pdf, personal)
    pdf_heading(pdf, "3. " + _("What happened"))
    pdf_paragraph(pdf, incident.description or "……")
    pdf_heading(pdf, "4. " + _("Actions taken"))
    pdf_paragraph(pdf, incident.actions_taken or "……")
    for containment in context["containments"]:
        target = (f"{containment.unit.name} ({containment.unit.code})" if containment.unit_id
                  else containment.account.username)
        lifted = f", {_('lifted')} {_when(containment.lifted_at)}" if containment.lifted_at else ""
        pdf_paragraph(pdf, f"- {containment.get_target_display()}: {target} — {_when(containment.started_at)}{lifted}")
    if not draft:
        pdf_heading(pdf, "5. " + _("Lessons learned"))
        pdf_paragraph(pdf, incident.lessons_learned or "……")
        pdf_heading(pdf, "6. " + _("Deadlines"))
        for deadline in context["deadlines"]:
            due = _when(deadline.due_at) if deadline.due_at else _("starts when the response ends")
            met = f" — {_('done')} {_when(deadline.met_at)}" if deadline.met_at else ""
            pdf_paragraph(pdf, f"- {deadline.label}: {due}{met} ({deadline.legal_basis})")
    pdf_signatures(pdf, issuer=issuer, recipients=[
        f"- {(draft.authority or '……') if draft else '……'};",
        "- " + _("Archived: Records office, %(abbreviation)s.") % {"abbreviation": issuer["abbreviation"]}])
    return bytes(pdf.output())
