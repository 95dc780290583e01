"""The endpoint-protection register's pages (letter point 4): the list (scoped, with the machines that
count against their unit), a computer's form, the import with its line-by-line report, and the
register's template and export."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.choices import Role
from accounts.permissions import require_roles
from accounts.scope import units_visible_to
from portal.errors import DomainError, form_error
from portal.exports import csv_bytes, xlsx_bytes

from .. import selectors, services
from ..forms import EndpointForm, EndpointImportForm
from ..models import EndpointImport

READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)
KEEPERS = (Role.IT_ADMIN, Role.UNIT_LEADER)
PAGE_SIZE = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The template's columns, as the reader (letter.register_file.COLUMNS) knows them.
TEMPLATE_COLUMNS = ["Mã tài sản", "Mã đơn vị", "Tên máy", "Người sử dụng", "Hệ điều hành", "Phiên bản hệ điều hành",
                    "Cập nhật", "Phần mềm phòng chống mã độc", "Phiên bản phòng chống mã độc", "Ngày cập nhật mẫu",
                    "Quản lý tập trung", "Agent giám sát", "Chia sẻ thông tin", "Ngày kiểm tra"]
FILTERS = ("unchecked", "stale_signatures", "unmanaged", "not_sharing", "counts_against")


def _filtered(request):
    today = timezone.localdate()
    endpoints = selectors.endpoints_annotated(selectors.endpoints_visible_to(request.user), today)
    problem = request.GET.get("problem", "")
    if problem in FILTERS:
        endpoints = endpoints.filter(**{problem if problem == "counts_against" else f"is_{problem}": True})
    else:
        problem = ""
    return endpoints.select_related("unit").order_by("unit__path", "asset_tag"), problem, today


@require_roles(*READERS)
def endpoint_list_view(request):
    endpoints, problem, today = _filtered(request)
    figures = selectors.endpoint_figures(selectors.endpoints_visible_to(request.user), today)
    page = Paginator(endpoints, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "letter/endpoint_list.html", {
        "page": page, "figures": figures, "problem": problem, "section": "letter",
        "may_keep": request.user.role in KEEPERS,
        "imports": EndpointImport.objects.filter(uploaded_by=request.user)[:5]})


@never_cache
@require_roles(*KEEPERS)
def endpoint_edit_view(request, pk=None):
    endpoint = selectors.endpoint_get_visible(request.user, pk) if pk else None
    initial = {}
    if endpoint is not None:
        initial = {name: getattr(endpoint, name) for name in ("asset_tag", "hostname", "user_name", "os_name",
                                                               "os_version", "update_state", "antimalware_product",
                                                               "antimalware_version", "signature_date", "last_checked")}
        initial.update(unit=endpoint.unit_id, **{name: "yes" if getattr(endpoint, name) else "no" for name in
                                                 ("centrally_managed", "monitoring_agent", "monitoring_sharing")})
    form = EndpointForm(request.POST or None, initial=initial, units=units_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_save(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The computer has been saved in the register."))
            return redirect("letter:endpoints")
    return render(request, "letter/endpoint_form.html", {"form": form, "endpoint": endpoint, "section": "letter"})


@never_cache
@require_roles(*KEEPERS)
def endpoint_import_view(request):
    post = request.method == "POST"
    form = EndpointImportForm(request.POST if post else None, request.FILES if post else None)
    if post and form.is_valid():
        try:
            record = services.endpoint_import(actor=request.user, uploaded=form.cleaned_data["register"])
        except DomainError as error:
            form_error(form, error)
        else:
            return redirect("letter:endpoint_import_detail", pk=record.pk)
    return render(request, "letter/endpoint_import.html", {"form": form, "section": "letter"})


@require_roles(*KEEPERS, Role.INSPECTOR)
def endpoint_import_detail_view(request, pk):
    """An import is seen by the one who uploaded it and by the IT Center and inspectors."""
    imports = EndpointImport.objects.all() if request.user.sees_everything else \
        EndpointImport.objects.filter(uploaded_by=request.user)
    record = get_object_or_404(imports, pk=pk)
    return render(request, "letter/endpoint_import_detail.html", {"record": record, "section": "letter"})


@require_roles(*READERS)
def endpoint_template_view(request, file_format):
    if file_format not in ("csv", "xlsx"):
        raise Http404
    return _table_response([TEMPLATE_COLUMNS], file_format, "so-dang-ky-may-tinh-mau")


@require_roles(*READERS)
def endpoint_export_view(request, file_format):
    """The register as the reader sees it (with the list's filter), in the import's own columns."""
    if file_format not in ("csv", "xlsx"):
        raise Http404
    endpoints, _problem, _today = _filtered(request)

    def yes_no(value):
        return "có" if value else "không"

    rows = [TEMPLATE_COLUMNS]
    for endpoint in endpoints:
        rows.append([endpoint.asset_tag, endpoint.unit.code, endpoint.hostname, endpoint.user_name, endpoint.os_name,
                     endpoint.os_version, endpoint.get_update_state_display(), endpoint.antimalware_product,
                     endpoint.antimalware_version,
                     endpoint.signature_date.strftime("%d/%m/%Y") if endpoint.signature_date else "",
                     yes_no(endpoint.centrally_managed), yes_no(endpoint.monitoring_agent),
                     yes_no(endpoint.monitoring_sharing),
                     endpoint.last_checked.strftime("%d/%m/%Y") if endpoint.last_checked else ""])
    return _table_response(rows, file_format, f"so-dang-ky-may-tinh-{timezone.localdate():%Y%m%d}")


def _table_response(rows, file_format, name):
    header, body = rows[0], rows[1:]
    if file_format == "xlsx":
        response = HttpResponse(xlsx_bytes(header, body, title="So dang ky may tinh"), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(csv_bytes(header, body), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response
