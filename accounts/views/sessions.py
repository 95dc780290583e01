"""Each person's sessions: where they are signed in (browser, address, started, last seen), ending any
of them, and the idle warning's "stay signed in" (static/js/idle.js)."""
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from policy.selectors import policy_for
from portal.errors import DomainError, message_error

from .. import selectors
from ..services import sessions as services
from ..session_store import LAST_ACTIVITY_KEY, session_handle


@login_required
def sessions_view(request):
    return render(request, "accounts/sessions.html", {
        "sessions": selectors.sessions_active_for(request.user, current_session_key=request.session.session_key),
        "section": "sessions",
    })


@require_POST
@login_required
def session_end_view(request):
    handle = request.POST.get("session", "")
    is_current = handle == session_handle(request.session.session_key or "")
    try:
        services.session_end(actor=request.user, handle=handle)
    except DomainError as error:
        message_error(request, error)
        return redirect("sessions")
    if is_current:
        logout(request)
        return redirect("login")
    messages.success(request, _("The session has been ended: that browser is signed out."))
    return redirect("sessions")


@require_POST
@login_required
def session_keepalive_view(request):
    """"Stay signed in" from the idle warning: counts as activity now; answers the seconds left."""
    now = int(timezone.now().timestamp())
    request.session[LAST_ACTIVITY_KEY] = now
    return JsonResponse({"idle_seconds_left": policy_for(request.user).session_idle_minutes * 60})
