"""Unit pages. Thin: parse, call a selector or service, render. Scope comes from accounts.scope (404
outside it), roles from accounts.permissions (403)."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from portal.errors import DomainError, form_error, message_error

from .. import scope, selectors
from ..choices import Role
from ..forms import UnitCreateForm, UnitRenameForm, UnitTargetForm
from ..permissions import require_roles
from ..services import units as services
from .accounts import READERS

@require_roles(*READERS)
def unit_list_view(request):
    return render(request, "accounts/unit_list.html", {"units": selectors.unit_tree(request.user)})


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


def _unit_form_view(request, pk, form_class, service, title, success_message, **service_kwargs):
    unit = scope.unit_get_visible(request.user, pk)
    kwargs = {"units": scope.units_visible_to(request.user), "exclude": unit} if form_class is UnitTargetForm else {}
    form = form_class(request.POST or None, **kwargs) if form_class else None
    if request.method == "POST" and (form is None or form.is_valid()):
        values = form.cleaned_data if form else {}
        try:
            service(actor=request.user, unit=unit, **{
                service_kwargs.get(key, key): value for key, value in values.items()})
        except DomainError as error:
            if form is None:
                message_error(request, error)
                return redirect("accounts:unit_list")
            form_error(form, error)
        else:
            messages.success(request, success_message)
            return redirect("accounts:unit_list")
    return render(request, "accounts/unit_form.html", {"form": form, "unit": unit, "title": title})


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
    return _unit_form_view(request, pk, UnitTargetForm, services.unit_merge, _("Merge unit"),
                           _("The unit has been merged; its accounts and sub-units moved."), target="into")


@require_roles(Role.IT_ADMIN)
def unit_retire_view(request, pk):
    return _unit_form_view(request, pk, None, services.unit_retire, _("Retire unit"),
                           _("The unit has been retired."))
