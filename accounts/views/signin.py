"""Sign-in pages: Django's login (with the portal's form), the password change, and django-axes'
lockout page. The forms parse; these views hand what happened to the sign-in services."""
import math

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.forms.forms import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from policy.selectors import password_change_allowed_from, password_change_reason, policy_for
from policy.services import password_change
from policy.validators import PASSPHRASE_EXAMPLES, password_rules_for
from portal.errors import PolicyViolation, form_error

from ..forms_signin import LoginForm, PasswordChangeForm
from ..lockout import counted_username
from ..selectors import address_blocked_until, lockout_ends_at
from ..services import signin


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        # Signed in, with ?next= pointing back at this page: Django's guard raises ValueError (a 500).
        if request.user.is_authenticated and self.get_success_url() == request.path:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        # From the lockout check (django-axes' backend) to counting the failure, one attempt per username.
        with signin.attempt_serialised(username=counted_username(request.POST.get("username", ""))):
            return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error(NON_FIELD_ERRORS, "one_time_password_expired"):
            signin.login_record_refused(account=form.get_user(), reason="one_time_password_expired")
        if form.has_error("username", "max_length"):
            # No account has such a username: recorded (masked), not counted towards any lockout.
            signin.login_record_failure(username=self.request.POST.get("username", ""), reason="malformed")
        return super().form_invalid(form)


def _count_wrong_current_password(request) -> None:
    """Guessing the current password on the change page must cost what guessing it at the login
    costs: django-axes counts this failure towards the username's lockout (its signal receiver)."""
    user_login_failed.send(sender=__name__, credentials={"username": request.user.username}, request=request)


@sensitive_post_parameters()
@never_cache
@login_required
def password_change_view(request):
    reason = password_change_reason(request.user)
    form = PasswordChangeForm(request.user, request.POST or None, one_time=reason == "one_time")
    if request.method == "POST":
        username = request.user.username
        # As at the login: the lockout is checked BEFORE the current password, and check, verification
        # and counting run one at a time per username (parallel guesses from one session).
        with signin.attempt_serialised(username=username):
            if lockout_ends_at(username) is not None:
                signin.login_record_failure(username=username, reason="locked")
                logout(request)
                return _lockout_page(request, username=username)
            if form.is_valid():
                try:
                    password_change(actor=request.user, account=request.user,
                                    new_password=form.cleaned_data["new_password1"])
                except PolicyViolation as error:
                    form_error(form, error, field="new_password1")
                else:
                    update_session_auth_hash(request, request.user)
                    messages.success(request, _("Your password has been changed."))
                    return redirect("home")
            elif form.has_error("old_password", "password_incorrect"):
                _count_wrong_current_password(request)
                if lockout_ends_at(username) is not None:
                    # Too many wrong current passwords: the session ends like a locked login would.
                    logout(request)
                    return _lockout_page(request, username=username)
    return render(request, "registration/password_change_form.html", {
        "form": form, "reason": reason, "policy": policy_for(request.user),
        "rules": password_rules_for(request.user, required=bool(reason)),
        "change_allowed_from": password_change_allowed_from(request.user), "examples": PASSPHRASE_EXAMPLES,
    })


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout page (AXES_LOCKOUT_CALLABLE): Vietnamese, HTTP 429, and who to call."""
    return _lockout_page(request, username=counted_username((credentials or {}).get("username") or ""))


def _lockout_page(request, *, username):
    now = timezone.now()
    address_blocked = getattr(request, "signin_refusal", None) == "address_blocked"
    if address_blocked:
        ends_at = address_blocked_until(getattr(request, "axes_ip_address", None), now)
    else:
        ends_at = lockout_ends_at(username, now)
    seconds = max(1, math.ceil((ends_at - now).total_seconds())) if ends_at else 1
    response = render(request, "registration/lockout.html", {
        "address_blocked": address_blocked, "seconds": seconds, "minutes": math.ceil(seconds / 60),
    }, status=429)
    response["Retry-After"] = str(seconds)
    return response
