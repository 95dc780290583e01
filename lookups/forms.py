"""The lookup pages' forms: parse only, never write or record. The lookup form checks nothing itself —
every rule is lookup_decide's, so that every attempt, even a malformed one, is decided and recorded the
same way as through the API. The log's filters are checked here: a bad filter changes nothing."""
from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from portal.errors import PolicyViolation

from .choices import AnomalyKind, Decision, QuotaWindow
from .validation import citizen_id_checked

# Every reason lookup_decide refuses with, as the log names it.
REFUSAL_REASONS = {
    "malformed": _("Unreadable request"),
    "citizen_id_missing": _("No citizen ID"),
    "cmnd_not_accepted": _("Old identity card number (CMND)"),
    "citizen_id_malformed": _("Invalid citizen ID"),
    "dossier_missing": _("No dossier code"),
    "dossier_malformed": _("Invalid dossier code"),
    "purpose_missing": _("No purpose"),
    "purpose_malformed": _("Invalid purpose"),
    "officer_disabled": _("Officer's account not active"),
    "out_of_scope": _("Officer outside the caller's scope"),
    "officer_locked": _("Officer's account locked"),
    "contained": _("Officer's account held by an incident containment"),
    "officer_must_change_password": _("Officer must change password"),
    "no_lookup_right": _("No lookup right"),
    "quota_officer_minute": _("Officer's quota per minute used up"),
    "quota_officer_day": _("Officer's quota per day used up"),
    "quota_unit_minute": _("Unit's quota per minute used up"),
    "quota_unit_day": _("Unit's quota per day used up"),
    "quota_unavailable": _("Quotas could not be counted"),
    "record_unavailable": _("Record could not be written"),
}
DATE_FORMATS = ["%d/%m/%Y"]
DATE_WIDGET = forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})
CITIZEN_ATTRIBUTES = {"inputmode": "numeric", "autocomplete": "off", "maxlength": "12", "spellcheck": "false"}


class ValuelessTextInput(forms.TextInput):
    """A text box that never writes back what was typed: a citizen ID is not echoed into the page."""

    def format_value(self, value):
        return None


class LookupForm(forms.Form):
    citizen_id = forms.CharField(label=_("Personal identification number"), required=False,
                                 widget=forms.TextInput(attrs=CITIZEN_ATTRIBUTES),
                                 help_text=_("The citizen's 12 digits (not the old 9-digit CMND)."))
    dossier_code = forms.CharField(label=_("Dossier code"), required=False,
                                   widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": "40"}),
                                   help_text=_("For example 000.00.32.H19-210708-0032."))
    purpose = forms.CharField(label=_("Purpose of the lookup"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2, "maxlength": "300"}))


class RevealForm(forms.Form):
    citizen_id = forms.CharField(widget=forms.HiddenInput, max_length=12)


class LookupLogForm(forms.Form):
    """The log's filters. The citizen ID is typed, checked, then carried only as its keyed hash (and its
    mask, to show what is filtered): that filter is POSTed and never puts the number in a URL; the others
    are a GET form (a view can be bookmarked)."""

    citizen_id = forms.CharField(label=_("Personal identification number"), required=False, max_length=20,
                                 widget=ValuelessTextInput(attrs=CITIZEN_ATTRIBUTES))
    citizen = forms.CharField(required=False, widget=forms.HiddenInput,
                              validators=[RegexValidator(r"\A[0-9a-f]{64}\Z")])
    citizen_masked = forms.CharField(required=False, widget=forms.HiddenInput,
                                     validators=[RegexValidator(r"\A[0-9]{3}\*{7}[0-9]{2}\Z")])
    officer = forms.CharField(label=_("Officer's username"), required=False, max_length=64)
    unit = forms.CharField(label=_("Unit code"), required=False, max_length=13, validators=[RegexValidator(
        r"\A\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}\Z", _("Enter a unit code such as 000.00.31.H19."))])
    # A unit stands for itself and the units below it unless asked otherwise.
    unit_exact = forms.BooleanField(label=_("This unit only (not the units below it)"), required=False)
    decision = forms.ChoiceField(label=_("Decision"), required=False,
                                 choices=[("", _("All decisions"))] + Decision.choices)
    reason = forms.ChoiceField(label=_("Reason"), required=False,
                               choices=[("", _("All reasons"))] + list(REFUSAL_REASONS.items()))
    date_from = forms.DateField(label=_("From"), required=False, input_formats=DATE_FORMATS, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("To"), required=False, input_formats=DATE_FORMATS, widget=DATE_WIDGET)
    # Keyset pagination (portal/keyset.py): the key of the last (or first) row of the page shown.
    after = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    before = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean_citizen_id(self):
        value = self.cleaned_data["citizen_id"].strip()
        if not value:
            return ""
        try:
            return citizen_id_checked(value, today=timezone.localdate())
        except PolicyViolation as error:
            raise forms.ValidationError(error.messages) from None

    def clean_officer(self):
        return self.cleaned_data["officer"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date cannot be before the start date."))
        return cleaned


UNIT_CODE_VALIDATOR = RegexValidator(r"\A\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}\Z", _("Enter a unit code such as 000.00.31.H19."))


class _DateRangeForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, input_formats=DATE_FORMATS, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("To"), required=False, input_formats=DATE_FORMATS, widget=DATE_WIDGET)

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date cannot be before the start date."))
        return cleaned


class AnomalyFilterForm(_DateRangeForm):
    """The flagged lookups' filters (a GET form: none of them is a citizen ID). The unit stands for its
    whole subtree; the view checks that the reader may see it."""

    kind = forms.ChoiceField(label=_("Anomaly"), required=False, choices=[("", _("All anomalies"))] + AnomalyKind.choices)
    unit = forms.CharField(label=_("Unit code (and the units below it)"), required=False, max_length=13,
                           validators=[UNIT_CODE_VALIDATOR])
    officer = forms.CharField(label=_("Officer's username"), required=False, max_length=64)
    state = forms.ChoiceField(label=_("Review"), required=False, choices=[
        ("", _("Open and closed")), ("open", _("Open (not reviewed yet)")), ("closed", _("Closed after review"))])
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    field_order = ["kind", "state", "unit", "officer", "date_from", "date_to"]

    def clean_officer(self):
        return self.cleaned_data["officer"].strip().lower()


class AnomalyReviewForm(forms.Form):
    """What the IT Center's review of a flagged lookup found (the rules are anomaly_flag_review's)."""

    note = forms.CharField(label=_("What the review found"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("E.g. the officer's unit confirmed the dossier; the lookup was for it."))


class HistoryExportForm(_DateRangeForm):
    """The dates of an officer's lookup history to export (both optional: the whole history)."""


class QuotaOverrideForm(forms.Form):
    """One override: a unit (its code), a role, or both; a window, a limit; shadow mode. The rules (which
    scopes fit which windows) are quota_override_set's."""

    unit = forms.CharField(label=_("Unit code"), required=False, max_length=13, validators=[UNIT_CODE_VALIDATOR],
                           help_text=_("Empty: every unit (then choose a role)."))
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("Every role"))] + Role.choices,
                             help_text=_("Only for an officer's own windows; a unit's windows are its whole allowance."))
    window = forms.ChoiceField(label=_("Quota window"), choices=QuotaWindow.choices)
    limit = forms.IntegerField(label=_("Limit"), min_value=1, max_value=10_000_000)
    shadow = forms.BooleanField(label=_("Shadow mode: count and flag lookups past this limit, refuse none"),
                                required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One message for every way a limit can be wrong (the service's own, in the reader's language).
        message = gettext("Enter a whole number of lookups from 1 to %(max)d.") % {"max": self.fields["limit"].max_value}
        for code in ("required", "invalid", "min_value", "max_value"):
            self.fields["limit"].error_messages[code] = message
