from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.signals import user_login_failed
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from accounts.models import normalise_username
from accounts.services import login_record_refused

from .models import PasswordPolicy
from .validators import MAX_PASSWORD_LENGTH


def _limit_password_length(field) -> None:
    """NIST 800-63B: accept long passphrases; 128 characters bound the hashing work of one request."""
    field.max_length = MAX_PASSWORD_LENGTH
    field.validators.append(MaxLengthValidator(MAX_PASSWORD_LENGTH))
    field.widget.attrs["maxlength"] = MAX_PASSWORD_LENGTH


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form (fields `username`, `password`) with the portal's rules on top."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password. After several failures the account is locked for a while."),
        "inactive": _("This account is disabled. Contact the IT Center."),
        "one_time_password_expired": _(
            "Your one-time password has expired unused. Ask the IT Center for a new one."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        _limit_password_length(self.fields["password"])

    def clean_username(self):
        # One account, one lockout counter, whatever the case typed.
        return normalise_username(self.cleaned_data["username"])

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        # Letter point 3: a default password not changed in time no longer opens the account.
        if user.one_time_password_expired():
            login_record_refused(account=user, reason="one_time_password_expired", request=self.request)
            raise forms.ValidationError(self.error_messages["one_time_password_expired"],
                                        code="one_time_password_expired")


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Field names as Django's (`old_password`, `new_password1`, `new_password2`). The policy's
    validators run in policy.services.password_change, the one place every change goes through."""

    def __init__(self, *args, request=None, one_time=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        if one_time:
            self.fields["old_password"].label = _("One-time password (from the IT Center)")
        for name in ("old_password", "new_password1", "new_password2"):
            _limit_password_length(self.fields[name])

    def clean_old_password(self):
        try:
            return super().clean_old_password()
        except forms.ValidationError:
            # Guessing the current password here must cost what guessing it at the login costs:
            # django-axes counts this failure towards the username's lockout.
            user_login_failed.send(sender=__name__, credentials={"username": self.user.username},
                                   request=self.request)
            raise

    def validate_password_for_user(self, user, password_field_name="password2"):
        """Deferred to the service (see the class docstring), so validators run once per attempt."""


class PasswordPolicyForm(forms.ModelForm):
    class Meta:
        model = PasswordPolicy
        fields = PasswordPolicy.EDITABLE_FIELDS
