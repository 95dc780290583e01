from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import AccountState, Role, UnitKind
from .models import Unit, User, agency_code_validator, normalise_username, username_validator


class UsernameField(forms.CharField):
    """Usernames are lower-case: "Cb.Moi" is accepted as "cb.moi" before the format is checked."""

    def to_python(self, value):
        return normalise_username(super().to_python(value))


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, unit):
        return f"{'— ' * unit.depth}{unit.name} ({unit.code})"


def _active_units(queryset):
    return queryset.filter(state="active").order_by("path")


class AccountFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=_("All units"))
    role = forms.ChoiceField(label=_("Role"), choices=[("", _("All roles"))] + Role.choices, required=False)
    state = forms.ChoiceField(label=_("State"), choices=[("", _("All states"))] + AccountState.choices,
                              required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units.order_by("path")


class AccountCreateForm(forms.Form):
    username = UsernameField(label=_("Username"), max_length=64, validators=[username_validator])
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.RegexField(label=_("Phone"), regex=r"^\+?[0-9 .]{9,15}$", required=False,
                             error_messages={"invalid": _("Enter a phone number of 9–15 digits.")})
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.OFFICER)
    can_lookup = forms.BooleanField(label=_("May look up citizens"), required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _active_units(units)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError(_("An account with this username already exists."))
        return username


class AccountEditForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.RegexField(label=_("Phone"), regex=r"^\+?[0-9 .]{9,15}$", required=False,
                             error_messages={"invalid": _("Enter a phone number of 9–15 digits.")})
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    can_lookup = forms.BooleanField(label=_("May look up citizens"), required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _active_units(units)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class UnitCreateForm(forms.Form):
    code = forms.CharField(label=_("Agency code"), max_length=13, validators=[agency_code_validator],
                           help_text=_("Form NNN.NN.NN.HNN, for example 000.00.00.H19."))
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("Choose a kind"))] + UnitKind.choices)
    parent = UnitChoiceField(label=_("Parent unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = _active_units(units)

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if Unit.objects.filter(code=code).exists():
            raise forms.ValidationError(_("A unit with this agency code already exists."))
        return code


class UnitRenameForm(forms.Form):
    name = forms.CharField(label=_("New name"), max_length=200)


class UnitTargetForm(forms.Form):
    """Move under, or merge into, another active unit."""

    target = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))

    def __init__(self, *args, units, exclude, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = _active_units(units).exclude(path__startswith=exclude.path)
