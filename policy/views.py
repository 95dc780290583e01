from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.permissions import require_roles
from portal.errors import DomainError, form_error

from .forms import PasswordPolicyForm
from .selectors import current_policy
from .services import policy_update


@require_roles(Role.IT_ADMIN, Role.INSPECTOR)
def policy_view(request):
    policy = current_policy()
    read_only = not request.user.is_it_admin
    if request.method == "POST":
        if read_only:
            raise PermissionDenied
        form = PasswordPolicyForm(request.POST, instance=policy)
        if form.is_valid():
            try:
                policy_update(actor=request.user, values=form.cleaned_data)
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, _("The password policy has been saved."))
                return redirect("policy:edit")
    else:
        form = PasswordPolicyForm(instance=policy)
    if read_only:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "policy/policy_form.html", {"form": form, "read_only": read_only, "policy": policy})
