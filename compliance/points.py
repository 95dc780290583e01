"""Compliance point by point: the letter's five points ("Điểm 1" … "Điểm 5", docs/mandate.md) for a
unit's subtree, each with a status and the evidence behind it, now or as of the end of a past month.

- Điểm 1: the directives that reach the unit — acknowledged / pending / overdue / exempt, and the
  measures the unit's leader stated (letter.selectors);
- Điểm 2: accounts that follow staff changes — turnover requests not executed in time, accounts left
  uncertified, dormant accounts (the daily snapshot);
- Điểm 3: passwords — expired, one-time passwords left unused, second factor missing (the snapshot);
- Điểm 4: the endpoint-protection register — machines unchecked for 90 days, signatures older than 7
  days, unmanaged, not sharing with the monitoring centre (the register as it is now: it keeps no
  history, so a past month shows today's register and says so);
- Điểm 5: lookups within their limits and inspections — lookups refused for quotas, open anomalies, the
  month's lookups, and inspection fixes open past their deadline.

A point is "ok", "attention", "failing" or "no_data"; the snapshot points use the dashboard's zones
(a share of accounts failing), the others count what is against the unit."""
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Unit
from letter import selectors as letter
from letter.choices import FixState
from letter.models import Endpoint, Inspection, RequiredFix, UnitMeasure

from .models import UnitSnapshot
from .selectors import month_bounds, thresholds_current, turnover_completion_figures, zone_of

OK, ATTENTION, FAILING, NO_DATA = "ok", "attention", "failing", "no_data"
ZONE_STATUS = {"good": OK, "attention": ATTENTION, "bad": FAILING}
STATUS_ORDER = {FAILING: 0, NO_DATA: 1, ATTENTION: 2, OK: 3}


def status_labels() -> dict:
    return {OK: _("Complies"), ATTENTION: _("Needs attention"), FAILING: _("Does not comply"),
            NO_DATA: _("No data yet")}


@dataclass
class Point:
    number: int
    title: str
    status: str
    summary: str
    evidence: list = field(default_factory=list)  # [(label, value)]
    rows: list = field(default_factory=list)  # detail rows (e.g. one per directive), [[cells]]
    row_header: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return _("Point %(number)d") % {"number": self.number}

    @property
    def status_label(self) -> str:
        return status_labels()[self.status]


def _as_of(month: date | None, now: datetime) -> datetime:
    if month is None:
        return now
    _first, last = month_bounds(month)
    return min(now, timezone.make_aware(datetime.combine(last, time(23, 59, 59))))


def unit_points(unit: Unit, *, month: date | None = None, now: datetime | None = None,
                snapshot: UnitSnapshot | None = None) -> list[Point]:
    """The five points of the unit's subtree, now or as of the end of `month`. `snapshot`: today's
    figures the dashboard computed for a unit that has no snapshot yet (its first day), used as the
    snapshot points' evidence instead of an empty "no figures yet"."""
    now = now or timezone.now()
    as_of = _as_of(month, now)
    day = timezone.localdate(as_of)
    if snapshot is None:
        snapshot = UnitSnapshot.objects.filter(unit=unit, day__lte=day).order_by("-day").first()
    thresholds = thresholds_current()
    return [
        _point_1(unit, as_of, now),
        _point_2(unit, as_of, snapshot, thresholds),
        _snapshot_point(3, _("Passwords"), snapshot, thresholds,
                        [("password_expired", _("Passwords expired")),
                         ("one_time_unused", _("One-time passwords left unused")),
                         ("second_factor", _("Second factor missing"))]),
        _point_4(unit, day, month is not None),
        _point_5(unit, snapshot, day, month),
    ]


def _point_1(unit, as_of, now) -> Point:
    title = _("Directives disseminated and acknowledged")
    directives = list(letter.directives_reaching(unit).filter(issued_on__lte=timezone.localdate(as_of))
                      .filter(versions__published_at__lte=as_of).distinct())
    if not directives:
        return Point(1, title, NO_DATA, _("No directive addressed to these units yet."))
    measures = set(UnitMeasure.objects.filter(directive__in=directives, unit=unit, stated_at__lte=as_of)
                   .values_list("directive_id", flat=True))
    totals = {"accepted": 0, "pending": 0, "overdue": 0, "exempt": 0}
    rows = []
    for directive in directives:
        counts = letter.directive_counts(directive, unit=unit, now=now, as_of=as_of)
        for key in totals:
            totals[key] += counts[key]
        rows.append([directive.number, directive.title, directive.due_date.strftime("%d/%m/%Y"), counts["accepted"],
                     counts["pending"], counts["overdue"], counts["exempt"],
                     _("yes") if directive.pk in measures else _("no")])
    status = FAILING if totals["overdue"] else ATTENTION if totals["pending"] or len(measures) < len(directives) else OK
    summary = _("%(accepted)d acknowledged, %(pending)d pending, %(overdue)d overdue, %(exempt)d exempt.") % totals
    evidence = [(_("Directives"), len(directives)), (_("Acknowledged"), totals["accepted"]),
                (_("Pending"), totals["pending"]), (_("Overdue"), totals["overdue"]),
                (_("Exempt (service accounts)"), totals["exempt"]),
                (_("Measures stated by the unit"), f"{len(measures)}/{len(directives)}")]
    header = [_("Number and symbol"), _("Subject"), _("Acknowledge by"), _("Acknowledged"), _("Pending"),
              _("Overdue"), _("Exempt"), _("Measures stated")]
    return Point(1, title, status, summary, evidence, rows, header)


def _snapshot_point(number, title, snapshot, thresholds, reasons) -> Point:
    if snapshot is None or not snapshot.accounts_total:
        return Point(number, title, NO_DATA, _("No daily figures for these units yet."))
    failing = {name: getattr(snapshot, name) for name, _label in reasons}
    worst = max(failing.values())
    score = round(100 * (snapshot.accounts_total - worst) / snapshot.accounts_total, 1)
    status = ZONE_STATUS.get(zone_of(score, thresholds), NO_DATA)
    evidence = [(_("Active accounts"), snapshot.accounts_total)] + [(label, failing[name]) for name, label in reasons]
    evidence.append((_("Figures of"), snapshot.day.strftime("%d/%m/%Y")))
    summary = "; ".join(f"{label}: {failing[name]}" for name, label in reasons) + "."
    return Point(number, title, status, summary, evidence)


def _point_2(unit, as_of, snapshot, thresholds) -> Point:
    """The snapshot's accounts (a turnover request the unit left unsent, uncertified, dormant) and the
    IT Center's side: a request not complete in every connected system within its service level fails
    the point (letter → complete, docs/federation.md "Turnover measured to the end")."""
    point = _snapshot_point(2, _("Accounts follow staff changes"), snapshot, thresholds,
                            [("turnover_overdue", _("Accounts on a turnover request the unit has not sent in time")),
                             ("uncertified", _("Accounts not recertified")), ("dormant", _("Dormant accounts"))])
    figures = turnover_completion_figures(unit, as_of)
    if point.status == NO_DATA and not figures["overdue"] and not figures["complete"]:
        return point
    median = figures["median"]
    point.evidence += [
        (_("Turnover requests not complete in every connected system within their service level"), figures["overdue"]),
        (_("Turnover requests complete"), figures["complete"]),
        (_("Letter to completion, median (days)"), f"{median.total_seconds() / 86400:.1f}" if median else "—")]
    if figures["overdue"]:
        point.status = FAILING
        point.summary += " " + _("%(n)d turnover requests not complete within their service level.") % {
            "n": figures["overdue"]}
    elif point.status == NO_DATA:
        point.status, point.summary = OK, _("Every turnover request complete within its service level.")
    return point


def _point_4(unit, day, past) -> Point:
    title = _("Anti-malware and sharing with the monitoring centre")
    endpoints = Endpoint.objects.filter(unit__path__startswith=unit.path)
    figures = letter.endpoint_figures(endpoints, day)
    if not figures["total"]:
        return Point(4, title, NO_DATA, _("No computer in the endpoint-protection register yet."))
    status = FAILING if figures["against"] else ATTENTION if figures["not_sharing"] else OK
    summary = _("%(against)d of %(total)d computers count against the unit.") % figures
    evidence = [(_("Computers registered"), figures["total"]),
                (_("Not checked for 90 days"), figures["unchecked"]),
                (_("Signatures older than 7 days"), figures["stale_signatures"]),
                (_("Not centrally managed"), figures["unmanaged"]),
                (_("Not sharing with the monitoring centre"), figures["not_sharing"])]
    if past:
        evidence.append((_("Register as of"), timezone.localdate().strftime("%d/%m/%Y")))
    return Point(4, title, status, summary, evidence)


def _point_5(unit, snapshot, day, month) -> Point:
    title = _("Lookups within their limits, inspections")
    inspections = Inspection.objects.filter(unit__path__startswith=unit.path, inspected_on__lte=day)
    fixes = RequiredFix.objects.filter(finding__inspection__in=inspections)
    open_fixes = fixes.exclude(state=FixState.CLOSED)
    overdue = open_fixes.filter(deadline__lt=day).count()
    first, last = month_bounds(month or day)
    lookups = UnitSnapshot.objects.filter(unit=unit, day__gte=first, day__lte=min(last, day)).aggregate(
        allowed=Sum("lookups_allowed"), refused=Sum("lookups_refused"))
    quota = snapshot.lookup_quota if snapshot else 0
    anomaly = snapshot.lookup_anomaly if snapshot else 0
    evidence = [(_("Lookups allowed this month"), lookups["allowed"] or 0),
                (_("Lookups refused this month"), lookups["refused"] or 0),
                (_("Accounts refused for a quota (30 days)"), quota), (_("Open lookup anomalies"), anomaly),
                (_("Inspections recorded"), inspections.count()), (_("Required fixes open"), open_fixes.count()),
                (_("Fixes open past their deadline"), overdue)]
    if snapshot is None and not inspections.exists():
        return Point(5, title, NO_DATA, _("No lookup figures and no inspection yet."), evidence)
    status = FAILING if overdue else ATTENTION if (quota or anomaly or open_fixes.exists()) else OK
    summary = _("%(overdue)d fixes past their deadline; %(anomaly)d open anomalies; %(quota)d accounts over a quota.") % {
        "overdue": overdue, "anomaly": anomaly, "quota": quota}
    return Point(5, title, status, summary, evidence)


def points_ranking(units, *, month: date | None = None, now: datetime | None = None) -> list[tuple[Unit, list[Point]]]:
    """Units ranked point by point: most points failing first, then most needing attention."""
    ranked = [(unit, unit_points(unit, month=month, now=now)) for unit in units]
    ranked.sort(key=lambda item: (sorted(STATUS_ORDER[point.status] for point in item[1]), item[0].path))
    return ranked


def points_json(points: list[Point]) -> list[dict]:
    """As a monthly report keeps them (its figures are JSON)."""
    return [{"number": p.number, "label": p.label, "title": p.title, "status": p.status,
             "status_label": p.status_label, "summary": p.summary,
             "evidence": [[str(label), value if isinstance(value, int) else str(value)] for label, value in p.evidence],
             "row_header": [str(cell) for cell in p.row_header],
             "rows": [[cell if isinstance(cell, int) else str(cell) for cell in row] for row in p.rows]}
            for p in points]


def points_table(points: list[Point]) -> tuple[list, list]:
    """Every point's evidence as one table (the inspector's export)."""
    header = [_("Point"), _("Status"), _("Evidence"), _("Value")]
    rows = []
    for point in points:
        rows.append([point.label, point.status_label, point.title, point.summary])
        for label, value in point.evidence:
            rows.append([point.label, "", label, value])
        for row in point.rows:
            rows.append([point.label, "", " · ".join(str(cell) for cell in row[:3]),
                         " · ".join(f"{title}: {cell}" for title, cell in zip(point.row_header[3:], row[3:]))])
    return header, rows


# ----- the monthly report's section (its figures are kept as JSON, its forms made from them) ------------

def report_points(unit_id: int, month: date, now: datetime) -> list[dict]:
    unit = Unit.objects.filter(pk=unit_id).first()
    return points_json(unit_points(unit, month=month, now=now)) if unit is not None else []


def points_pdf(pdf, figures: dict) -> None:
    """The points section of the report's PDF (fpdf2), after its other sections."""
    if not figures.get("points"):
        return
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 7, _("The letter point by point"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    with pdf.table(col_widths=(22, 50, 30, 78)) as table:
        table.row([_("Point"), _("Subject"), _("Status"), _("Evidence")])
        for point in figures["points"]:
            table.row([point["label"], point["title"], point["status_label"], point["summary"]])


def points_sheet(workbook, figures: dict) -> None:
    """The points sheet of the report's XLSX."""
    from portal.exports import cell_guarded

    if not figures.get("points"):
        return
    sheet = workbook.create_sheet(_("Points 1-5")[:31])
    sheet.append([_("Point"), _("Status"), _("Evidence"), _("Value")])
    for point in figures["points"]:
        sheet.append([cell_guarded(point["label"]), cell_guarded(point["status_label"]), cell_guarded(point["title"]),
                      cell_guarded(point["summary"])])
        for label, value in point["evidence"]:
            sheet.append([cell_guarded(point["label"]), "", cell_guarded(label), cell_guarded(value)])
