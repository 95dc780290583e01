"""Input of the registry page: parse and validate only (federation.services writes)."""
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitState
from accounts.models import Unit


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, unit):
        return f"{unit.name} ({unit.code})"


def _units():
    return Unit.objects.filter(state=UnitState.ACTIVE).order_by("path")


class SystemForm(forms.Form):
    name = forms.CharField(label=_("System name"), max_length=120)
    unit = UnitField(label=_("Owner unit (its officers and those of the units below it may sign in)"),
                     queryset=Unit.objects.none())
    redirect_uris = forms.CharField(label=_("Redirect URIs (one a line, matched exactly)"),
                                    widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    backchannel_logout_uri = forms.CharField(label=_("Back-channel logout URI (optional)"), required=False,
                                             max_length=500)
    contact = forms.CharField(label=_("Contact (vendor, phone, e-mail)"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units()

    def clean_redirect_uris(self):
        return [line.strip() for line in self.cleaned_data["redirect_uris"].splitlines() if line.strip()]


class ApiClientForm(forms.Form):
    name = forms.CharField(label=_("Client name"), max_length=100)
    unit = UnitField(label=_("Unit (its officers and those of the units below it)"), queryset=Unit.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units()


class ManualTaskDoneForm(forms.Form):
    note = forms.CharField(label=_("What was done"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(label=_("Evidence (PDF, PNG or JPEG)"), required=True)


class RoleMappingForm(forms.Form):
    """How each portal role is named on a SCIM target (its role value and its Group); empty: the
    portal's role code is sent as it is and the account joins no group."""

    it_admin = forms.CharField(label=_("IT Center administrator (it_admin)"), required=False, max_length=100)
    inspector = forms.CharField(label=_("Inspector (inspector)"), required=False, max_length=100)
    unit_leader = forms.CharField(label=_("Unit leader (unit_leader)"), required=False, max_length=100)
    officer = forms.CharField(label=_("Officer (officer)"), required=False, max_length=100)
