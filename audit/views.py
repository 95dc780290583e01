from django.shortcuts import render

from accounts.choices import Role
from accounts.permissions import require_roles

from portal.keyset import keyset_page

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
    page = keyset_page(events, size=PAGE_SIZE, after=request.GET.get("after", ""),
                       before=request.GET.get("before", ""))
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return render(request, "audit/event_list.html", {"form": form, "page": page, "query": query.urlencode()})
