"""What the three containment commands share: finding the incident, printing each step's result."""
from django.core.management.base import CommandError

from incidents.models import Incident


def incident_named(value) -> Incident | None:
    if value in (None, ""):
        return None
    incident = Incident.objects.filter(number=str(value).strip()).first()
    if incident is None and str(value).strip().isdigit():
        incident = Incident.objects.filter(pk=int(value)).first()
    if incident is None:
        raise CommandError(f"No incident {value!r} (give its number, e.g. SC-2026-00001, or its id).")
    return incident


def steps_write(stdout, steps) -> None:
    for step in steps:
        stdout.write(f"  [{step['outcome']}] {step['step']}: {step['detail']}")


def exit_code(result) -> int:
    """0 when every step was done, 1 when one failed (the others were still done)."""
    return 1 if result.failed else 0
