"""Turnover request forms (letter point 2): parse and validate only, never write. The rules are the
service's (accounts.services.turnover); what is checked here is what a person can fix on the page
before anything is sent: required letter fields, dd/mm/yyyy dates and their order."""
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import DepartureReason, Role, TurnoverAction, TurnoverState
from ..models import Unit, User
from ..models.turnover import letter_number_validator
from .accounts import UnitChoiceField, UsernameField

DATE_WIDGET = forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})


# Above this many accounts in reach, the account field's <select> holds only the chosen one: the
# picker searches (accounts:account_search) instead of sending the whole province with every line.
ACCOUNT_PICKER_FULL_LIST = 300


class AccountPicker(forms.Select):
    """An account field that searches as you type (static/js/unit-picker.js, the same ARIA combobox as
    the unit field) with accounts:account_search. The server checks the chosen id against the field's
    queryset (the reader's scope) either way."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = self.choices
        queryset = getattr(choices, "queryset", None)
        if queryset is not None and queryset.count() > ACCOUNT_PICKER_FULL_LIST:
            field = choices.field
            chosen = [str(item) for item in (value if isinstance(value, (list, tuple)) else [value])
                      if str(item or "").isdigit()]
            self.choices = [("", field.empty_label or "")] + [
                (account.pk, field.label_from_instance(account)) for account in queryset.filter(pk__in=chosen)]
        try:
            select = super().render(name, value, attrs, renderer)
        finally:
            self.choices = choices
        return render_to_string("includes/account_picker.html", {
            "select": select, "search_url": reverse("accounts:account_search")})


class AccountChoiceField(forms.ModelChoiceField):
    widget = AccountPicker

    def label_from_instance(self, account):
        return f"{account.username} — {account.full_name} ({account.unit.name})"


class AccountSearchForm(forms.Form):
    """The account picker's query (accounts:account_search): a name, username or e-mail, typed
    with or without accents."""

    q = forms.CharField(required=False, max_length=100, strip=True,
                        error_messages={"max_length": _("Type at most %(limit_value)d characters to search for an "
                                                        "account.")})

    def clean_q(self):
        text = self.cleaned_data["q"]
        if any(ord(char) < 32 or 0xD800 <= ord(char) <= 0xDFFF for char in text):
            raise forms.ValidationError(_("Type letters, digits and punctuation only."))
        return text


class TurnoverFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=[("", _("All states"))] + TurnoverState.choices,
                              required=False)


class TurnoverLetterForm(forms.Form):
    unit = UnitChoiceField(label=_("Requesting unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))
    letter_number = forms.CharField(label=_("Letter number and symbol"), max_length=40,
                                    validators=[letter_number_validator],
                                    help_text=_("As on the letter, for example 125/UBND-VP."))
    letter_date = forms.DateField(label=_("Letter date"), widget=DATE_WIDGET, help_text=_("dd/mm/yyyy"))
    issuing_unit_name = forms.CharField(label=_("Issuing unit"), max_length=200)
    signer_name = forms.CharField(label=_("Signed by"), max_length=150)
    signer_position = forms.CharField(label=_("Signer's position"), max_length=150)
    effective_date = forms.DateField(label=_("Effective date"), widget=DATE_WIDGET,
                                     help_text=_("The day the changes take effect (dd/mm/yyyy)."))
    attachment = forms.FileField(label=_("Scanned letter (PDF, at most 10 MB)"),
                                 widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units.filter(state="active").order_by("path")

    def clean_letter_number(self):
        return self.cleaned_data["letter_number"].strip()

    def clean_letter_date(self):
        letter_date = self.cleaned_data["letter_date"]
        if letter_date > timezone.localdate():
            raise forms.ValidationError(_("The letter's date cannot be in the future."))
        return letter_date

    def clean(self):
        cleaned = super().clean()
        letter_date, effective_date = cleaned.get("letter_date"), cleaned.get("effective_date")
        if letter_date and effective_date and effective_date < letter_date:
            self.add_error("effective_date", _("The effective date cannot be before the letter's date."))
        return cleaned


LOOKUP_CHOICES = [("", "—"), ("yes", _("May look up citizens")), ("no", _("May not look up citizens"))]


class TurnoverLineForm(forms.Form):
    """One line: which account (or newcomer), and what to do. Which fields an action needs is the
    service's rule; its refusal comes back next to the field it names."""

    action = forms.ChoiceField(label=_("Action"), choices=[("", _("Choose an action"))] + TurnoverAction.choices)
    account = AccountChoiceField(label=_("Account"), queryset=User.objects.none(), required=False,
                                 empty_label=_("Choose an account"))
    departure_reason = forms.ChoiceField(label=_("Why"), choices=[("", "—")] + DepartureReason.choices,
                                         required=False)
    new_role = forms.ChoiceField(label=_("New role"), choices=[("", "—")] + Role.choices, required=False)
    new_can_lookup = forms.TypedChoiceField(label=_("Right to look up citizens"), choices=LOOKUP_CHOICES,
                                            coerce=lambda value: value == "yes", empty_value=None, required=False)
    new_unit = UnitChoiceField(label=_("New unit"), queryset=Unit.objects.none(), required=False, empty_label="—")
    full_name = forms.CharField(label=_("Newcomer's full name"), max_length=150, required=False)
    username = UsernameField(label=_("Newcomer's username"), max_length=64, required=False)
    email = forms.EmailField(label=_("Newcomer's e-mail"), required=False)
    phone = forms.RegexField(label=_("Newcomer's phone"), regex=r"\A\+?[0-9 .]{9,15}\Z", required=False,
                             error_messages={"invalid": _("Enter a phone number of 9–15 digits.")})

    def __init__(self, *args, accounts, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts.select_related("unit").order_by("unit__path", "username")
        self.fields["new_unit"].queryset = units.filter(state="active").order_by("path")

    def values(self) -> dict:
        """What the service takes for this line."""
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)} | {
            "new_can_lookup": self.cleaned_data.get("new_can_lookup")}


class BaseTurnoverLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, accounts, units, **kwargs):
        self.accounts, self.units = accounts, units
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"accounts": self.accounts, "units": self.units}

    def filled_forms(self):
        """The lines a person filled in (blank extra rows are ignored)."""
        return [form for form in self.forms if form.has_changed() and form.is_valid()]

    def clean(self):
        if any(self.errors):
            return
        if not any(form.has_changed() for form in self.forms):
            raise forms.ValidationError(_("Add at least one line: which account, and what to do."))


TurnoverLineFormSet = forms.formset_factory(TurnoverLineForm, formset=BaseTurnoverLineFormSet, extra=3,
                                            max_num=50, validate_max=True)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Why the request goes back to the unit"), max_length=300,
                             widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=300, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET, help_text=_("dd/mm/yyyy"))
    name = forms.CharField(label=_("Name"), max_length=100)
