from django import forms
from django.utils.translation import gettext_lazy as _


class PreferenceForm(forms.Form):
    CHOICES = [("email", _("By e-mail and in the portal")), ("in_app", _("In the portal only"))]
    optional = forms.ChoiceField(label=_("Optional notifications"), choices=CHOICES, widget=forms.RadioSelect,
                                 error_messages={"required": _("Choose how optional notifications reach you."),
                                                 "invalid_choice": _("Choose one of the two ways.")})


def posted_notice_ids(data, *, limit: int = 200) -> list[int] | None:
    """The notice ids a list page posted ("notice" fields): whole numbers, at most a page of them; None
    when anything else was posted (the page then says so and changes nothing)."""
    values = data.getlist("notice")
    if not values or len(values) > limit or not all(str(value).isdigit() for value in values):
        return None
    return [int(value) for value in values]
