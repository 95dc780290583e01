"""Sign-in forms: Django's login and password-change forms with the portal's rules. They parse and
raise; recording what happened is the views' and services' work."""
from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from policy.validators import MAX_PASSWORD_LENGTH

from ..models import normalise_password, normalise_username
from ..permissions import ACCESS_CONTAINED, account_access_refusal

USERNAME_MAX_LENGTH = 64  # accounts.User.username


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
        "contained": _(
            "This account is held by the IT Center while a security incident is handled. Contact the IT Center."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        _limit_password_length(self.fields["password"])
        # Django sets the field's max_length from the model but no validator: a 256-character username
        # reached the lockout table (255 characters) and was a server error.
        self.fields["username"].validators.append(MaxLengthValidator(
            USERNAME_MAX_LENGTH, message=_("A username has at most %(limit_value)d characters.")))

    def clean_username(self):
        # One account, one lockout counter, whatever the case typed.
        return normalise_username(self.cleaned_data["username"])

    # The password is NFC-normalised by User.check_password, not here: a hash made before passwords
    # were normalised may be of the decomposed form, which check_password still accepts (and rehashes).

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        # Letter point 3: a default password not changed in time no longer opens the account.
        if user.one_time_password_expired():
            raise forms.ValidationError(self.error_messages["one_time_password_expired"],
                                        code="one_time_password_expired")
        # Incident containment: no session opens until the IT Center lifts it (then the forced change).
        if account_access_refusal(user) == ACCESS_CONTAINED:
            raise forms.ValidationError(self.error_messages["contained"], code="contained")


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Field names as Django's (`old_password`, `new_password1`, `new_password2`). The policy's
    validators run in policy.services.password_change, the one place every change goes through."""

    def __init__(self, *args, one_time=False, **kwargs):
        super().__init__(*args, **kwargs)
        if one_time:
            self.fields["old_password"].label = _("One-time password (from the IT Center)")
        for name in ("old_password", "new_password1", "new_password2"):
            _limit_password_length(self.fields[name])

    # The new password NFC before anything compares, judges or stores it (accounts.models.
    # normalise_password); the current one is normalised by User.check_password (see LoginForm).
    def clean_new_password1(self):
        return normalise_password(self.cleaned_data["new_password1"])

    def clean_new_password2(self):
        return normalise_password(self.cleaned_data["new_password2"])

    def validate_password_for_user(self, user, password_field_name="password2"):
        """Deferred to the service (see the class docstring), so validators run once per attempt."""




class SecondStepForm(forms.Form):
    """The second step of the sign-in: a 6-digit code from the authenticator app, or one of the
    recovery codes (`xxxxx-xxxxx`). Field name as django-otp's (`otp_token`, the public contract)."""

    otp_token = forms.CharField(
        label=_("Code"), max_length=32, strip=True,
        error_messages={"required": _("Enter the 6-digit code shown by your authenticator app.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
                                      "spellcheck": "false", "autocapitalize": "off"}))


class EnrolmentForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code from the app"), max_length=6, min_length=6, strip=True,
        error_messages={"required": _("Enter the 6-digit code shown by your authenticator app."),
                        "min_length": _("The code has 6 digits."), "max_length": _("The code has 6 digits.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9]{6}", "autofocus": True}))
