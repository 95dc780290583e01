"""SCIM 2.0 pushes to a target (layer 3, beside the propagation that sends them): on scim2-client and
scim2-models (python-scim). Each push makes the target match the account as it is NOW — so pushes
queued in any order, retried, or sent twice converge on the same state:

- in the target's unit subtree, active here (not disabled, not contained with its targets deactivated): created (POST /Users) or
  replaced (PUT /Users/{id}) with its name, e-mail, role (through the target's role mapping), unit
  (the enterprise extension's `department`, the agency code) and lookup right (an entitlement);
- otherwise: deactivated with `PATCH active=false` — never DELETE (Entra's rule: a target keeps its
  history; reactivating is a PUT with active=true);
- never known to the target and not to be active there (outside the subtree, disabled): nothing sent.

The target's id is kept (ScimAccount). A 409 on create (the target already has the userName) adopts
the existing resource's id after a `userName eq` search; a 404 on replace (deleted there) re-creates it.
"""
from dataclasses import dataclass

import httpx2
from django.conf import settings
from scim2_client import SCIMClientException
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import EnterpriseUser, Error, PatchOp, PatchOperation, ResourceType, ScimProvider, SearchRequest, User

from accounts.permissions import account_deactivated_by_containment
from accounts.scope import account_within_unit

from .keys import secret_decrypt

LOOKUP_ENTITLEMENT = "citizen_lookup"
ScimUser = User[EnterpriseUser]
# What the portal expects of a target: Users with the enterprise extension (no discovery round trip).
PROVIDER = ScimProvider(models=[User, EnterpriseUser], resource_types=[ResourceType.from_resource(ScimUser)])


@dataclass
class PushResult:
    """'' error when the target took it; `external_id`/`active` what the target now holds (None: nothing)."""

    error: str = ""
    external_id: str | None = None
    active: bool | None = None
    action: str = ""


def scim_client(system) -> SyncSCIMClient:
    http = httpx2.Client(base_url=system.scim_url.rstrip("/") + "/", timeout=settings.FEDERATION_DELIVERY_TIMEOUT,
                         headers={"Authorization": f"Bearer {secret_decrypt(system.scim_token_encrypted)}"},
                         follow_redirects=False)
    return SyncSCIMClient(http, provider=PROVIDER, raise_scim_errors=False)


def should_be_active(system, account) -> bool:
    # A contained account stays active on a target unless its containment chose to deactivate it there.
    return (account.is_active and account_within_unit(account, system.unit)
            and not account_deactivated_by_containment(account))


def scim_resource(system, account, *, active: bool, external_id: str | None = None):
    mapping = system.role_mapping or {}
    resource = ScimUser(
        id=external_id, user_name=account.username, external_id=str(account.pk), display_name=account.full_name,
        name={"formatted": account.full_name}, active=active,
        emails=[{"value": account.email, "primary": True, "type": "work"}] if account.email else None,
        roles=[{"value": mapping.get(account.role, account.role), "primary": True}],
        entitlements=[{"value": LOOKUP_ENTITLEMENT}] if account.can_lookup else None)
    resource[EnterpriseUser] = EnterpriseUser(department=account.unit.code, organization=account.unit.name)
    return resource


def _failed(answer) -> str:
    return f"HTTP {answer.status}: {(answer.detail or '')[:200]}" if isinstance(answer, Error) else ""


def _find_by_username(client, username: str) -> str | None:
    quoted = username.replace("\\", "\\\\").replace('"', '\\"')
    found = client.query(ScimUser, query_parameters=SearchRequest(filter=f'userName eq "{quoted}"', count=2))
    if isinstance(found, Error) or not found.resources:
        return None
    return found.resources[0].id


def _create(client, system, account) -> PushResult:
    answer = client.create(scim_resource(system, account, active=True))
    if isinstance(answer, Error) and answer.status == 409:
        # The target already has this userName (made by hand, or our id was lost): adopt it.
        found = _find_by_username(client, account.username)
        if found is None:
            return PushResult(error=_failed(answer))
        replaced = client.replace(scim_resource(system, account, active=True, external_id=found))
        if isinstance(replaced, Error):
            return PushResult(error=_failed(replaced))
        return PushResult(external_id=found, active=True, action="adopted")
    if isinstance(answer, Error):
        return PushResult(error=_failed(answer))
    return PushResult(external_id=answer.id, active=True, action="created")


def scim_push(client, system, account, external_id: str | None, *, active: bool) -> PushResult:
    """Make the target hold the account as it is now (`active`: should_be_active, read by the caller
    beforehand: this runs in a sender thread and reads no database). Network and protocol failures
    come back as `error` (the delivery is retried), never raised."""
    try:
        if external_id is None:
            if not active:
                return PushResult(action="nothing")
            return _create(client, system, account)
        if not active:
            patch = PatchOp[ScimUser](operations=[PatchOperation[ScimUser](op="replace", path="active", value=False)])
            answer = client.modify(ScimUser, external_id, patch)
            if isinstance(answer, Error) and answer.status != 404:
                return PushResult(error=_failed(answer))
            return PushResult(external_id=external_id, active=False, action="deactivated")
        answer = client.replace(scim_resource(system, account, active=True, external_id=external_id))
        if isinstance(answer, Error) and answer.status == 404:
            # Deleted on the target: made again (its new id kept).
            return _create(client, system, account)
        if isinstance(answer, Error):
            return PushResult(error=_failed(answer))
        return PushResult(external_id=external_id, active=True, action="updated")
    except SCIMClientException as error:
        notes = "; ".join(getattr(error, "__notes__", []) or [])
        return PushResult(error=f"{type(error).__name__}: {notes or error}"[:300])


def scim_users_read(client, *, page_size: int = 100):
    """Every user the target holds, page by page (startIndex/count): yields ScimUser resources."""
    start = 1
    while True:
        page = client.query(ScimUser, query_parameters=SearchRequest(start_index=start, count=page_size))
        if isinstance(page, Error):
            raise SCIMClientException(_failed(page))
        resources = page.resources or []
        yield from resources
        start += len(resources)
        if not resources or start > (page.total_results or 0):
            return
