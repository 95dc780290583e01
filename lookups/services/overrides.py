"""The quota overrides the IT Center sets (lookups.models.QuotaOverride), every change audited."""
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.permissions import ensure_it_admin
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import PolicyViolation

from ..choices import QuotaWindow
from ..models import QuotaOverride

OFFICER_WINDOWS = (QuotaWindow.OFFICER_MINUTE, QuotaWindow.OFFICER_DAY)
LIMIT_MAX = 10_000_000


def _scope_checked(*, window, unit, role) -> tuple[str, str]:
    if window not in QuotaWindow.values:
        raise PolicyViolation(_("Choose one of the four quota windows."), code="quota_window_invalid", field="window")
    role = role or ""
    if role and role not in Role.values:
        raise PolicyViolation(_("Choose a role from the list."), code="quota_role_invalid", field="role")
    if unit is None and not role:
        raise PolicyViolation(_("An override applies to a unit, a role, or a role in a unit: choose at least one."),
                              code="quota_scope_missing", field="unit")
    if role and window not in OFFICER_WINDOWS:
        raise PolicyViolation(_("A unit's own quota applies to the whole unit: it cannot be set per role."),
                              code="quota_role_on_unit_window", field="role")
    return str(window), role


def _details(override_unit, role, window, old, new, *, shadow=None) -> dict:
    details = {"window": window, "unit": override_unit.code if override_unit is not None else "", "role": role,
               "old": old, "new": new}
    if shadow is not None:  # only where shadow mode is concerned, before or after
        details["shadow"] = shadow
    return details


@transaction.atomic
def quota_override_set(*, actor, window: str, limit: int, unit=None, role: str = "",
                       shadow: bool = False) -> QuotaOverride:
    """Set the limit of one window for a unit, a role or a role in a unit; `shadow` counts it without
    refusing (QuotaOverride.shadow). Setting what is already set changes and records nothing."""
    ensure_it_admin(actor, _("Only IT Center administrators may change lookup quotas."))
    window, role = _scope_checked(window=window, unit=unit, role=role)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= LIMIT_MAX:
        raise PolicyViolation(_("Enter a whole number of lookups from 1 to %(max)d.") % {"max": LIMIT_MAX},
                              code="quota_limit_invalid", field="limit")
    shadow = bool(shadow)
    override = QuotaOverride.objects.select_for_update().filter(unit=unit, role=role, window=window).first()
    old = override.limit if override is not None else None
    old_shadow = override.shadow if override is not None else False
    if old == limit and old_shadow == shadow:
        return override
    if override is None:
        override = QuotaOverride.objects.create(unit=unit, role=role, window=window, limit=limit, shadow=shadow)
    else:
        override.limit, override.shadow = limit, shadow
        override.save(update_fields=["limit", "shadow"])
    audit_event_record(kind=EventKind.QUOTA_OVERRIDE_SET, actor=actor, unit=unit, details=_details(
        unit, role, window, old, limit, shadow=shadow if (shadow or old_shadow) else None))
    return override


@transaction.atomic
def quota_override_clear(*, actor, window: str, unit=None, role: str = "") -> bool:
    """Back to the next less specific limit. Clearing what is not set changes and records nothing."""
    ensure_it_admin(actor, _("Only IT Center administrators may change lookup quotas."))
    window, role = _scope_checked(window=window, unit=unit, role=role)
    override = QuotaOverride.objects.select_for_update().filter(unit=unit, role=role, window=window).first()
    if override is None:
        return False
    old, old_shadow = override.limit, override.shadow
    override.delete()
    audit_event_record(kind=EventKind.QUOTA_OVERRIDE_CLEARED, actor=actor, unit=unit,
                       details=_details(unit, role, window, old, None, shadow=True if old_shadow else None))
    return True
