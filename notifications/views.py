"""The bell's pages: one's own notices (list, mark read), how optional notices reach one, and the IT
Center's failed e-mails (resend)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.permissions import require_roles
from portal.errors import DomainError, message_error

from .delivery import failed_notices_for, notices_resend
from .forms import PreferenceForm, posted_notice_ids
from .messages import notice_message
from .selectors import notices_for, preference_for
from .services import notice_mark_read, notification_preference_set

PAGE_SIZE = 20


def _page(request, notices):
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(notice, notice_message(notice, in_app=True)) for notice in page.object_list]
    return page, rows


@login_required
def notice_list_view(request):
    page, rows = _page(request, notices_for(request.user))
    return render(request, "notifications/notice_list.html", {"page": page, "rows": rows})


@require_POST
@login_required
def notice_read_view(request):
    if request.POST.get("all") == "1":
        notice_mark_read(actor=request.user)
        return redirect("notifications:list")
    ids = posted_notice_ids(request.POST)
    if ids is None:
        messages.error(request, _("Choose the notifications to mark as read."))
    else:
        notice_mark_read(actor=request.user, notice_ids=ids)
    return redirect(request.POST.get("page_url") if str(request.POST.get("page_url", "")).startswith(
        "/notifications/") else "notifications:list")


@login_required
def preferences_view(request):
    preference = preference_for(request.user)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            notification_preference_set(actor=request.user, optional_by_email=form.cleaned_data["optional"] == "email")
            messages.success(request, _("Your choice has been saved."))
            return redirect("notifications:preferences")
    else:
        form = PreferenceForm(initial={"optional": "email" if preference.optional_by_email else "in_app"})
    return render(request, "notifications/preferences.html", {"form": form})


@require_roles(Role.IT_ADMIN)
def failed_list_view(request):
    if request.method == "POST":
        ids = posted_notice_ids(request.POST)
        if ids is None:
            messages.error(request, _("Choose the notifications to send again."))
        else:
            try:
                count = notices_resend(actor=request.user, notice_ids=ids)
            except DomainError as error:
                message_error(request, error)
            else:
                messages.success(request, _("%(count)d notification(s) will be sent again.") % {"count": count})
        return redirect("notifications:failed")
    page, rows = _page(request, failed_notices_for(request.user))
    return render(request, "notifications/failed_list.html", {"page": page, "rows": rows})
