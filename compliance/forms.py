from django import forms
from django.utils.translation import gettext_lazy as _


class ThresholdsForm(forms.Form):
    good_from = forms.IntegerField(label=_("Good from (%)"), min_value=1, max_value=100)
    attention_from = forms.IntegerField(label=_("Needs attention from (%)"), min_value=0, max_value=99)

    def clean(self):
        cleaned = super().clean()
        good, attention = cleaned.get("good_from"), cleaned.get("attention_from")
        if good is not None and attention is not None and attention >= good:
            raise forms.ValidationError(_("“Needs attention from” must be below “good from”."))
        return cleaned
