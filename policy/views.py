from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts.choices import Role
from accounts.permissions import require_roles
from accounts.selectors import account_is_locked

from .forms import LoginForm, PasswordChangeForm, PasswordPolicyForm
from .lockout import cool_off
from .selectors import current_policy, password_change_reason, policy_for
from .services import password_change, policy_update


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@sensitive_post_parameters()
@never_cache
@login_required
def password_change_view(request):
    reason = password_change_reason(request.user)
    form = PasswordChangeForm(request.user, request.POST or None, request=request, one_time=reason == "one_time")
    if request.method == "POST" and not form.is_valid() and account_is_locked(request.user):
        # Too many wrong current passwords: the session ends like a locked login would.
        logout(request)
        return lockout_response(request)
    if request.method == "POST" and form.is_valid():
        try:
            password_change(actor=request.user, account=request.user,
                            new_password=form.cleaned_data["new_password1"], request=request)
        except ValidationError as error:
            form.add_error("new_password1", error)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(request, "registration/password_change_form.html", {
        "form": form, "reason": reason, "policy": policy_for(request.user),
    })


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout page: Vietnamese, HTTP 429, and who to call."""
    minutes = int(cool_off(request).total_seconds() // 60)
    return render(request, "registration/lockout.html", {"minutes": minutes}, status=429)


@require_roles(Role.IT_ADMIN, Role.INSPECTOR)
def policy_view(request):
    policy = current_policy()
    read_only = not request.user.is_it_admin
    if request.method == "POST":
        if read_only:
            raise PermissionDenied
        form = PasswordPolicyForm(request.POST, instance=policy)
        if form.is_valid():
            policy_update(actor=request.user, values=form.cleaned_data, request=request)
            messages.success(request, _("The password policy has been saved."))
            return redirect("policy:edit")
    else:
        form = PasswordPolicyForm(instance=policy)
    if read_only:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "policy/policy_form.html", {"form": form, "read_only": read_only, "policy": policy})
