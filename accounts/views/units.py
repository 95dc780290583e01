"""Unit pages. Thin: parse, call a selector or service, render. Scope comes from accounts.scope (404
outside it), roles from accounts.permissions (403)."""
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from portal.errors import DomainError, form_error

from .. import scope, selectors
from ..choices import Role
from ..forms import UnitCreateForm, UnitMergeForm, UnitRenameForm, UnitRetireForm, UnitSearchForm, UnitTargetForm
from ..permissions import require_roles
from ..services import units as services
from .accounts import READERS


@require_roles(*READERS)
def unit_list_view(request):
    return render(request, "accounts/unit_list.html", {"units": selectors.unit_tree_rows(request.user)})


@require_GET
@require_roles(*READERS)
def unit_search_view(request):
    """The unit picker's JSON: at most 20 units of the reader's scope matching what was typed.
    Bad input (too long, control characters, a malformed id) is a 400 with the reason, never a 500."""
    form = UnitSearchForm(request.GET)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return JsonResponse({"results": [], "error": first}, status=400)
    exclude = None
    if form.cleaned_data["exclude"]:
        exclude = scope.units_visible_to(request.user).filter(pk=form.cleaned_data["exclude"]).first()
    units = selectors.unit_search(request.user, form.cleaned_data["q"], active_only=form.cleaned_data["active"],
                                  exclude=exclude)
    return JsonResponse({"results": [
        {"id": unit.pk, "name": unit.name, "code": unit.code, "label": f"{unit.name} ({unit.code})",
         "parent": unit.parent.name if unit.parent_id else "", "active": unit.is_active}
        for unit in units]})


@require_roles(Role.IT_ADMIN)
def unit_create_view(request):
    form = UnitCreateForm(request.POST or None, units=scope.units_visible_to(request.user),
                          initial={"parent": request.GET.get("parent")})
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Unit %(name)s has been created.") % {"name": unit.name})
            return redirect("accounts:unit_list")
    return render(request, "accounts/unit_form.html", {"form": form, "title": _("New unit")})


def _unit_form_view(request, pk, form_class, service, title, success_message, intro="", **service_kwargs):
    unit = scope.unit_get_visible(request.user, pk)
    kwargs = {"units": scope.units_visible_to(request.user), "exclude": unit} if form_class is UnitTargetForm else {}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            service(actor=request.user, unit=unit, **{
                service_kwargs.get(key, key): value for key, value in form.cleaned_data.items()})
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, success_message)
            return redirect("accounts:unit_list")
    return render(request, "accounts/unit_form.html", {"form": form, "unit": unit, "title": title, "intro": intro})


@require_roles(Role.IT_ADMIN)
def unit_rename_view(request, pk):
    return _unit_form_view(request, pk, UnitRenameForm, services.unit_rename, _("Rename unit"),
                           _("The unit has been renamed."))


@require_roles(Role.IT_ADMIN)
def unit_move_view(request, pk):
    return _unit_form_view(request, pk, UnitTargetForm, services.unit_move, _("Change parent unit"),
                           _("The unit has been moved."), target="new_parent")


@require_roles(Role.IT_ADMIN)
def unit_merge_view(request, pk):
    """Two steps: the form (receiving unit, legal basis) → the preview of what moves, with the
    preview's counts in hidden fields → the merge. A preview gone stale is shown again, new."""
    unit = scope.unit_get_visible(request.user, pk)
    form = UnitMergeForm(request.POST or None, units=scope.units_visible_to(request.user), exclude=unit,
                         target_label=_("Receiving unit"))
    context = {"form": form, "unit": unit, "title": _("Merge unit"), "preview_next": True}
    if request.method != "POST" or not form.is_valid():
        return render(request, "accounts/unit_form.html", context)
    values = dict(form.cleaned_data)
    into = values.pop("target")
    if values.pop("confirm"):
        try:
            services.unit_merge(actor=request.user, unit=unit, into=into,
                                expected_accounts=values.pop("accounts_count"),
                                expected_sub_units=values.pop("sub_units_count"),
                                expected_digest=values.pop("contents_digest"), **values)
        except DomainError as error:
            if error.code != "stale_preview":
                form_error(form, error)
                return render(request, "accounts/unit_form.html", context)
            context["stale"] = error.message
        else:
            messages.success(request, _("The unit has been merged; its accounts and sub-units moved."))
            return redirect("accounts:unit_list")
    context["preview"] = selectors.unit_merge_preview(unit, into)
    return render(request, "accounts/unit_merge_preview.html", context)


@require_roles(Role.IT_ADMIN)
def unit_retire_view(request, pk):
    return _unit_form_view(request, pk, UnitRetireForm, services.unit_retire, _("Retire unit"),
                           _("The unit has been retired."),
                           intro=_("The unit stays in the history but no longer receives accounts. Continue?"))
