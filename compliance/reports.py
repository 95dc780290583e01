"""The monthly compliance report: its figures (from the month's snapshots only) and its three forms —
printable HTML, PDF (fpdf2, portal/pdf.py: the DejaVu fonts of portal/fonts embedded for Vietnamese text) and
XLSX (openpyxl). Made once and stored as made (services.monthly_reports_generate)."""
import io
from datetime import date

from django.db.models import Max, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Unit
from policy.compliance import ComplianceReason
from portal.pdf import pdf_document, pdf_letterhead, pdf_signatures, place_date

from .models import UnitSnapshot
from .points import points_pdf, points_sheet
from .selectors import month_bounds, thresholds_current, zone_of


def _score(total, compliant):
    return round(100 * compliant / total, 1) if total else None


def report_figures_all(month: date, *, seal_digest: str, generated_at):
    """The figures of every unit's report for the month, in a few queries for all units together: each
    unit's snapshot of the month's last day with figures, the units below it, the month's daily scores
    and activity sums."""
    first, last = month_bounds(month)
    last_day = UnitSnapshot.objects.filter(day__gte=first, day__lte=last).aggregate(day=Max("day"))["day"]
    if last_day is None:
        return
    thresholds = thresholds_current()
    root = Unit.objects.filter(parent__isnull=True).order_by("path").values_list("pk", flat=True).first()
    ends = list(UnitSnapshot.objects.filter(day=last_day).order_by("unit_path"))
    sums = {row["unit_id"]: row for row in UnitSnapshot.objects.filter(day__gte=first, day__lte=last).order_by()
            .values("unit_id").annotate(allowed=Sum("lookups_allowed"), refused=Sum("lookups_refused"),
                                        lockouts=Sum("lockouts"))}
    daily = {}
    for unit_id, day, total, compliant in (UnitSnapshot.objects.filter(day__gte=first, day__lte=last)
                                           .order_by("day").values_list("unit_id", "day", "accounts_total",
                                                                        "accounts_compliant")):
        daily.setdefault(unit_id, []).append([day.isoformat(), _score(total, compliant)])
    children = {}
    by_path = {row.unit_path: row for row in ends}
    for row in ends:
        parent_path = row.unit_path.rsplit("/", 2)[0] + "/"
        if parent_path in by_path and parent_path != row.unit_path:
            children.setdefault(by_path[parent_path].unit_id, []).append(row)
    reason_labels = dict(ComplianceReason.choices)
    for row in ends:
        activity = sums.get(row.unit_id, {})
        yield {
            "month": month.strftime("%Y-%m"),
            "month_label": month.strftime("%m/%Y"),
            "day": last_day.isoformat(),
            "unit": {"id": row.unit_id, "code": row.unit_code, "name": row.unit_name, "path": row.unit_path},
            "is_province": row.unit_id == root,
            "accounts_total": row.accounts_total,
            "accounts_compliant": row.accounts_compliant,
            "score": row.score,
            "zone": zone_of(row.score, thresholds),
            "thresholds": [thresholds.good_from, thresholds.attention_from],
            "reasons": [[reason, str(reason_labels[reason]), getattr(row, reason)]
                        for reason in ComplianceReason.values if reason not in row.rules_not_judged],
            "not_judged": [str(reason_labels[reason]) for reason in row.rules_not_judged],
            "children": [[child.unit_code, child.unit_name, child.accounts_total, child.accounts_compliant,
                          child.score] for child in sorted(children.get(row.unit_id, []),
                                                           key=lambda c: (c.score is None, c.score or 0))],
            "daily": daily.get(row.unit_id, []),
            "lookups_allowed": activity.get("allowed") or 0,
            "lookups_refused": activity.get("refused") or 0,
            "lockouts": activity.get("lockouts") or 0,
            "seal_digest": seal_digest,
            "generated_at": timezone.localtime(generated_at).strftime("%d/%m/%Y %H:%M"),
        }


def _zone_label(zone):
    return {"good": _("Good"), "attention": _("Needs attention"), "bad": _("Bad")}.get(zone or "", "—")


def _pct(value):
    return "—" if value is None else f"{value:.1f}%".replace(".", ",")


def _place_date(figures: dict) -> str:
    """The report's own issuer's place and its day (portal.pdf.place_date)."""
    if not figures.get("issuer") or not figures.get("issued_on"):
        return ""
    return place_date(figures["issuer"]["place"], date.fromisoformat(figures["issued_on"]))


def report_heading(*, number: str, issued_on: date) -> dict:
    """What makes the figures an official report: its number and day, and the issuer as configured
    then (portal/documents.py) — stored with the figures, so the report says what it said."""
    from dataclasses import asdict

    from portal.documents import document_issuer

    return {"number": number, "issued_on": issued_on.isoformat(), "issuer": asdict(document_issuer())}


def report_html(figures: dict) -> str:
    return render_to_string("compliance/report_document.html", {
        "r": figures, "place_date": _place_date(figures), "zone_label": _zone_label(figures["zone"]), "score": _pct(figures["score"]),
        "day": date.fromisoformat(figures["day"]).strftime("%d/%m/%Y"),
        "children": [[code, name, total, compliant, _pct(score)] for code, name, total, compliant, score
                     in figures["children"]],
    })


def report_pdf(figures: dict) -> bytes:
    pdf = pdf_document(title=f"{_('Monthly compliance report')} {figures['month_label']} — {figures['unit']['name']}")
    if figures.get("issuer"):
        pdf_letterhead(pdf, issuer=figures["issuer"], number=figures["number"], place_and_date=_place_date(figures),
                       kind=_("REPORT"), subject=[
                           _("Compliance with the account security rules in %(month)s") % {
                               "month": figures["month_label"]}, figures["unit"]["name"]])
    else:
        pdf.set_font("DejaVu", "B", 15)
        pdf.multi_cell(0, 8, _("Monthly compliance report"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    lines = [
        f"{_('Unit')}: {figures['unit']['name']} ({figures['unit']['code']})",
        f"{_('Month')}: {figures['month_label']}   ·   {_('Figures of')} {date.fromisoformat(figures['day']):%d/%m/%Y}",
        f"{_('Score')}: {_pct(figures['score'])} ({_zone_label(figures['zone'])})   ·   "
        f"{_('Complying accounts')}: {figures['accounts_compliant']}/{figures['accounts_total']}",
        f"{_('Lookups allowed')}: {figures['lookups_allowed']}   ·   {_('Lookups refused')}: {figures['lookups_refused']}"
        f"   ·   {_('Lockouts')}: {figures['lockouts']}",
    ]
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 7, _("Accounts that do not comply, by reason"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    with pdf.table(col_widths=(150, 30), text_align=("LEFT", "RIGHT")) as table:
        table.row([_("Reason"), _("Accounts")])
        for _code, label, count in figures["reasons"]:
            table.row([label, str(count)])
    if figures["not_judged"]:
        pdf.multi_cell(0, 6, _("Not judged this month (the rule is not in effect yet)") + ": "
                       + "; ".join(figures["not_judged"]), new_x="LMARGIN", new_y="NEXT")
    if figures["children"]:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 12)
        pdf.cell(0, 7, _("Units below"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(col_widths=(30, 90, 25, 25, 20), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")) as t:
            t.row([_("Unit code"), _("Unit"), _("Accounts"), _("Complying"), _("Score")])
            for code, name, total, compliant, score in figures["children"]:
                t.row([code, name, str(total), str(compliant), _pct(score)])
    points_pdf(pdf, figures)
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 5, f"{_('Generated at')} {figures['generated_at']}. {_('Newest audit seal')}: "
                   f"{figures['seal_digest'] or _('none yet')}", new_x="LMARGIN", new_y="NEXT")
    if figures.get("issuer"):
        pdf_signatures(pdf, issuer=figures["issuer"], recipients=[
            f"- {figures['unit']['name']};", "- " + _("The Department's Inspectorate (to follow up);"),
            "- " + _("Archived: Records office, %(abbreviation)s.") % {"abbreviation": figures["issuer"]["abbreviation"]}])
    return bytes(pdf.output())


def report_xlsx(figures: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from portal.exports import cell_guarded

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Summary")[:31]
    bold = Font(bold=True)
    sheet.append([_("Monthly compliance report")])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in ((_("Unit"), figures["unit"]["name"]), (_("Unit code"), figures["unit"]["code"]),
                         (_("Month"), figures["month_label"]), (_("Score (%)"), figures["score"]),
                         (_("Zone"), _zone_label(figures["zone"])), (_("Active accounts"), figures["accounts_total"]),
                         (_("Complying"), figures["accounts_compliant"]),
                         (_("Lookups allowed"), figures["lookups_allowed"]),
                         (_("Lookups refused"), figures["lookups_refused"]), (_("Lockouts"), figures["lockouts"]),
                         (_("Generated at"), figures["generated_at"]),
                         (_("Newest audit seal"), figures["seal_digest"] or _("none yet"))):
        sheet.append([cell_guarded(label), cell_guarded(value)])
    sheet.append([])
    sheet.append([_("Reason"), _("Accounts")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for _code, label, count in figures["reasons"]:
        sheet.append([cell_guarded(label), count])
    sheet.column_dimensions["A"].width = 60
    units = workbook.create_sheet(_("Units below")[:31])
    units.append([_("Unit code"), _("Unit"), _("Accounts"), _("Complying"), _("Score (%)")])
    for code, name, total, compliant, score in figures["children"]:
        units.append([cell_guarded(code), cell_guarded(name), total, compliant, score])
    days = workbook.create_sheet(_("Daily scores")[:31])
    days.append([_("Day"), _("Score (%)")])
    for day, score in figures["daily"]:
        days.append([date.fromisoformat(day).strftime("%d/%m/%Y"), score])
    points_sheet(workbook, figures)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_render(figures: dict) -> tuple[str, bytes, bytes]:
    return report_html(figures), report_pdf(figures), report_xlsx(figures)
