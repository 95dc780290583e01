from django import forms
from django.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from .models import PasswordPolicy

# The unit each number counts in, for a message that says what to type ("from 8 to 64 characters").
FIELD_UNITS = {
    "min_length": _("characters"), "min_length_admin": _("characters"), "min_zxcvbn_score": _("(strength level)"),
    "history_count": _("passwords"), "history_count_admin": _("passwords"), "min_age_hours": _("hours"),
    "max_age_days": _("days"), "max_age_days_admin": _("days"), "expiry_warning_days": _("days"),
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One clear message per field, with its range and unit, for every way a value can be wrong:
        # Django's stock "Ensure this value is greater than or equal to 8." names neither the field nor
        # the range. ModelForm applies these codes to the model's own validators too.
        for name, field in self.fields.items():
            if name in self.TEXT_FIELDS:
                continue
            low, high = _limits(PasswordPolicy._meta.get_field(name))
            message = _("%(label)s: enter a whole number from %(low)d to %(high)d %(unit)s.") % {
                "label": field.label, "low": low, "high": high, "unit": FIELD_UNITS[name]}
            for code in ("required", "invalid", "min_value", "max_value", "step_size"):
                field.error_messages[code] = message

    def field_groups(self):
        """The page shows the password rules and the lookup quotas as two groups."""
        quota = [self[name] for name in PasswordPolicy.QUOTA_FIELDS]
        rules = [field for field in self.visible_fields() if field.name not in PasswordPolicy.QUOTA_FIELDS]
        return [(_("Password and sign-in rules"), rules), (_("Citizen lookup quotas"), quota)]
