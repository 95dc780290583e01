"""Sessions of an account that may no longer be used. Containment ends every session at once
(accounts.services.lifecycle.sessions_end_for); this refuses, at its next request, any session that
escaped it — a request in flight, an account created in or moved into a contained unit since."""
from django.shortcuts import redirect
from django.urls import reverse

from audit.choices import SessionEndReason
from policy.middleware import end_session

from .permissions import account_contained, units_contained


class ContainedAccountMiddleware:
    """A contained account's session ends; its next page is the sign-in page (which refuses it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        # One query per request (a partial index: contained units are few), kept for the page's banners.
        request.contained_units = units_contained()
        if account_contained(user, contained_paths=[unit["path"] for unit in request.contained_units]):
            end_session(request, SessionEndReason.CONTAINED)
            return redirect(f"{reverse('login')}?contained=1")
        return self.get_response(request)
