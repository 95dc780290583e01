"""Forms of the review pages (letter point 2: staff turnover): the roster upload and the choice of its
findings, recertification campaigns and decisions, dormancy exemptions. They parse and validate only;
the rules are the services' (accounts.services.reconciliation, .recertification, .dormancy)."""
from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import RecertificationDecision, RecertificationOutcome
from .turnover import DATE_WIDGET, TurnoverLineFormSet


def end_of_day(day):
    """A date typed as dd/mm/yyyy means “until the end of that day”, local time."""
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


class RosterUploadForm(forms.Form):
    roster = forms.FileField(label=_("Staff roster (CSV or XLSX, at most 8 MB)"),
                             widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
                             error_messages={"required": _("Choose the roster file.")},
                             help_text=_("Columns: Họ và tên, Mã đơn vị, Chức vụ, Trạng thái, Email, Điện thoại."))


class RosterChoiceForm(forms.Form):
    """Which findings become turnover request lines: account ids and roster line numbers only — the
    lines are rebuilt from the stored result, never from posted names."""

    orphans = forms.TypedMultipleChoiceField(coerce=int, required=False)
    left = forms.TypedMultipleChoiceField(coerce=int, required=False)
    newcomers = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args, result: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["orphans"].choices = [(pk, pk) for pk in result.get("orphans", [])]
        self.fields["left"].choices = [(item["row"]["line"],) * 2 for item in result.get("left_active", [])]
        self.fields["newcomers"].choices = [(row["line"],) * 2 for row in result.get("without_account", [])]
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = _("Some chosen lines are not in this reconciliation; "
                                                       "reload the page.")


class CampaignStartForm(forms.Form):
    name = forms.CharField(label=_("Campaign name"), max_length=150, required=False,
                           help_text=_("Leave empty for “Recertification mm/yyyy”."))
    deadline = forms.DateField(label=_("Deadline"), widget=DATE_WIDGET,
                               help_text=_("The last day for the leaders to certify (dd/mm/yyyy)."))
    outcome = forms.ChoiceField(label=_("Accounts nobody certifies by the end"), widget=forms.RadioSelect,
                                choices=RecertificationOutcome.choices, initial=RecertificationOutcome.WITHDRAW_LOOKUP,
                                help_text=_("Applied when the campaign closes, a week after the deadline (the level "
                                            "above takes over the open items meanwhile). The default withdraws the "
                                            "right to look up citizens: silence must not keep access to citizen "
                                            "data, and the officer can still sign in."))

    def clean_deadline(self):
        return end_of_day(self.cleaned_data["deadline"])


class RecertificationDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, choices=[
        (RecertificationDecision.KEEP, _("Keep as it is")), (RecertificationDecision.CHANGE, _("Change")),
        (RecertificationDecision.REMOVE, _("Remove the account"))], error_messages={"required": _("Choose keep, change or remove.")})
    note = forms.CharField(label=_("Note"), max_length=300, required=False,
                           help_text=_("Required for change and remove: what should change, or why."))


class RecertificationKeepForm(forms.Form):
    items = forms.ModelMultipleChoiceField(queryset=None, error_messages={
        "required": _("Choose at least one account."),
        "invalid_choice": _("This account is not yours to certify."),
        "invalid_pk_value": _("This account is not yours to certify.")})

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].queryset = items


class DormancyExemptionForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the exemption"), max_length=300,
                             error_messages={"required": _("Give a reason.")},
                             help_text=_("For example: the monitoring system's account, used only in an incident."))
    expires_on = forms.DateField(label=_("Exempt until"), widget=DATE_WIDGET,
                                 help_text=_("dd/mm/yyyy, at most a year from today."))

    def clean_expires_on(self):
        return end_of_day(self.cleaned_data["expires_on"])


class PrefilledTurnoverLineFormSet(TurnoverLineFormSet):
    """The filing form's lines filled from a reconciliation or a campaign. They are shown as ordinary
    lines (none “initial”), so that a line the leader empties is dropped, not refused as incomplete."""

    def initial_form_count(self):
        return super().initial_form_count() if self.is_bound else 0

    def total_form_count(self):
        if self.is_bound:
            return super().total_form_count()
        return min(len(self.initial or []) + 1, self.max_num)
