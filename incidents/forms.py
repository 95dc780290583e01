"""The incident pages' forms: parse and validate only; every write is a service's."""
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import Unit, User

from .choices import IncidentCategory, IncidentState, PeriodUnit, RuleApplies, RuleKind, RuleStartsFrom, Severity

DATETIME_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
DATETIME_WIDGET = forms.DateTimeInput(format="%d/%m/%Y %H:%M",
                                      attrs={"placeholder": "dd/mm/yyyy hh:mm", "inputmode": "numeric"})
DATE_WIDGET = forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})
CODES_MAX = 50


class UnitCodesField(forms.CharField):
    """Agency codes, one per line or separated by commas; every code must name a unit."""

    def to_python(self, value):
        text = super().to_python(value) or ""
        codes = []
        for part in text.replace(",", "\n").replace(";", "\n").splitlines():
            code = part.strip().upper()
            if code and code not in codes:
                codes.append(code)
        if len(codes) > CODES_MAX:
            raise forms.ValidationError(_("Name at most %(count)d units.") % {"count": CODES_MAX})
        units = {unit.code: unit for unit in Unit.objects.filter(code__in=codes)}
        unknown = [code for code in codes if code not in units]
        if unknown:
            raise forms.ValidationError(_("No unit has the agency code %(codes)s.") % {"codes": ", ".join(unknown)})
        return [units[code] for code in codes]


class LinesField(forms.CharField):
    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class IncidentReportForm(forms.Form):
    title = forms.CharField(label=_("Short title"), max_length=200)
    category = forms.ChoiceField(label=_("Category"), choices=IncidentCategory.choices)
    discovered_at = forms.DateTimeField(label=_("Discovered at"), input_formats=DATETIME_FORMATS,
                                        widget=DATETIME_WIDGET, help_text=_("dd/mm/yyyy hh:mm"))
    occurred_at = forms.DateTimeField(label=_("Occurred at (if known)"), required=False,
                                      input_formats=DATETIME_FORMATS, widget=DATETIME_WIDGET)
    description = forms.CharField(label=_("What happened"), required=False, max_length=20000,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    units = UnitCodesField(label=_("Units concerned (agency codes)"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2, "placeholder": "000.00.31.H19"}),
                           help_text=_("One agency code per line, for example 000.01.31.H19."))
    systems = LinesField(label=_("Systems concerned"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                         help_text=_("One system per line, for example: Hệ thống thông tin giải quyết thủ tục hành chính."))
    personal_data_involved = forms.BooleanField(label=_("Personal data of citizens may be involved"), required=False)
    personal_data_categories = forms.CharField(label=_("Categories of personal data"), required=False, max_length=300,
                                               help_text=_("For example: full name, citizen ID, address."))
    citizens_affected = forms.IntegerField(label=_("About how many citizens"), required=False, min_value=0,
                                           max_value=200_000_000)


class IncidentRecordForm(forms.Form):
    occurred_at = forms.DateTimeField(label=_("Occurred at (if known)"), required=False,
                                      input_formats=DATETIME_FORMATS, widget=DATETIME_WIDGET)
    description = forms.CharField(label=_("What happened"), required=False, max_length=20000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    units = UnitCodesField(label=_("Units concerned (agency codes)"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    systems = LinesField(label=_("Systems concerned"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    personal_data_involved = forms.BooleanField(label=_("Personal data of citizens may be involved"), required=False)
    personal_data_categories = forms.CharField(label=_("Categories of personal data"), required=False, max_length=300)
    citizens_affected = forms.IntegerField(label=_("About how many citizens"), required=False, min_value=0,
                                           max_value=200_000_000)
    actions_taken = forms.CharField(label=_("Actions taken"), required=False, max_length=20000,
                                    widget=forms.Textarea(attrs={"rows": 4}))
    lessons_learned = forms.CharField(label=_("Lessons learned"), required=False, max_length=20000,
                                      widget=forms.Textarea(attrs={"rows": 3}))


class TriageForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    category = forms.ChoiceField(label=_("Category"), choices=IncidentCategory.choices)
    handler = forms.ModelChoiceField(label=_("Handled by"), queryset=User.objects.none(), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = User.objects.filter(role=Role.IT_ADMIN, is_active=True).order_by("full_name")


class StateForm(forms.Form):
    state = forms.ChoiceField(label=_("Move to stage"), choices=IncidentState.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note for the timeline"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Evidence file (PDF, PNG or JPEG, at most 10 MB)"))
    description = forms.CharField(label=_("Description"), required=False, max_length=300)


class ContainForm(forms.Form):
    """On the incident page: an account (username) or a unit (agency code) to contain."""

    target = forms.CharField(label=_("Account (username) or unit (agency code)"), max_length=64)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    suspend_api_clients = forms.BooleanField(label=_("Also suspend the unit's lookup API clients"), required=False)
    deactivate_targets = forms.BooleanField(
        label=_("Also deactivate the accounts in the connected systems that keep their own accounts (SCIM, manual)"),
        required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
    suspend_api_clients = forms.BooleanField(label=_("Also suspend the unit's lookup API clients"), required=False)
    deactivate_targets = forms.BooleanField(
        label=_("Also deactivate the accounts in the connected systems that keep their own accounts (SCIM, manual)"),
        required=False)
    incident = forms.CharField(label=_("Incident number (optional)"), required=False, max_length=20)


class LiftForm(forms.Form):
    reason = forms.CharField(label=_("Reason for lifting"), max_length=300)
    resume_api_clients = forms.BooleanField(label=_("Also resume the lookup API clients it suspended"), required=False)


class DeadlineMetForm(forms.Form):
    code = forms.SlugField(max_length=40, widget=forms.HiddenInput)
    note = forms.CharField(label=_("How (letter number, date sent)"), required=False, max_length=300)


class IncidentFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("Stage"), required=False, choices=[("", _("All"))] + IncidentState.choices)
    category = forms.ChoiceField(label=_("Category"), required=False,
                                 choices=[("", _("All"))] + IncidentCategory.choices)


class RuleSetForm(forms.Form):
    title = forms.CharField(label=_("Title (the law or decision it follows)"), max_length=200)
    effective_from = forms.DateField(label=_("In force from"), input_formats=["%d/%m/%Y"], widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RuleForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    label = forms.CharField(label=_("Obligation"), max_length=200)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300)
    authority = forms.CharField(label=_("To whom"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    applies_to = forms.ChoiceField(label=_("Applies to"), choices=RuleApplies.choices)
    starts_from = forms.ChoiceField(label=_("Counted from"), choices=RuleStartsFrom.choices)
    amount = forms.IntegerField(label=_("Period"), min_value=1, max_value=100_000)
    period_unit = forms.ChoiceField(label=_("Unit"), choices=PeriodUnit.choices)
    remind_hours_before = forms.IntegerField(label=_("Remind hours before"), min_value=0, max_value=10_000,
                                             initial=24)


class AccountContainForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
    deactivate_targets = forms.BooleanField(
        label=_("Also deactivate the accounts in the connected systems that keep their own accounts (SCIM, manual)"),
        required=False)
    incident = forms.CharField(label=_("Incident number (optional)"), required=False, max_length=20)


class AccountLiftForm(forms.Form):
    reason = forms.CharField(label=_("Reason for lifting"), max_length=300)
