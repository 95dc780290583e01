"""Sign-in pages: Django's login (with the portal's form), the password change, and django-axes'
lockout page. The forms parse; these views hand what happened to the sign-in services."""
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.forms.forms import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from policy.selectors import password_change_allowed_from, password_change_reason, policy_for
from policy.services import password_change
from policy.validators import PASSPHRASE_EXAMPLES, password_rules_for
from portal.errors import PolicyViolation, form_error

from ..forms_signin import LoginForm, PasswordChangeForm
from ..lockout import cool_off
from ..selectors import account_is_locked
from ..services import signin


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        if form.has_error(NON_FIELD_ERRORS, "one_time_password_expired"):
            signin.login_record_refused(account=form.get_user(), reason="one_time_password_expired")
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
    if request.method == "POST" and not form.is_valid():
        if form.has_error("old_password", "password_incorrect"):
            _count_wrong_current_password(request)
        if account_is_locked(request.user):
            # Too many wrong current passwords: the session ends like a locked login would.
            logout(request)
            return lockout_response(request)
    if request.method == "POST" and form.is_valid():
        try:
            password_change(actor=request.user, account=request.user, new_password=form.cleaned_data["new_password1"])
        except PolicyViolation as error:
            form_error(form, error, field="new_password1")
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(request, "registration/password_change_form.html", {
        "form": form, "reason": reason, "policy": policy_for(request.user),
        "rules": password_rules_for(request.user, required=bool(reason)),
        "change_allowed_from": password_change_allowed_from(request.user), "examples": PASSPHRASE_EXAMPLES,
    })


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout page: Vietnamese, HTTP 429, and who to call."""
    minutes = int(cool_off(request).total_seconds() // 60)
    return render(request, "registration/lockout.html", {"minutes": minutes}, status=429)
