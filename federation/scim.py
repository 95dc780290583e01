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

Groups: the names of the target's role mapping are Groups there. An active account is a member of the
group its role maps to: the group is found by `displayName` or created on first use (its id kept,
ScimGroup), and membership is PATCHed (`add members`, `remove members[value eq "id"]`) only when the
role's group changes (the group last joined is kept in ScimAccount.group). A deactivated account keeps
its membership: `active=false` is what ends its access, and a reactivation needs no second change.
"""
import functools
from dataclasses import dataclass

import httpx2
from django.conf import settings
from scim2_client import SCIMClientException
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (
    EnterpriseUser,
    Error,
    Group,
    PatchOp,
    PatchOperation,
    ResourceType,
    ScimProvider,
    SearchRequest,
    User,
)

from accounts.permissions import account_deactivated_by_containment
from accounts.scope import account_within_unit

from .keys import secret_decrypt

LOOKUP_ENTITLEMENT = "citizen_lookup"
ScimUser = User[EnterpriseUser]
# What the portal expects of a target: Users with the enterprise extension, and Groups (no discovery
# round trip).
PROVIDER = ScimProvider(models=[User, EnterpriseUser, Group],
                        resource_types=[ResourceType.from_resource(ScimUser), ResourceType.from_resource(Group)])


@dataclass
class PushResult:
    """'' error when the target took it; `external_id`/`active` what the target now holds (None: nothing)."""

    error: str = ""
    external_id: str | None = None
    active: bool | None = None
    action: str = ""
    group: str | None = None  # the group the account is now a member of ('' none; None: unchanged)


@functools.cache
def _tls_context():
    """One TLS context (the CA bundle loaded) per process: building it costs tens of milliseconds, more
    than a push itself (bench/scim.py), and each batch of pushes opens a new client. Shared by threads
    (an SSLContext is safe to share for client connections)."""
    return httpx2.create_ssl_context()


def scim_client(system) -> SyncSCIMClient:
    http = httpx2.Client(base_url=system.scim_url.rstrip("/") + "/", timeout=settings.FEDERATION_DELIVERY_TIMEOUT,
                         headers={"Authorization": f"Bearer {secret_decrypt(system.scim_token_encrypted)}"},
                         follow_redirects=False, verify=_tls_context())
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


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _find_by_username(client, username: str) -> str | None:
    found = client.query(ScimUser, query_parameters=SearchRequest(filter=f'userName eq "{_quoted(username)}"', count=2))
    if isinstance(found, Error) or not found.resources:
        return None
    return found.resources[0].id


def group_wanted(system, account) -> str:
    """The target's group for the account's role: the role mapping's name ('' when it names none)."""
    return (system.role_mapping or {}).get(account.role, "")


class _GroupFailed(Exception):
    pass


def _group_id(client, name: str, groups: dict, *, fresh: bool = False) -> str:
    """The target's id of the group `name`: kept (`groups`, updated in place), else found by
    displayName, else created."""
    if name in groups and not fresh:
        return groups[name]
    found = client.query(Group, query_parameters=SearchRequest(filter=f'displayName eq "{_quoted(name)}"', count=2))
    if not isinstance(found, Error) and found.resources:
        groups[name] = found.resources[0].id
        return groups[name]
    made = client.create(Group(display_name=name))
    if isinstance(made, Error):
        raise _GroupFailed(f"Group {name}: {_failed(made)}")
    groups[name] = made.id
    return made.id


def _membership(user_id: str, *, add: bool):
    operation = PatchOperation[Group](op="add", path="members", value=[{"value": user_id}]) if add else \
        PatchOperation[Group](op="remove", path=f'members[value eq "{_quoted(user_id)}"]')
    return PatchOp[Group](operations=[operation])


def _membership_sync(client, user_id: str, *, held: str, wanted: str, groups: dict) -> None:
    """Leave the group `held`, join `wanted` (a group deleted on the target: found or made again)."""
    if held == wanted:
        return
    if held and held in groups:
        answer = client.modify(Group, groups[held], _membership(user_id, add=False))
        if isinstance(answer, Error) and answer.status != 404:
            raise _GroupFailed(f"Group {held}: {_failed(answer)}")
    if wanted:
        answer = client.modify(Group, _group_id(client, wanted, groups), _membership(user_id, add=True))
        if isinstance(answer, Error) and answer.status == 404:
            answer = client.modify(Group, _group_id(client, wanted, groups, fresh=True),
                                   _membership(user_id, add=True))
        if isinstance(answer, Error):
            raise _GroupFailed(f"Group {wanted}: {_failed(answer)}")


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


def scim_push(client, system, account, external_id: str | None, *, active: bool, group_held: str = "",
              groups: dict | None = None) -> PushResult:
    """Make the target hold the account as it is now (`active`: should_be_active, read by the caller
    beforehand: this runs in a sender thread and reads no database; `group_held` the group it last
    joined there, `groups` the target's group ids known, updated in place). Network and protocol
    failures come back as `error` (the delivery is retried), never raised."""
    try:
        result = _user_push(client, system, account, external_id, active=active)
        if result.error or not result.active:
            return result
        # A user made now (or adopted) is in no group of ours yet; adding is idempotent on the target.
        held = "" if result.action in ("created", "adopted") else group_held
        wanted = group_wanted(system, account)
        _membership_sync(client, result.external_id, held=held, wanted=wanted,
                         groups=groups if groups is not None else {})
        result.group = wanted
        return result
    except _GroupFailed as error:
        return PushResult(error=str(error)[:300])
    except SCIMClientException as error:
        notes = "; ".join(getattr(error, "__notes__", []) or [])
        return PushResult(error=f"{type(error).__name__}: {notes or error}"[:300])


def _user_push(client, system, account, external_id: str | None, *, active: bool) -> PushResult:
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
