from django import forms
from django.utils.translation import gettext_lazy as _

from portal.text import name_normalise, reject_control_characters

from .choices import AccountState, Role, UnitKind
from .models import (
    Unit,
    User,
    agency_code_validator,
    normalise_username,
    phone_validator,
    username_validator,
)

# The model's limit (RFC 5321's 254): a longer address is the field's own error, not a server error.
EMAIL_MAX_LENGTH = 254
REASON_MAX_LENGTH = 300


class UsernameField(forms.CharField):
    """Usernames are lower-case: "Cb.Moi" is accepted as "cb.moi" before the format is checked."""

    def to_python(self, value):
        return normalise_username(super().to_python(value))


class NameField(forms.CharField):
    """A person's or a unit's name: NFC, trimmed, without invisible or direction characters."""

    default_validators = [reject_control_characters]

    def to_python(self, value):
        return name_normalise(super().to_python(value))


class PhoneField(forms.CharField):
    default_validators = [phone_validator]


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
    full_name = NameField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=EMAIL_MAX_LENGTH)
    phone = PhoneField(label=_("Phone"), required=False, max_length=20)
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
    full_name = NameField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=EMAIL_MAX_LENGTH)
    phone = PhoneField(label=_("Phone"), required=False, max_length=20)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    can_lookup = forms.BooleanField(label=_("May look up citizens"), required=False)
    confirm_self_demotion = forms.BooleanField(
        label=_("I understand that I will lose the IT Center administrator role at once"), required=False)

    def __init__(self, *args, units, own_admin_account=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _active_units(units)
        # Only an IT admin editing their own account can demote themself; nobody else sees the box.
        self.own_admin_account = own_admin_account
        if not own_admin_account:
            del self.fields["confirm_self_demotion"]

    def clean(self):
        cleaned = super().clean()
        demotes_self = self.own_admin_account and cleaned.get("role") not in (None, Role.IT_ADMIN)
        if demotes_self and not cleaned.get("confirm_self_demotion"):
            self.add_error("confirm_self_demotion", _(
                "You are removing your own IT Center administrator role: tick the box to confirm."))
        return cleaned


class ReasonForm(forms.Form):
    # One line, as on the account page (an <input>): a reason is one cell of the audit log and its exports.
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_LENGTH, validators=[reject_control_characters],
                             error_messages={
                                 "required": _("Give a reason."),
                                 "max_length": _("A reason has at most %(limit_value)d characters (this one has "
                                                 "%(show_value)d)."),
                             })


class UnitCreateForm(forms.Form):
    code = forms.CharField(label=_("Agency code"), max_length=13, validators=[agency_code_validator],
                           help_text=_("Form NNN.NN.NN.HNN, for example 000.00.00.H19."))
    name = NameField(label=_("Name"), max_length=200)
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
    name = NameField(label=_("New name"), max_length=200)


class UnitTargetForm(forms.Form):
    """Move under, or merge into, another active unit."""

    target = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))

    def __init__(self, *args, units, exclude, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = _active_units(units).exclude(path__startswith=exclude.path)
