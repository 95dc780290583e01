"""Show an event's details as translated "label: old → new" lines instead of raw JSON.

The labels come from each app (an `audit_detail_labels()` method on its AppConfig), so audit — the sink
every app records into — imports none of them."""
from datetime import timedelta
from functools import cache

from django import template
from django.apps import apps
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from portal.actors import system_actor_label

register = template.Library()

OWN_LABELS = {"reason": _("Reason")}


@cache
def _registry():
    labels, choices = dict(OWN_LABELS), {}
    for config in apps.get_app_configs():
        provide = getattr(config, "audit_detail_labels", None)
        if provide is not None:
            app_labels, app_choices = provide()
            labels.update(app_labels)
            choices.update(app_choices)
    return labels, choices


def _label(key):
    return _registry()[0].get(key, key)


# Details that are deadlines: one recorded as midnight is the end of the day before ("hết ngày
# 07/12/2026"), never "08/12/2026 00:00", which reads as a day later than meant.
DEADLINE_KEYS = {"due_at", "deadline"}


def _as_date(value: str, key: str = ""):
    """Dates and times that services record in ISO form, shown as the portal shows them (dd/mm/yyyy)."""
    moment = parse_datetime(value) if "T" in value else None
    if moment is not None:
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        if key in DEADLINE_KEYS and (moment.hour, moment.minute, moment.second) == (0, 0, 0):
            return _("end of %(day)s") % {"day": date_format(moment - timedelta(days=1), "d/m/Y")}
        return date_format(moment, "d/m/Y H:i")
    day = parse_date(value) if len(value) == 10 else None
    return date_format(day, "d/m/Y") if day is not None else None


def _value(key, value):
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        shown = _as_date(value, key)
        if shown is not None:
            return shown
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    choices = _registry()[1].get(key)
    if choices is not None and value in choices.values:
        return choices(value).label
    return str(value)


@register.filter
def event_details(details):
    lines = []
    if not isinstance(details, dict):
        return lines
    old, new = details.get("old"), details.get("new")
    if any(side is not None and not isinstance(side, dict) for side in (old, new)):
        # A single value changed (a quota limit: old 10, new 20), recorded without field names.
        lines.append((_("Value"), f"{_value('', old)} → {_value('', new)}"))
        old, new = {}, {}
    old, new = old or {}, new or {}
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


@register.filter
def actor_name(recorded: str):
    """A recorded actor as people read it: a system actor ("system:seed_demo") by its name."""
    label = system_actor_label(recorded or "")
    return label if label is not None else recorded
