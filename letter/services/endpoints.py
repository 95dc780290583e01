"""The endpoint-protection register (letter point 4: anti-malware installed, information shared with the
National Cyberspace Security Monitoring Center). The IT Center and unit leaders keep their units'
computers, one by one or by importing a CSV/XLSX file (or a GLPI export); inspectors read it.

An import is all or nothing, like a roster: any problem on any line is reported line by line and the
register is left as it was."""
import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.scope import unit_is_visible_to, units_visible_to
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import NotAllowed, PolicyViolation

from ..choices import EndpointSource
from ..models import Endpoint, EndpointImport
from ..register_file import MAX_FILE_BYTES, register_read

FIELDS = ("hostname", "user_name", "os_name", "os_version", "update_state", "antimalware_product",
          "antimalware_version", "signature_date", "centrally_managed", "monitoring_agent", "monitoring_sharing",
          "last_checked")


def ensure_may_keep_register(actor) -> None:
    if getattr(actor, "is_system", False):
        return
    if actor.role not in (Role.IT_ADMIN, Role.UNIT_LEADER):
        raise NotAllowed(_("Only the IT Center and unit leaders keep the endpoint-protection register."))


def _tag_taken_elsewhere(asset_tag: str, endpoint=None) -> bool:
    """Asset tags are unique whatever their case (the register is matched by tag on import)."""
    others = Endpoint.objects.filter(asset_tag__iexact=asset_tag)
    if endpoint is not None:
        others = others.exclude(pk=endpoint.pk)
    return others.exists()


@transaction.atomic
def endpoint_save(*, actor, endpoint: Endpoint | None, unit, asset_tag: str, **fields) -> Endpoint:
    """Add a computer (endpoint None) or change one, by hand."""
    ensure_may_keep_register(actor)
    if not getattr(actor, "is_system", False) and not unit_is_visible_to(actor, unit):
        raise NotAllowed(_("This unit is not in your scope."))
    if endpoint is not None and not getattr(actor, "is_system", False) and not unit_is_visible_to(actor, endpoint.unit):
        raise NotAllowed(_("This computer is not in your units."))
    if _tag_taken_elsewhere(asset_tag, endpoint):
        raise PolicyViolation(_("Asset tag %(tag)s is already in the register.") % {"tag": asset_tag},
                              code="asset_tag_taken", field="asset_tag")
    values = {name: fields[name] for name in FIELDS if name in fields}
    person = None if getattr(actor, "is_system", False) else actor
    if endpoint is None:
        endpoint = Endpoint.objects.create(asset_tag=asset_tag, unit=unit, source=EndpointSource.MANUAL,
                                           updated_by=person, **values)
    else:
        for name, value in values.items():
            setattr(endpoint, name, value)
        endpoint.asset_tag, endpoint.unit, endpoint.updated_by = asset_tag, unit, person
        endpoint.updated_at = timezone.now()
        endpoint.save()
    audit_event_record(kind=EventKind.ENDPOINT_SAVED, actor=actor, unit=unit, details={"asset_tag": asset_tag})
    return endpoint


def endpoint_import(*, actor, uploaded) -> EndpointImport:
    """Read the file and, when every line is right, create or update the computers it lists (matched by
    asset tag). The import is kept with its line-by-line report either way."""
    ensure_may_keep_register(actor)
    data = b""
    for chunk in uploaded.chunks():
        data += chunk
        if len(data) > MAX_FILE_BYTES:
            break
    name = (getattr(uploaded, "name", "") or "register.csv")[:200]
    visible = units_visible_to(actor)

    def known(codes):
        return set(visible.filter(code__in=codes, state="active").values_list("code", flat=True))

    parsed = register_read(data, name, known)
    problems = list(parsed.problems)
    with transaction.atomic():
        existing = {}
        if parsed.ok:
            tags = [row["asset_tag"] for row in parsed.rows]
            existing = {endpoint.asset_tag.upper(): endpoint for endpoint in
                        Endpoint.objects.select_for_update().filter(asset_tag__in=tags).select_related("unit")}
            for row in parsed.rows:
                current = existing.get(row["asset_tag"].upper())
                if current is not None and not unit_is_visible_to(actor, current.unit):
                    problems.append((row["line"], _("Asset tag %(tag)s is registered to a unit outside your scope.")
                                     % {"tag": row["asset_tag"]}))
        record = EndpointImport.objects.create(file_name=name, file_sha256=hashlib.sha256(data).hexdigest(),
                                               uploaded_by=actor, rows_total=len(parsed.rows),
                                               problems=[[line, str(message)] for line, message in problems])
        if problems:
            return record
        source = EndpointSource.GLPI if parsed.glpi else (
            EndpointSource.XLSX if name.lower().endswith(".xlsx") else EndpointSource.CSV)
        units = {unit.code: unit for unit in visible.filter(code__in={row["unit_code"] for row in parsed.rows})}
        now = timezone.now()
        to_create, to_update = [], []
        for row in parsed.rows:
            values = {name: row[name] for name in FIELDS}
            current = existing.get(row["asset_tag"].upper())
            if current is None:
                to_create.append(Endpoint(asset_tag=row["asset_tag"], unit=units[row["unit_code"]], source=source,
                                          updated_at=now, updated_by=actor, **values))
            else:
                for field_name, value in values.items():
                    setattr(current, field_name, value)
                current.unit, current.source, current.updated_at, current.updated_by = (
                    units[row["unit_code"]], source, now, actor)
                to_update.append(current)
        Endpoint.objects.bulk_create(to_create, batch_size=1000)
        Endpoint.objects.bulk_update(to_update, [*FIELDS, "unit", "source", "updated_at", "updated_by"],
                                     batch_size=1000)
        record.created, record.updated = len(to_create), len(to_update)
        record.save(update_fields=["created", "updated"])
        audit_event_record(kind=EventKind.ENDPOINTS_IMPORTED, actor=actor, unit=actor.unit, details={
            "file": name, "rows": len(parsed.rows), "created": len(to_create), "updated": len(to_update)})
    return record
