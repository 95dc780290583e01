"""The letter's forms: parse and validate only (dd/mm/yyyy dates, a letter's number and symbol, a
PDF's shape); the rules and the writes are the services'."""
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.forms import UnitChoiceField
from accounts.forms.turnover import DATE_WIDGET
from accounts.models import Unit
from accounts.models.turnover import letter_number_validator

from .choices import LetterPoint, Severity, UpdateState

PDF_WIDGET = forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"})
DATE_ERRORS = {"invalid": _("Enter a date as dd/mm/yyyy, for example 31/01/2024.")}


def _date(label, **kwargs):
    return forms.DateField(label=label, widget=DATE_WIDGET, input_formats=["%d/%m/%Y"],
                           error_messages=DATE_ERRORS, **kwargs)


class UnitsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, unit):
        return f"{'— ' * unit.depth}{unit.name} ({unit.code})"


class DirectiveForm(forms.Form):
    number = forms.CharField(label=_("Number and symbol"), max_length=40, validators=[letter_number_validator],
                             help_text=_("As on the document, for example 5722/TCTTKĐA."))
    issued_on = _date(_("Date of the document"), help_text=_("dd/mm/yyyy"))
    issuer = forms.CharField(label=_("Issuing body"), max_length=200)
    signer = forms.CharField(label=_("Signed by"), max_length=150)
    title = forms.CharField(label=_("Subject"), max_length=300)
    summary = forms.CharField(label=_("Summary for the officers"), widget=forms.Textarea(attrs={"rows": 5}))
    audience_units = UnitsChoiceField(label=_("Audience: units (with the units below them)"),
                                      queryset=Unit.objects.none(), widget=forms.SelectMultiple(attrs={"size": 8}))
    audience_roles = forms.MultipleChoiceField(label=_("Audience: roles"), choices=Role.choices,
                                               widget=forms.CheckboxSelectMultiple,
                                               initial=[Role.OFFICER, Role.UNIT_LEADER])
    due_date = _date(_("Acknowledge by"), help_text=_("dd/mm/yyyy"))
    attachment = forms.FileField(label=_("The document (PDF, at most 10 MB)"), widget=PDF_WIDGET)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience_units"].queryset = units.filter(state="active").order_by("path")

    def clean_number(self):
        return self.cleaned_data["number"].strip()

    def clean_issued_on(self):
        issued_on = self.cleaned_data["issued_on"]
        if issued_on > timezone.localdate():
            raise forms.ValidationError(_("The document's date cannot be in the future."))
        return issued_on


class DirectiveVersionForm(forms.Form):
    summary = forms.CharField(label=_("Summary for the officers"), widget=forms.Textarea(attrs={"rows": 5}))
    material = forms.TypedChoiceField(
        label=_("Kind of change"), coerce=lambda value: value == "material", widget=forms.RadioSelect,
        choices=[("minor", _("Minor (a typo, a layout fix): no one is asked again")),
                 ("material", _("Material: everyone acknowledges again"))])
    change_note = forms.CharField(label=_("What changed"), max_length=300)
    due_date = _date(_("New due date (material change)"), required=False, help_text=_("dd/mm/yyyy"))
    attachment = forms.FileField(label=_("The document (PDF, at most 10 MB)"), widget=PDF_WIDGET)


class OnBehalfForm(forms.Form):
    account = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("How the officer was briefed"), max_length=300)


class MeasureForm(forms.Form):
    statement = forms.CharField(label=_("Measures the unit took"), widget=forms.Textarea(attrs={"rows": 4}),
                                max_length=4000)


YES_NO = [("no", _("No")), ("yes", _("Yes"))]


def _yes_no(label):
    return forms.TypedChoiceField(label=label, choices=YES_NO, coerce=lambda value: value == "yes",
                                  widget=forms.RadioSelect, initial="no")


class EndpointForm(forms.Form):
    asset_tag = forms.RegexField(label=_("Asset tag"), max_length=64, regex=r"\A[0-9A-Za-z][0-9A-Za-z._/-]{0,63}\Z",
                                 error_messages={"invalid": _("Letters, digits and . _ / - only.")})
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))
    hostname = forms.CharField(label=_("Computer name"), max_length=100, required=False)
    user_name = forms.CharField(label=_("User"), max_length=150, required=False)
    os_name = forms.CharField(label=_("Operating system"), max_length=100, required=False)
    os_version = forms.CharField(label=_("Version"), max_length=100, required=False)
    update_state = forms.ChoiceField(label=_("Updates"), choices=UpdateState.choices, initial=UpdateState.UNKNOWN)
    antimalware_product = forms.CharField(label=_("Anti-malware product"), max_length=100, required=False)
    antimalware_version = forms.CharField(label=_("Anti-malware version"), max_length=50, required=False)
    signature_date = _date(_("Signature date"), required=False, help_text=_("dd/mm/yyyy"))
    centrally_managed = _yes_no(_("Centrally managed"))
    monitoring_agent = _yes_no(_("Monitoring-centre agent installed"))
    monitoring_sharing = _yes_no(_("Sharing with the monitoring centre"))
    last_checked = _date(_("Last checked"), required=False, help_text=_("dd/mm/yyyy"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units.filter(state="active").order_by("path")

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        for name in ("signature_date", "last_checked"):
            if cleaned.get(name) and cleaned[name] > today:
                self.add_error(name, _("This date cannot be in the future."))
        return cleaned


class EndpointImportForm(forms.Form):
    register = forms.FileField(label=_("Register file (.csv UTF-8 or .xlsx)"),
                               widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))


class InspectionForm(forms.Form):
    unit = UnitChoiceField(label=_("Inspected unit"), queryset=Unit.objects.none(), empty_label=_("Choose a unit"))
    decision_number = forms.CharField(label=_("Inspection decision number"), max_length=40, required=False,
                                      validators=[letter_number_validator],
                                      help_text=_("As on the decision, for example 15/QĐ-TTr."))
    inspected_on = _date(_("Inspection date"), help_text=_("dd/mm/yyyy"))
    team = forms.CharField(label=_("Inspection team"), widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("One member a line: name, position."))
    scope = forms.CharField(label=_("Scope"), widget=forms.Textarea(attrs={"rows": 3}))
    conclusion = forms.CharField(label=_("Conclusion"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    evidence_note = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    evidence = forms.FileField(label=_("Evidence file (PDF, optional)"), widget=PDF_WIDGET, required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units.filter(state="active").order_by("path")


class FindingForm(forms.Form):
    point = forms.TypedChoiceField(label=_("Letter point"), choices=LetterPoint.choices, coerce=int)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    description = forms.CharField(label=_("Finding"), widget=forms.Textarea(attrs={"rows": 3}))
    fix_description = forms.CharField(label=_("Required fix"), widget=forms.Textarea(attrs={"rows": 2}),
                                      required=False)
    fix_owner = forms.CharField(label=_("Owner of the fix"), max_length=150, required=False)
    fix_deadline = _date(_("Deadline of the fix"), required=False, help_text=_("dd/mm/yyyy"))


class FixAnswerForm(forms.Form):
    answer = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("Evidence (PDF, optional)"), widget=PDF_WIDGET, required=False)


class FixCloseForm(forms.Form):
    decision = forms.ChoiceField(choices=[("close", _("Close the fix")), ("return", _("Return it to the unit"))],
                                 widget=forms.RadioSelect, label=_("Decision"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
