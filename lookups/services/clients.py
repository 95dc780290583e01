"""API clients: registering an external system (its token shown once, kept hashed) and revoking it."""
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import ensure_it_admin
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import PolicyViolation
from portal.text import first_invisible_character

from ..models import ApiClient
from ..tokens import api_token_hash, api_token_new


@transaction.atomic
def api_client_create(*, actor, name: str, unit) -> tuple[ApiClient, str]:
    """Register an external system for `unit`'s subtree; returns the client and its token, which is
    stored only hashed and never shown again."""
    ensure_it_admin(actor, _("Only IT Center administrators may register API clients."))
    name = (name or "").strip()
    if not name or len(name) > 100 or first_invisible_character(name) is not None:
        raise PolicyViolation(_("Enter a client name of 1 to 100 characters on one line."),
                              code="api_client_name_invalid", field="name")
    if ApiClient.objects.filter(name=name).exists():
        raise PolicyViolation(_("An API client with this name already exists."), code="api_client_name_taken",
                              field="name")
    token = api_token_new()
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(name=name, unit=unit, token_hash=api_token_hash(token),
                                              token_prefix=token[:10])
    except IntegrityError:
        raise PolicyViolation(_("An API client with this name already exists."), code="api_client_name_taken",
                              field="name") from None
    audit_event_record(kind=EventKind.API_CLIENT_CREATED, actor=actor, unit=unit,
                       details={"client": name, "token_prefix": client.token_prefix})
    return client, token


@transaction.atomic
def api_client_revoke(*, actor, name: str) -> bool:
    """The client's token stops working at once. Revoking a revoked client changes nothing (False)."""
    ensure_it_admin(actor, _("Only IT Center administrators may revoke API clients."))
    client = ApiClient.objects.select_for_update().select_related("unit").filter(name=(name or "").strip()).first()
    if client is None:
        raise PolicyViolation(_("No API client has this name."), code="api_client_unknown", field="name")
    if not client.is_active:
        return False
    client.is_active = False
    client.revoked_at = timezone.now()
    client.save(update_fields=["is_active", "revoked_at"])
    audit_event_record(kind=EventKind.API_CLIENT_REVOKED, actor=actor, unit=client.unit,
                       details={"client": client.name, "token_prefix": client.token_prefix})
    return True
