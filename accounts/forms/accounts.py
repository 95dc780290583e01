from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from portal.text import name_normalise, reject_control_characters

from ..choices import AccountState, Role, UnitKind
from ..models import (
    Unit,
    User,
    agency_code_validator,
    decision_number_validator,
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


class UnitPicker(forms.Select):
    """A unit field that searches as you type (static/js/unit-picker.js, the ARIA combobox pattern)
    instead of one flat list of hundreds of units. Without JavaScript it is the plain <select> it
    wraps, and it still works; with it, a text box asks accounts:unit_search and sets the select's
    value. The server validates the chosen id against the field's queryset (the reader's scope)
    either way: the script is a convenience, never a guard."""

    def __init__(self, *args, active_only=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.active_only = active_only
        self.exclude = None  # a unit whose subtree the search leaves out (move and merge targets)

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        query = {"active": "1"} if self.active_only else {}
        if self.exclude is not None:
            query["exclude"] = self.exclude.pk
        search_url = reverse("accounts:unit_search") + ("?" + urlencode(query) if query else "")
        return render_to_string("includes/unit_picker.html", {"select": select, "search_url": search_url})


class UnitChoiceField(forms.ModelChoiceField):
    widget = UnitPicker

    def label_from_instance(self, unit):
        return f"{'— ' * unit.depth}{unit.name} ({unit.code})"


class DecisionNumberField(forms.CharField):
    """"1234/qđ-ubnd " is taken as "1234/QĐ-UBND": symbols are written in capitals."""

    default_validators = [reject_control_characters, decision_number_validator]

    def to_python(self, value):
        return name_normalise(super().to_python(value)).upper()


class LegalBasisForm(forms.Form):
    """A unit change's legal basis (the decision or resolution that orders it). The service checks
    the same rules; the form says them next to each field."""

    basis_number = DecisionNumberField(
        label=_("Decision number and symbol"), max_length=40,
        help_text=_("As on the decision or resolution, for example 1234/QĐ-UBND or 12/2025/NQ-HĐND."),
        error_messages={"required": _("Give the number and symbol of the decision.")})
    basis_date = forms.DateField(label=_("Decision date"), help_text=_("dd/mm/yyyy"),
                                 error_messages={"required": _("Give the date of the decision."),
                                                 "invalid": _("Write the date as dd/mm/yyyy, for example 30/06/2025.")})
    effective_date = forms.DateField(label=_("Effective date"), help_text=_("dd/mm/yyyy"),
                                     error_messages={"required": _("Give the effective date."),
                                                     "invalid": _("Write the date as dd/mm/yyyy, for example "
                                                                  "01/07/2025.")})

    def clean_basis_date(self):
        basis_date = self.cleaned_data["basis_date"]
        if basis_date > timezone.localdate():
            raise forms.ValidationError(_("The decision's date cannot be in the future."))
        return basis_date

    def clean(self):
        cleaned = super().clean()
        basis_date, effective_date = cleaned.get("basis_date"), cleaned.get("effective_date")
        if basis_date and effective_date and effective_date < basis_date:
            self.add_error("effective_date", _("The effective date cannot be before the decision's date."))
        return cleaned


def _active_units(queryset):
    return queryset.filter(state="active").order_by("path")


class AccountFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=_("All units"),
                           widget=UnitPicker(active_only=False))
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


class UnitRenameForm(LegalBasisForm):
    name = NameField(label=_("New name"), max_length=200)
    field_order = ["name"]


class UnitRetireForm(LegalBasisForm):
    pass


class UnitTargetForm(LegalBasisForm):
    """Move under, or merge into, another active unit."""

    target = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))
    field_order = ["target"]

    def __init__(self, *args, units, exclude, target_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = _active_units(units).exclude(path__startswith=exclude.path)
        self.fields["target"].widget.exclude = exclude
        if target_label:
            self.fields["target"].label = target_label


class UnitMergeForm(UnitTargetForm):
    """The merge's two steps: the first POST shows the preview; the second carries `confirm` and the
    preview's counts, which the service compares with the unit as it is when it merges."""

    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    accounts_count = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    sub_units_count = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    contents_digest = forms.RegexField(regex=r"\A[0-9a-f]{64}\Z", required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("confirm") and (cleaned.get("accounts_count") is None or cleaned.get("sub_units_count") is None):
            raise forms.ValidationError(_("The confirmation does not say what the preview showed: look at the "
                                          "preview again."))
        return cleaned


class UnitSearchForm(forms.Form):
    """The unit picker's query (accounts:unit_search): what was typed, whether only active units
    may be chosen, and a unit whose subtree is left out (a move or merge target)."""

    q = forms.CharField(required=False, max_length=100, strip=True, validators=[reject_control_characters],
                        error_messages={"max_length": _("Type at most %(limit_value)d characters to search for a "
                                                        "unit.")})
    active = forms.BooleanField(required=False)
    exclude = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
