"""Compliance point by point (the letter's "Điểm 1" … "Điểm 5"): the ranking of units point by point and
one unit's evidence for a month, on screen and exported. Thin: scope from accounts.scope (404 outside
it), roles by require_roles (403), figures from compliance.points."""
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.choices import Role
from accounts.permissions import require_roles
from accounts.scope import unit_get_visible, units_visible_to
from portal.exports import csv_bytes, xlsx_bytes

from . import points, selectors, services
from .exports import CONTENT_TYPES

READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)


@require_roles(*READERS)
def points_ranking_view(request):
    """The units below the reader's home unit (the province's departments and districts for the IT
    Center and inspectors), ranked: most points failing first."""
    month = selectors.parse_month(request.GET.get("month", ""))
    home = selectors.home_unit_for(request.user)
    units = units_visible_to(request.user).filter(parent=home, state="active").order_by("path")
    ranked = points.points_ranking([home, *units] if request.user.role == Role.UNIT_LEADER else list(units),
                                   month=month)
    return render(request, "compliance/points_ranking.html", {
        "ranked": ranked, "home": home, "section": "dashboard", "numbers": [1, 2, 3, 4, 5],
        "month_value": month.strftime("%Y-%m") if month else ""})


@require_roles(*READERS)
def unit_points_view(request, pk):
    unit = unit_get_visible(request.user, pk)
    month = selectors.parse_month(request.GET.get("month", ""))
    return render(request, "compliance/unit_points.html", {
        "unit": unit, "points": points.unit_points(unit, month=month), "section": "dashboard",
        "month_value": month.strftime("%Y-%m") if month else "", "month": month})


@require_roles(*READERS)
def unit_points_export_view(request, pk, file_format):
    """Each point's evidence of one unit and month as CSV or XLSX; the export is itself recorded."""
    if file_format not in ("csv", "xlsx"):
        raise Http404
    unit = unit_get_visible(request.user, pk)
    month = selectors.parse_month(request.GET.get("month", ""))
    header, rows = points.points_table(points.unit_points(unit, month=month))
    content = csv_bytes(header, rows) if file_format == "csv" else xlsx_bytes(header, rows, title="Diem 1-5")
    services.export_record(actor=request.user, list_name="letter_points", file_format=file_format, rows=len(rows))
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    stamp = month.strftime("%Y-%m") if month else f"{timezone.localdate():%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="diem-1-5-{unit.code}-{stamp}.{file_format}"'
    return response
