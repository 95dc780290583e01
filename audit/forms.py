from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import EventKind


class EventFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Event"), choices=[("", _("All events"))] + EventKind.choices, required=False)
    username = forms.CharField(label=_("Username"), max_length=64, required=False)
    unit_code = forms.CharField(label=_("Unit code"), max_length=13, required=False)
    # Every unit filter means "this unit and the units below it" unless asked otherwise.
    unit_exact = forms.BooleanField(label=_("This unit only (not the units below it)"), required=False)
    date_from = forms.DateField(label=_("From (dd/mm/yyyy)"), required=False)
    date_to = forms.DateField(label=_("To (dd/mm/yyyy)"), required=False)

    def clean_username(self):
        return self.cleaned_data["username"].strip()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return cleaned
