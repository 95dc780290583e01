"""The letter's pages: directives (point 1), the endpoint register (point 4), inspections (point 5)."""
from django.shortcuts import render
from django.utils import timezone

from accounts.choices import Role
from accounts.permissions import require_roles

from .. import selectors

EVERYONE = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER, Role.OFFICER)


@require_roles(*EVERYONE)
def letter_home_view(request):
    """Where the letter's points live, with what waits for the reader."""
    today = timezone.localdate()
    context = {"section": "letter", "waiting": selectors.directives_to_acknowledge(request.user)}
    if request.user.role != Role.OFFICER:
        context["endpoints"] = selectors.endpoint_figures(selectors.endpoints_visible_to(request.user), today)
        context["fixes_overdue"] = selectors.fixes_overdue(
            selectors.inspections_visible_to(request.user).values("unit"), today).count()
    return render(request, "letter/home.html", context)
