from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.choices import Role
from accounts.permissions import require_roles

from .forms import EventFilterForm
from .selectors import security_events_visible_to

PAGE_SIZE = 100


@require_roles(Role.IT_ADMIN, Role.INSPECTOR)
def event_list_view(request):
    form = EventFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        events = security_events_visible_to(request.user).none()
    else:
        events = security_events_visible_to(request.user, **filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {"form": form, "page": page, "query": query.urlencode()})
