"""Recertification pages: the IT Center starts and closes a campaign; each unit leader certifies the
accounts of their units (keep / change / remove); the progress per unit for the IT Center, the
inspectorate and the leaders above. Thin: parse, call accounts.services.recertification, render."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portal.errors import DomainError, PolicyViolation, form_error, message_error

from .. import permissions
from ..choices import RecertificationDecision, Role
from ..forms.review import CampaignStartForm, RecertificationDecisionForm, RecertificationKeepForm
from ..models import RecertificationCampaign, RecertificationItem
from ..permissions import require_roles
from ..services import recertification as services
from ..services.reconciliation import TURNOVER_LINES_MAX
from .turnover import turnover_prefill_redirect

READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)
DECIDERS = (Role.IT_ADMIN, Role.UNIT_LEADER)
PAGE_SIZE = 100


def _page(request, start_form=None):
    user = request.user
    campaign = services.recertification_campaign_current()
    context = {"campaign": campaign, "section": "recertification", "show": request.GET.get("show", "pending")}
    if permissions.may_run_recertification(user) and (start_form is not None or campaign is None or not campaign.is_open):
        context["start_form"] = start_form or CampaignStartForm()
    if campaign is not None:
        context["progress"] = services.recertification_progress(user, campaign)
    if campaign is not None and permissions.may_certify_accounts(user):
        items = services.recertification_items_for(user, campaign)
        context["left"] = items.filter(decision=RecertificationDecision.PENDING).count()
        context["removals"] = items.filter(decision=RecertificationDecision.REMOVE, account__is_active=True).count()
        shown = items if context["show"] == "all" else items.filter(decision=RecertificationDecision.PENDING)
        context["page"] = Paginator(shown.order_by("unit__path", "account__username"), PAGE_SIZE).get_page(
            request.GET.get("page"))
        context["decision_choices"] = RecertificationDecisionForm().fields["decision"].choices
    return render(request, "accounts/recertification.html", context)


@require_roles(*READERS)
def recertification_view(request):
    return _page(request)


@require_POST
@require_roles(Role.IT_ADMIN)
def recertification_start_view(request):
    form = CampaignStartForm(request.POST)
    if form.is_valid():
        try:
            campaign = services.recertification_campaign_start(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The campaign “%(name)s” has started: every unit leader now certifies the "
                                        "accounts of their units.") % {"name": campaign.name})
            return redirect("accounts:recertification")
    return _page(request, start_form=form)


@require_POST
@require_roles(Role.IT_ADMIN)
def recertification_close_view(request, pk):
    campaign = get_object_or_404(RecertificationCampaign, pk=pk)
    if not campaign.is_open:
        messages.error(request, _("The campaign has closed already."))
        return redirect("accounts:recertification")
    try:
        touched = services.recertification_close(actor=request.user, campaign=campaign)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, ngettext(
            "The campaign has closed; its outcome was applied to %(count)d uncertified account.",
            "The campaign has closed; its outcome was applied to %(count)d uncertified accounts.", touched) % {
            "count": touched})
    return redirect("accounts:recertification")


def _item_or_404(user, pk) -> RecertificationItem:
    """An item the user may decide; any other (another district's, a guessed id) does not exist."""
    item = get_object_or_404(RecertificationItem.objects.select_related("campaign"), pk=pk)
    try:
        return services.recertification_items_for(user, item.campaign).get(pk=pk)
    except RecertificationItem.DoesNotExist as missing:
        raise Http404 from missing


@require_POST
@require_roles(*DECIDERS)
def recertification_decide_view(request, pk):
    item = _item_or_404(request.user, pk)
    form = RecertificationDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("accounts:recertification")
    try:
        services.recertification_item_decide(actor=request.user, item=item, **form.cleaned_data)
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, _("%(username)s: %(decision)s.") % {
            "username": item.account.username, "decision": item.get_decision_display()})
    return redirect("accounts:recertification")


@require_POST
@require_roles(*DECIDERS)
def recertification_keep_view(request, pk):
    campaign = get_object_or_404(RecertificationCampaign, pk=pk)
    form = RecertificationKeepForm(request.POST, items=services.recertification_items_for(request.user, campaign))
    if not form.is_valid():
        messages.error(request, form.errors["items"][0])
        return redirect("accounts:recertification")
    try:
        kept = services.recertification_items_keep(actor=request.user, campaign=campaign,
                                                   item_ids=[item.pk for item in form.cleaned_data["items"]])
    except DomainError as error:
        message_error(request, error)
    else:
        messages.success(request, ngettext("%(count)d account certified as still needed.",
                                           "%(count)d accounts certified as still needed.", kept) % {"count": kept})
    return redirect("accounts:recertification")


@require_POST
@require_roles(*DECIDERS)
def recertification_turnover_view(request, pk):
    """The leader's “remove” decisions → the turnover filing form, prefilled."""
    campaign = get_object_or_404(RecertificationCampaign, pk=pk)
    lines = services.recertification_turnover_lines(request.user, campaign)
    if not lines:
        messages.error(request, _("No account you decided to remove is still active."))
        return redirect("accounts:recertification")
    if len(lines) > TURNOVER_LINES_MAX:
        message_error(request, PolicyViolation(_("One request holds at most %(max)d lines; choose fewer and file "
                                                 "the rest in another request.") % {"max": TURNOVER_LINES_MAX}))
        return redirect("accounts:recertification")
    messages.info(request, _("The lines are the accounts you decided to remove in “%(name)s”. Check them, then add "
                             "the official letter and its scanned PDF.") % {"name": campaign.name})
    return turnover_prefill_redirect(request, lines,
                                     unit=request.user.unit if request.user.role == Role.UNIT_LEADER else None)
