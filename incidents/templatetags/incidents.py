"""Template pieces other apps' pages show without importing this app: the containment card of an
account page, the banner of contained units on every dashboard, the labels of containment steps."""
from django import template

from accounts.choices import Role

from ..choices import ContainmentStep, StepOutcome
from ..forms import AccountContainForm, AccountLiftForm
from ..selectors import containment_open_of_account, units_contained_for_reader, units_contained_holding_account

register = template.Library()


@register.filter
def step_label(code):
    return ContainmentStep(code).label if code in ContainmentStep.values else code


@register.filter
def step_outcome_label(code):
    return StepOutcome(code).label if code in StepOutcome.values else code


@register.inclusion_tag("incidents/includes/account_containment.html", takes_context=True)
def account_containment_card(context, account):
    user = context["request"].user
    return {
        "account": account, "user": user, "request": context["request"], "csrf_token": context.get("csrf_token"),
        "may_act": user.role == Role.IT_ADMIN and user.pk != account.pk,
        "containment": containment_open_of_account(account) if account.contained_at else None,
        "holding": [] if account.contained_at else units_contained_holding_account(
            account, contained=getattr(context["request"], "contained_units", None)),
        "contain_form": AccountContainForm(), "lift_form": AccountLiftForm(),
    }


@register.inclusion_tag("incidents/includes/contained_banner.html", takes_context=True)
def contained_units_banner(context, unit=None):
    """Every dashboard: the contained units inside the reader's scope (below `unit` when given) or above it."""
    user = context["request"].user
    if not getattr(user, "is_authenticated", False):
        return {"contained_units": []}
    return {"contained_units": units_contained_for_reader(
        user, unit, contained=getattr(context["request"], "contained_units", None))}
