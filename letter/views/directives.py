"""Directive pages (letter point 1). Thin: scope from letter.selectors (404 outside it), roles by
require_roles (403), every write by letter.services."""
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.attachments import attachment_path
from accounts.choices import Role
from accounts.permissions import require_roles
from accounts.scope import units_visible_to
from portal.errors import DomainError, form_error, message_error

from .. import selectors, services
from ..choices import AcknowledgementState
from ..forms import DirectiveForm, DirectiveVersionForm, MeasureForm, OnBehalfForm
from ..models import DirectiveVersion

EVERYONE = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER, Role.OFFICER)


@require_roles(*EVERYONE)
def directive_list_view(request):
    directives = list(selectors.directives_visible_to(request.user).prefetch_related("audience_units"))
    rows = [(directive, selectors.directive_counts(directive, reader=request.user)) for directive in directives]
    waiting = {directive.pk for directive, _version in selectors.directives_to_acknowledge(request.user)}
    return render(request, "letter/directive_list.html", {
        "rows": rows, "waiting": waiting, "section": "letter", "today": timezone.localdate()})


@never_cache
@require_roles(Role.IT_ADMIN)
def directive_create_view(request):
    post = request.method == "POST"
    form = DirectiveForm(request.POST if post else None, request.FILES if post else None,
                         units=units_visible_to(request.user))
    if post and form.is_valid():
        try:
            directive = services.directive_publish(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The directive has been published to its audience."))
            return redirect("letter:directive", pk=directive.pk)
    return render(request, "letter/directive_form.html", {"form": form, "section": "letter"})


@never_cache
@require_roles(*EVERYONE)
def directive_detail_view(request, pk):
    directive = selectors.directive_get_visible(request.user, pk)
    today = timezone.localdate()
    required = selectors.required_version(directive)
    context = {
        "directive": directive, "section": "letter", "today": today, "required": required,
        "versions": list(directive.versions.order_by("-number")),
        "current": selectors.current_version(directive),
        "units": list(directive.audience_units.order_by("path")),
        "counts": selectors.directive_counts(directive, reader=request.user),
        "measure_form": MeasureForm(), "states": AcknowledgementState,
    }
    mine = selectors.audience_accounts(directive, now=timezone.now()).filter(pk=request.user.pk).first()
    context["my_state"] = selectors.state_of(mine, directive, today) if mine else None
    if request.user.role != Role.OFFICER:
        audience = list(selectors.audience_accounts(directive, reader=request.user).select_related("unit")
                        .order_by("unit__path", "full_name")[:500])
        acks = selectors.acknowledgements_by_account(directive, [account.pk for account in audience])
        context["audience"] = [(account, selectors.state_of(account, directive, today), acks.get(account.pk))
                               for account in audience]
        context["measures"] = list(selectors.measures_visible(request.user, directive))
    if request.user.role == Role.UNIT_LEADER:
        context["my_measure"] = next((m for m in context["measures"] if m.unit_id == request.user.unit_id), None)
        context["may_state"] = any(request.user.unit.path.startswith(unit.path) for unit in context["units"])
    return render(request, "letter/directive_detail.html", context)


@require_POST
@require_roles(*EVERYONE)
def directive_acknowledge_view(request, pk):
    directive = selectors.directive_get_visible(request.user, pk)
    try:
        services.directive_acknowledge(actor=request.user, directive=directive)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("Thank you: your acknowledgement has been recorded."))
    return redirect("letter:directive", pk=directive.pk)


@require_POST
@require_roles(Role.UNIT_LEADER)
def directive_on_behalf_view(request, pk):
    directive = selectors.directive_get_visible(request.user, pk)
    form = OnBehalfForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("letter:directive", pk=directive.pk)
    account = get_object_or_404(selectors.audience_accounts(directive, reader=request.user),
                                pk=form.cleaned_data["account"])
    try:
        services.directive_acknowledge_on_behalf(actor=request.user, directive=directive, account=account,
                                                 note=form.cleaned_data["note"])
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("The acknowledgement of %(name)s has been recorded on their behalf.")
                         % {"name": account.full_name})
    return redirect("letter:directive", pk=directive.pk)


@require_POST
@require_roles(Role.UNIT_LEADER)
def directive_measures_view(request, pk):
    directive = selectors.directive_get_visible(request.user, pk)
    form = MeasureForm(request.POST)
    if form.is_valid():
        try:
            services.unit_measure_state(actor=request.user, directive=directive, **form.cleaned_data)
        except DomainError as error:
            message_error(request, error)
        else:
            messages.success(request, _("The unit's measures have been recorded."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("letter:directive", pk=directive.pk)


@never_cache
@require_roles(Role.IT_ADMIN)
def directive_version_view(request, pk):
    directive = selectors.directive_get_visible(request.user, pk)
    post = request.method == "POST"
    form = DirectiveVersionForm(request.POST if post else None, request.FILES if post else None,
                                initial={"summary": selectors.current_version(directive).summary})
    if post and form.is_valid():
        try:
            version = services.directive_version_publish(actor=request.user, directive=directive, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Version %(number)d has been published: everyone acknowledges again.")
                             % {"number": version.number} if version.material else
                             _("Version %(number)d has been published: a minor change asks no one again.")
                             % {"number": version.number})
            return redirect("letter:directive", pk=directive.pk)
    return render(request, "letter/directive_version_form.html", {
        "form": form, "directive": directive, "section": "letter"})


@require_roles(*EVERYONE)
def directive_file_view(request, pk, version):
    directive = selectors.directive_get_visible(request.user, pk)
    item = get_object_or_404(DirectiveVersion, directive=directive, number=version)
    try:
        handle = attachment_path(item.attachment_sha256).open("rb")
    except (FileNotFoundError, ValueError) as missing:
        raise Http404 from missing
    response = FileResponse(handle, as_attachment=True, content_type="application/pdf",
                            filename=item.attachment_name or "directive.pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
