from django import forms

from .models import PasswordPolicy


class PasswordPolicyForm(forms.ModelForm):
    class Meta:
        model = PasswordPolicy
        fields = PasswordPolicy.EDITABLE_FIELDS
