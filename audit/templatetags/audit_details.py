"""Show an event's details as translated "label: old → new" lines instead of raw JSON."""
from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from accounts.choices import PasswordChangeReason, Role, UnitKind
from policy.models import PasswordPolicy

register = template.Library()

FIELD_LABELS = {
    "role": _("Role"), "unit": _("Unit"), "can_lookup": _("May look up citizens"), "full_name": _("Full name"),
    "email": _("E-mail"), "phone": _("Phone"), "reason": _("Reason"), "handover_record": _("Handover record"),
    "handover_records": _("Handover records"), "accounts_moved": _("Accounts moved"),
    "attempts_cleared": _("Failed attempts cleared"), "required_because": _("Required because"),
    "name": _("Name"), "parent": _("Parent unit"), "merged_into": _("Merged into"), "code": _("Agency code"),
    "kind": _("Kind"), "disabled_reason": _("Reason disabled"),
}
VALUE_CHOICES = {"role": Role, "kind": UnitKind, "required_because": PasswordChangeReason}


def _label(key):
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    try:
        return PasswordPolicy._meta.get_field(key).verbose_name
    except FieldDoesNotExist:
        return key


def _value(key, value):
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    choices = VALUE_CHOICES.get(key)
    if choices is not None and value in choices.values:
        return choices(value).label
    return str(value)


@register.filter
def event_details(details):
    lines = []
    if not isinstance(details, dict):
        return lines
    old, new = details.get("old") or {}, details.get("new") or {}
    for key in list(dict.fromkeys([*old, *new])):
        if key in old and key in new:
            lines.append((_label(key), f"{_value(key, old[key])} → {_value(key, new[key])}"))
        elif key in new:
            lines.append((_label(key), _value(key, new[key])))
        else:
            lines.append((_label(key), f"{_value(key, old[key])} → —"))
    for key, value in details.items():
        if key not in ("old", "new"):
            lines.append((_label(key), _value(key, value)))
    return lines
