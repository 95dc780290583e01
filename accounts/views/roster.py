"""Roster reconciliation pages (letter point 2): a unit's staff list against its accounts. Thin: parse,
call the service (accounts.services.reconciliation), render. An import is seen by the one who uploaded it and
by the IT Center (accounts.scope: 404 otherwise)."""
import csv
import io

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook

from portal.errors import DomainError, form_error, message_error

from .. import scope
from ..choices import DepartureReason, Role
from ..forms.review import RosterChoiceForm, RosterUploadForm
from ..models import RosterImport
from ..permissions import require_roles
from ..roster_file import TRANSFERRED
from ..services import reconciliation as services
from .turnover import turnover_prefill_redirect

RECONCILERS = (Role.IT_ADMIN, Role.UNIT_LEADER)
# The template's columns, as the reader (accounts.roster_file.COLUMNS) knows them.
TEMPLATE_COLUMNS = ["Họ và tên", "Mã định danh đơn vị", "Chức vụ", "Trạng thái", "Thư điện tử", "Điện thoại"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_LABELS = {"active": gettext_lazy("Working"), TRANSFERRED: gettext_lazy("Transferred within the province"),
                 **dict(DepartureReason.choices)}


@never_cache
@require_roles(*RECONCILERS)
def roster_view(request):
    post = request.method == "POST"
    form = RosterUploadForm(request.POST if post else None, request.FILES if post else None)
    if post and form.is_valid():
        try:
            roster_import = services.roster_import_start(actor=request.user, uploaded=form.cleaned_data["roster"])
        except DomainError as error:
            form_error(form, error)
        else:
            return redirect("accounts:roster_detail", pk=roster_import.pk)
    return render(request, "accounts/roster_upload.html", {
        "form": form, "imports": services.roster_imports_recent(request.user), "section": "roster"})


@require_GET
@require_roles(*RECONCILERS)
def roster_template_view(request, file_format):
    """An empty roster with the columns' names, to fill in and upload."""
    if file_format not in ("csv", "xlsx"):
        raise Http404
    if file_format == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Danh sach can bo"
        sheet.append(TEMPLATE_COLUMNS)
        for letter, width in zip("ABCDEF", (28, 16, 24, 16, 28, 16)):
            sheet.column_dimensions[letter].width = width
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    else:
        text = io.StringIO()
        csv.writer(text).writerow(TEMPLATE_COLUMNS)
        # With a byte-order mark, so that Excel opens the Vietnamese headers as UTF-8.
        response = HttpResponse(("\ufeff" + text.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="danh-sach-can-bo-mau.{file_format}"'
    return response


def _running(roster_import) -> bool:
    return roster_import.state in (RosterImport.State.PENDING, RosterImport.State.RUNNING)


def _findings(roster_import) -> dict:
    """The stored result with its accounts loaded (one query) and the roster statuses labelled."""
    result = roster_import.result
    accounts = services.roster_result_accounts(roster_import)
    left = [{"row": item["row"], "account": accounts[item["account"]],
             "status": STATUS_LABELS.get(item["row"]["status"], item["row"]["status"])}
            for item in result.get("left_active", []) if item["account"] in accounts]
    return {
        "matched": result.get("matched", 0),
        "orphans": [accounts[pk] for pk in result.get("orphans", []) if pk in accounts],
        "left": left,
        "without_account": result.get("without_account", []),
        "ambiguous": result.get("ambiguous", []),
    }


@never_cache
@require_roles(*RECONCILERS)
def roster_detail_view(request, pk):
    roster_import = scope.roster_import_get_visible(request.user, pk)
    context = {"roster_import": roster_import, "running": _running(roster_import), "section": "roster"}
    if roster_import.state == RosterImport.State.DONE:
        context.update(_findings(roster_import))
    return render(request, "accounts/roster_detail.html", context)


@never_cache
@require_GET
@require_roles(*RECONCILERS)
def roster_progress_view(request, pk):
    """What static/js/roster-progress.js polls while a large roster is reconciled."""
    roster_import = scope.roster_import_get_visible(request.user, pk)
    return JsonResponse({"state": roster_import.state, "running": _running(roster_import),
                         "rows_done": roster_import.rows_done, "rows_total": roster_import.rows_total})


@require_POST
@require_roles(*RECONCILERS)
def roster_turnover_view(request, pk):
    """The chosen findings → the turnover filing form, prefilled (the leader adds the letter)."""
    roster_import = scope.roster_import_get_visible(request.user, pk)
    form = RosterChoiceForm(request.POST, result=roster_import.result)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in dict.fromkeys(errors):
                messages.error(request, error)
        return redirect("accounts:roster_detail", pk=roster_import.pk)
    try:
        lines = services.roster_turnover_lines(actor=request.user, roster_import=roster_import, **form.cleaned_data)
    except DomainError as error:
        message_error(request, error)
        return redirect("accounts:roster_detail", pk=roster_import.pk)
    messages.info(request, _("The lines come from the roster reconciliation “%(file)s”. Check them, then add the "
                             "official letter and its scanned PDF.") % {"file": roster_import.file_name})
    return turnover_prefill_redirect(request, lines, unit=_requesting_unit(request.user))


def _requesting_unit(user):
    """A leader files for their own unit (which covers the units below it); the IT Center chooses."""
    return user.unit if user.role == Role.UNIT_LEADER else None
