from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role

from .models import PasswordPolicy

# The roles the policy may add to IT admins and inspectors (who always sign in with a second factor).
SECOND_FACTOR_ROLE_CHOICES = [(Role.UNIT_LEADER.value, Role.UNIT_LEADER.label), (Role.OFFICER.value, Role.OFFICER.label)]

# The unit each number counts in, for a message that says what to type ("from 8 to 64 characters").
FIELD_UNITS = {
    "min_length": _("characters"), "min_length_admin": _("characters"), "min_zxcvbn_score": _("(strength level)"),
    "history_count": _("passwords"), "history_count_admin": _("passwords"), "min_age_hours": _("hours"),
    "max_age_days": _("days"), "max_age_days_admin": _("days"),
    "one_time_password_hours": _("hours"), "lockout_threshold": _("failed logins"), "lockout_minutes": _("minutes"),
    "dormant_days": _("days"), "recertify_months": _("months"), "session_idle_minutes": _("minutes"),
    "session_idle_minutes_admin": _("minutes"), "quota_officer_minute": _("lookups"),
    "quota_officer_day": _("lookups"), "quota_unit_minute": _("lookups"), "quota_unit_day": _("lookups"),
}


def _limits(model_field) -> tuple[int, int]:
    low, high = 0, 32767 if isinstance(model_field, models.PositiveSmallIntegerField) else 2147483647
    for validator in model_field.validators:
        if isinstance(validator, MinValueValidator):
            low = max(low, validator.limit_value)
        elif isinstance(validator, MaxValueValidator):
            high = min(high, validator.limit_value)
    return low, high


class PasswordPolicyForm(forms.ModelForm):
    TEXT_FIELDS = ("expiry_reminder_days",)  # a list of days: its validator's message says what to type

    class Meta:
        model = PasswordPolicy
        fields = PasswordPolicy.EDITABLE_FIELDS

    second_factor_roles = forms.MultipleChoiceField(
        label=capfirst(PasswordPolicy._meta.get_field("second_factor_roles").verbose_name),
        help_text=PasswordPolicy._meta.get_field("second_factor_roles").help_text,
        choices=SECOND_FACTOR_ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One clear message per field, with its range and unit, for every way a value can be wrong:
        # Django's stock "Ensure this value is greater than or equal to 8." names neither the field nor
        # the range. ModelForm applies these codes to the model's own validators too.
        for name, field in self.fields.items():
            if name in self.TEXT_FIELDS or name in PasswordPolicy.SECOND_FACTOR_FIELDS:
                continue
            low, high = _limits(PasswordPolicy._meta.get_field(name))
            message = _("%(label)s: enter a whole number from %(low)d to %(high)d %(unit)s.") % {
                "label": field.label, "low": low, "high": high, "unit": FIELD_UNITS[name]}
            for code in ("required", "invalid", "min_value", "max_value", "step_size"):
                field.error_messages[code] = message

    def field_groups(self):
        """The page shows the password rules and the lookup quotas as two groups."""
        quota = [self[name] for name in PasswordPolicy.QUOTA_FIELDS]
        second = [self[name] for name in PasswordPolicy.SECOND_FACTOR_FIELDS]
        grouped = PasswordPolicy.QUOTA_FIELDS + PasswordPolicy.SECOND_FACTOR_FIELDS
        rules = [field for field in self.visible_fields() if field.name not in grouped]
        return [(_("Password and sign-in rules"), rules), (_("Citizen lookup quotas"), quota),
                (_("Second factor (TOTP)"), second)]

    def clean_second_factor_roles(self):
        return sorted(self.cleaned_data["second_factor_roles"])
