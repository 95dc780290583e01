"""An account's access changed: end it in every connected system (DESIGN layer 3, beside audit and the
notifications outbox; it imports only portal, the accounts kernel and audit, so every flow may call it).

`access_ended` is called by the accounts flows that end sessions (sign-out, an admin ending sessions,
the other sessions after a password change, the idle and absolute limits, password reset, second-factor
reset, role change, disabling by page, command, turnover, dormancy or roster, containment), in their
own transaction: the account's OAuth tokens are revoked and a back-channel logout is queued for each
system and each session (`sid`) — plus one without `sid` ("all sessions") when the account may no
longer sign in at all — so the change, its record and its deliveries commit together or not at all.
Keycloak's misses are what this beats: only the first session (keycloak#22914), none on "sign out
all" (#27342), one `sid` on a password change (#28417), none on central expiry (#39604).

Deliveries are rows (Delivery), as e-mails in notifications.outbox: after commit they are handed to the
delivery job by name; each is claimed by a conditional UPDATE with a lease, POSTed, and retried at +1,
5, 30 minutes and 2 hours; a final failure is recorded, audited and alerted to the IT Center. The
minutely sweep (`deliveries_due`) picks up retries and the claims of dead workers — no countdowns."""
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from jwcrypto import jwt
from kombu.exceptions import OperationalError
from oauth2_provider.models import get_access_token_model, get_id_token_model, get_refresh_token_model

from accounts.permissions import ACCESS_DISABLED, account_access_refusal, account_deactivated_by_containment
from accounts.session_store import OIDC_SID_KEY
from audit.choices import EventKind
from audit.services import audit_event_record, audit_events_record
from portal.actors import SystemActor

from .choices import AccessEndReason, DeliveryKind, DeliveryState, SystemKind
from .keys import LOGOUT_TOKEN_SECONDS, signing_key_active
from .models import ConnectedSystem, Delivery, ManualTask, ScimAccount, ScimGroup, SystemSignIn
from .scim import scim_client, scim_push, should_be_active

logger = logging.getLogger(__name__)

DELIVERY_JOB = SystemActor("federation_job")
DELIVER_TASK = "federation.deliver"
DELIVERY_CHUNK = 200
# After the n-th failed attempt, the next one waits RETRY_DELAYS[n-1]; after the last, it has failed.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
LEASE = timedelta(seconds=90)
# POSTs to the systems in parallel: one slow system does not hold the others' logout tokens back.
SENDERS = 8
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


# --- Revocation and enqueueing (inside the caller's transaction) -------------------------------------

def access_ended(*, account, reason: str, sids: list[str] | None = None, keep_sid: str | None = None) -> dict:
    """End the account's access in the connected systems: for the sessions `sids` (None: every session,
    except `keep_sid`, the session that stays after a password change). Revokes their tokens, queues a
    logout token per system and session, plus one without `sid` per system when the account may no
    longer sign in (account_access_refusal). Returns {"tokens_revoked": n, "deliveries": n}."""
    now = timezone.now()
    sign_ins = SystemSignIn.objects.filter(account_id=account.pk, ended_at=None)
    if sids is not None:
        sign_ins = sign_ins.filter(sid__in=[sid for sid in sids if sid])
    if keep_sid:
        sign_ins = sign_ins.exclude(sid=keep_sid)
    ending = list(sign_ins.select_related("system"))
    everything = sids is None and not keep_sid
    revoked = _tokens_revoke(account, everything=everything,
                             families=[row.token_family for row in ending if row.token_family])
    if ending:
        SystemSignIn.objects.filter(pk__in=[row.pk for row in ending]).update(ended_at=now)
    rows = []
    seen = set()
    for sign_in in ending:
        system = sign_in.system
        if (system.pk, sign_in.sid) in seen or not _reachable(system):
            continue
        seen.add((system.pk, sign_in.sid))
        rows.append(_logout_row(system, account, reason, now, sid=sign_in.sid))
    if account_access_refusal(account) is not None:
        systems = ConnectedSystem.objects.filter(sign_ins__account_id=account.pk).distinct()
        for system in systems:
            if _reachable(system):
                rows.append(_logout_row(system, account, AccessEndReason.ACCOUNT_DISABLED, now, sid=None))
    if rows:
        Delivery.objects.bulk_create(rows)
        deliveries_dispatch_on_commit([row.pk for row in rows])
    if account_access_refusal(account) == ACCESS_DISABLED or account_deactivated_by_containment(account):
        # Disabled, or contained with its targets deactivated (chosen at containment): deactivated in
        # every SCIM target too (PATCH active=false). A containment without that choice ends sessions
        # and tokens only.
        account_changed(account=account, reason=AccessEndReason.ACCOUNT_DISABLED)
    if revoked or rows:
        audit_event_record(kind=EventKind.SYSTEM_TOKENS_REVOKED, actor=DELIVERY_JOB, target=account,
                           details={"tokens_revoked": revoked, "logout_deliveries": len(rows),
                                    "ended_because": reason})
    return {"tokens_revoked": revoked, "deliveries": len(rows)}


def account_changed(*, account, reason: str, only_system=None) -> int:
    """The account was created, changed (name, e-mail, role, unit, lookup right), enabled, disabled or
    contained: queue a SCIM push for each active SCIM target that holds it or whose unit subtree it is
    in (an account outside every target's subtree, never sent, queues nothing). The push sends the
    account as it is when it is sent (federation.scim). Called in the caller's transaction. Returns how
    many were queued."""
    now = timezone.now()
    unit_path = account.unit.path if account.unit_id else None
    manual = _manual_tasks_queue(account=account, reason=reason, now=now, only_system=only_system)
    candidates = ConnectedSystem.objects.filter(kind=SystemKind.SCIM, is_active=True).select_related("unit")
    if only_system is not None:
        candidates = candidates.filter(pk=only_system.pk)
    systems = [system for system in candidates
               if (unit_path and unit_path.startswith(system.unit.path))
               or ScimAccount.objects.filter(system=system, account_id=account.pk).exists()]
    if not systems:
        return manual
    # One waiting push per (target, account) is enough: it sends the state of the moment it is sent.
    waiting = set(Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, account_id=account.pk, state=DeliveryState.READY,
                                          attempts=0, system__in=systems).values_list("system_id", flat=True))
    rows = [Delivery(uid=uuid.uuid4(), system=system, account=account, kind=DeliveryKind.SCIM_PUSH, reason=reason[:32],
                     payload={"username": account.username}, state=DeliveryState.READY, created_at=now, next_at=now)
            for system in systems if system.pk not in waiting]
    if rows:
        Delivery.objects.bulk_create(rows)
        deliveries_dispatch_on_commit([row.pk for row in rows])
    return len(rows) + manual


def _manual_tasks_queue(*, account, reason: str, now, only_system=None) -> int:
    """Manual targets: the change becomes a task for the IT Center with its service-level clock — one
    open task per (system, account, action); a target that never had the account and should not have
    it gets none."""
    systems = ConnectedSystem.objects.filter(kind=SystemKind.MANUAL, is_active=True).select_related("unit")
    if only_system is not None:
        systems = systems.filter(pk=only_system.pk)
    made = 0
    for system in systems:
        known = ManualTask.objects.filter(system=system, account_id=account.pk).exists()
        active = should_be_active(system, account)
        if not known and not active:
            continue
        if not active:
            action = ManualTask.Action.DEACTIVATE
        elif not known or reason in ("created", "provisioning"):
            action = ManualTask.Action.CREATE
        elif reason in ("enabled", "containment_lifted"):
            action = ManualTask.Action.REACTIVATE
        else:
            action = ManualTask.Action.UPDATE
        if ManualTask.objects.filter(system=system, account_id=account.pk, action=action, done_at=None).exists():
            continue
        ManualTask.objects.create(system=system, account=account, action=action, reason=reason[:32], created_at=now,
                                  due_at=now + timedelta(hours=settings.FEDERATION_MANUAL_TASK_HOURS))
        made += 1
    return made


def session_sid(session) -> str | None:
    """The `sid` of a Django session (a SessionBase) or of a stored session row, if it signed in to a system."""
    if hasattr(session, "get_decoded"):
        return session.get_decoded().get(OIDC_SID_KEY)
    return session.get(OIDC_SID_KEY)


def _reachable(system: ConnectedSystem) -> bool:
    return system.is_active and system.kind == SystemKind.OIDC and bool(system.backchannel_logout_uri)


def _logout_row(system, account, reason, now, *, sid) -> Delivery:
    payload = {"sub": str(account.pk)}
    if sid:
        payload["sid"] = sid
    return Delivery(uid=uuid.uuid4(), system=system, account=account, kind=DeliveryKind.BACKCHANNEL_LOGOUT,
                    reason=reason, payload=payload, state=DeliveryState.READY, created_at=now, next_at=now)


def _tokens_revoke(account, *, everything: bool, families: list) -> int:
    """Revoke access and refresh tokens: every one of the account's, or those of the refresh-token
    families (the sign-ins of the sessions that ended). A revoked refresh token is refused at once
    (django-oauth-toolkit keeps it with `revoked` set, so a replay revokes nothing more)."""
    AccessToken = get_access_token_model()
    RefreshToken = get_refresh_token_model()
    IDToken = get_id_token_model()
    now = timezone.now()
    if everything:
        refresh = RefreshToken.objects.filter(user_id=account.pk, revoked=None)
        access = AccessToken.objects.filter(user_id=account.pk)
        id_tokens = IDToken.objects.filter(user_id=account.pk)
    elif families:
        refresh = RefreshToken.objects.filter(token_family__in=families, revoked=None)
        access_ids = list(refresh.exclude(access_token=None).values_list("access_token_id", flat=True))
        access = AccessToken.objects.filter(pk__in=access_ids)
        id_tokens = IDToken.objects.filter(access_token__in=access_ids)
    else:
        return 0
    revoked = refresh.update(revoked=now)
    revoked += access.count()
    RefreshToken.objects.filter(access_token__in=access).update(access_token=None)
    access.delete()
    id_tokens.delete()
    return revoked


def _tokens_revoke_application(application_id: int) -> int:
    """Every token of a system (the system is disabled)."""
    AccessToken = get_access_token_model()
    RefreshToken = get_refresh_token_model()
    revoked = RefreshToken.objects.filter(application_id=application_id, revoked=None).update(revoked=timezone.now())
    access = AccessToken.objects.filter(application_id=application_id)
    revoked += access.count()
    RefreshToken.objects.filter(access_token__in=access).update(access_token=None)
    access.delete()
    get_id_token_model().objects.filter(application_id=application_id).delete()
    return revoked


def deliveries_dispatch_on_commit(ids: list[int]) -> None:
    chunks = [ids[start:start + DELIVERY_CHUNK] for start in range(0, len(ids), DELIVERY_CHUNK)]
    if chunks:
        transaction.on_commit(lambda: _dispatch(chunks))


def _dispatch(chunks) -> None:
    if current_app.conf.task_always_eager:
        # The single-machine trial without a broker: the job runs in-process.
        for chunk in chunks:
            deliveries_send(chunk)
        return
    for chunk in chunks:
        try:
            current_app.send_task(DELIVER_TASK, args=[chunk], retry=False)
        except (OperationalError, OSError):
            logger.warning("Could not hand logout deliveries to the job; the sweep will send them", exc_info=True)
            return


# --- The delivery job ---------------------------------------------------------------------------------

def deliveries_claim(ids: list[int], now=None) -> list[int]:
    """Claim the deliveries that are due (ready and due, or sending with an expired lease): one UPDATE
    … RETURNING; only the rows this call changed are this worker's to send."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE federation_delivery SET state = %s, lease_until = %s, attempts = attempts + 1 "
            "WHERE id = ANY(%s) AND kind <> %s AND ((state = %s AND next_at <= %s) OR (state = %s AND lease_until < %s)) "
            # A target stopped after four weeks in quarantine keeps its deliveries, unsent, until resumed.
            "AND system_id NOT IN (SELECT id FROM federation_connectedsystem WHERE deliveries_stopped_at IS NOT NULL) "
            "RETURNING id",
            [DeliveryState.SENDING, now + LEASE, list(ids), DeliveryKind.MANUAL_TASK, DeliveryState.READY, now,
             DeliveryState.SENDING, now])
        return [row[0] for row in cursor.fetchall()]


def deliveries_due(now=None, limit=5000) -> list[int]:
    now = now or timezone.now()
    automatic = Delivery.objects.exclude(kind=DeliveryKind.MANUAL_TASK).filter(system__deliveries_stopped_at=None)
    ready = automatic.filter(state=DeliveryState.READY, next_at__lte=now)
    stale = automatic.filter(state=DeliveryState.SENDING, lease_until__lt=now)
    return list((ready | stale).order_by("next_at").values_list("pk", flat=True)[:limit])


def deliveries_send(ids: list[int]) -> dict:
    """Claim, POST and settle these deliveries. Returns {"delivered": n, "retrying": n, "failed": n}."""
    claimed = deliveries_claim(ids)
    outcome = {"delivered": 0, "retrying": 0, "failed": 0}
    if not claimed:
        return outcome
    rows = list(Delivery.objects.filter(pk__in=claimed).select_related("system", "system__application",
                                                                      "system__unit", "account", "account__unit"))
    scim_rows = [row for row in rows if row.kind == DeliveryKind.SCIM_PUSH]
    if scim_rows:
        for key, value in _scim_send(scim_rows).items():
            outcome[key] += value
    rows = [row for row in rows if row.kind == DeliveryKind.BACKCHANNEL_LOGOUT]
    if not rows:
        return outcome
    kid, key = signing_key_active()
    prepared = [(row, _logout_token(row, kid, key)) for row in rows]
    with requests.Session() as http, ThreadPoolExecutor(max_workers=min(SENDERS, len(prepared))) as pool:
        results = list(pool.map(lambda item: _post(http, item[0], item[1]), prepared))
    delivered = [row for (row, _token), error in zip(prepared, results) if not error]
    outcome["delivered"] = _settle_delivered(delivered)
    for (row, _token), error in zip(prepared, results):
        if error:
            outcome[_settle(row, error)] += 1
    return outcome


@transaction.atomic
def _settle_delivered(rows: list[Delivery]) -> int:
    """The deliveries the systems took, in one UPDATE on this claim's lease and one INSERT of their
    audit events (a batch of sign-outs is one statement each, not one transaction a row)."""
    if not rows:
        return 0
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE federation_delivery SET state = %s, delivered_at = %s, last_error = '', lease_until = NULL "
            "WHERE id = ANY(%s) AND state = %s AND lease_until = %s RETURNING id",
            [DeliveryState.DELIVERED, now, [row.pk for row in rows], DeliveryState.SENDING, rows[0].lease_until])
        settled = {row_id for (row_id,) in cursor.fetchall()}
    audit_events_record(kind=EventKind.SYSTEM_LOGOUT_DELIVERED, actor=DELIVERY_JOB, entries=[
        (row.account, {"system": row.system.name, "attempts": row.attempts, "session": row.payload.get("sid", "")})
        for row in rows if row.pk in settled])
    return len(settled)


def _logout_token(row: Delivery, kid: str, key) -> str:
    """Back-Channel Logout 1.0 §2.4: iss, aud, iat, exp, jti, events, sub and/or sid; never a nonce;
    signed with the ID tokens' key, typed logout+jwt."""
    now = int(time.time())
    claims = {"iss": settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"], "aud": row.system.application.client_id,
              "iat": now, "exp": now + LOGOUT_TOKEN_SECONDS, "jti": str(row.uid),
              "events": {BACKCHANNEL_LOGOUT_EVENT: {}}}
    claims.update({name: row.payload[name] for name in ("sub", "sid") if row.payload.get(name)})
    token = jwt.JWT(header={"alg": "RS256", "kid": kid, "typ": "logout+jwt"}, claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize()


def _post(http, row: Delivery, token: str) -> str:
    """'' when the system took it (200 or 204), else what went wrong (kept for the registry page)."""
    try:
        answer = http.post(row.system.backchannel_logout_uri, data={"logout_token": token},
                           timeout=settings.FEDERATION_DELIVERY_TIMEOUT, allow_redirects=False,
                           headers={"Cache-Control": "no-store"})
    except requests.RequestException as error:
        return f"{type(error).__name__}: {str(error)[:200]}"
    if answer.status_code in (200, 204):
        return ""
    return f"HTTP {answer.status_code}"


@transaction.atomic
def _settle(row: Delivery, error: str) -> str:
    now = timezone.now()
    mine = Delivery.objects.filter(pk=row.pk, state=DeliveryState.SENDING, lease_until=row.lease_until)
    details = {"system": row.system.name, "attempts": row.attempts, "session": row.payload.get("sid", "")}
    if not error:
        if mine.update(state=DeliveryState.DELIVERED, delivered_at=now, last_error="", lease_until=None):
            audit_event_record(kind=EventKind.SYSTEM_LOGOUT_DELIVERED, actor=DELIVERY_JOB, target=row.account,
                               details=details)
        return "delivered"
    if row.attempts >= MAX_ATTEMPTS:
        if mine.update(state=DeliveryState.FAILED, last_error=error[:300], lease_until=None):
            audit_event_record(kind=EventKind.SYSTEM_LOGOUT_FAILED, actor=DELIVERY_JOB, target=row.account,
                               details={**details, "error": error[:300]})
        return "failed"
    mine.update(state=DeliveryState.READY, last_error=error[:300], lease_until=None,
                next_at=now + RETRY_DELAYS[row.attempts - 1])
    return "retrying"



# --- SCIM pushes --------------------------------------------------------------------------------------

# A SCIM target whose push has failed MAX_ATTEMPTS times in a row (about 2 h 36 min of retries) is
# quarantined: its pushes are then retried once a day, never dropped, and the IT Center is alerted
# once; the first push it takes again lifts the quarantine.
QUARANTINE_RETRY = timedelta(days=1)


def _scim_send(rows: list[Delivery]) -> dict:
    """Push each claimed row; one target's rows in order on one connection, the targets in parallel."""
    by_system: dict[int, list[Delivery]] = {}
    for row in rows:
        by_system.setdefault(row.system_id, []).append(row)
    # What each push needs from the database, read here (the sender threads only talk HTTP).
    links, held = {}, {}
    for link in ScimAccount.objects.filter(system_id__in=list(by_system), account_id__in=[row.account_id for row in rows]):
        links[(link.system_id, link.account_id)] = link.external_id
        held[(link.system_id, link.account_id)] = link.group
    wanted = {row.pk: should_be_active(row.system, row.account) for row in rows}
    groups = {system_id: {} for system_id in by_system}
    for group in ScimGroup.objects.filter(system_id__in=list(by_system)):
        groups[group.system_id][group.name] = group.external_id
    known = {system_id: dict(names) for system_id, names in groups.items()}

    def push_all(system_rows):
        system = system_rows[0].system
        results = []
        try:
            client = scim_client(system)
        except Exception as error:  # a token that no longer decrypts (SECRET_KEY changed), a bad URL
            return [(row, None, f"{type(error).__name__}") for row in system_rows]
        with client.client:
            for row in system_rows:
                key = (system.pk, row.account_id)
                result = scim_push(client, system, row.account, links.get(key), active=wanted[row.pk],
                                   group_held=held.get(key, ""), groups=groups[system.pk])
                if not result.error and result.external_id is not None:
                    links[key] = result.external_id  # a second push of the same account in this batch
                if not result.error and result.group is not None:
                    held[key] = result.group
                results.append((row, result, result.error))
        return results

    outcome = {"delivered": 0, "retrying": 0, "failed": 0}
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(by_system))) as pool:
        batches = list(pool.map(push_all, by_system.values()))
    _scim_groups_keep(groups, known)
    for results in batches:
        for row, result, error in results:
            outcome[_scim_settle(row, result, error)] += 1
    return outcome


@transaction.atomic
def _scim_groups_keep(groups: dict, known: dict) -> None:
    """Keep the ids of the groups found or made on the targets during the batch."""
    now = timezone.now()
    for system_id, names in groups.items():
        for name, external_id in names.items():
            if known[system_id].get(name) != external_id:
                ScimGroup.objects.update_or_create(system_id=system_id, name=name,
                                                   defaults={"external_id": external_id},
                                                   create_defaults={"external_id": external_id, "created_at": now})


@transaction.atomic
def _scim_settle(row: Delivery, result, error: str) -> str:
    now = timezone.now()
    mine = Delivery.objects.filter(pk=row.pk, state=DeliveryState.SENDING, lease_until=row.lease_until)
    system = row.system
    details = {"system": system.name, "attempts": row.attempts, "reason": row.reason}
    if not error:
        if not mine.update(state=DeliveryState.DELIVERED, delivered_at=now, last_error="", lease_until=None):
            return "delivered"
        if result.external_id is not None:
            kept = {"external_id": result.external_id, "active": bool(result.active), "pushed_at": now}
            if result.group is not None:
                kept["group"] = result.group
            ScimAccount.objects.update_or_create(system_id=system.pk, account_id=row.account_id, defaults=kept,
                                                 create_defaults={**kept, "created_at": now})
        if ConnectedSystem.objects.filter(pk=system.pk).exclude(quarantined_at=None).update(
                quarantined_at=None, quarantine_alerted_at=None):
            audit_event_record(kind=EventKind.SYSTEM_CHANGED, actor=DELIVERY_JOB, unit=system.unit,
                               details={"system": system.name, "new": {"quarantined": False}})
        audit_event_record(kind=EventKind.SYSTEM_ACCOUNT_PUSHED, actor=DELIVERY_JOB, target=row.account,
                           details={**details, "scim": result.action})
        return "delivered"
    quarantined = ConnectedSystem.objects.filter(pk=system.pk).exclude(quarantined_at=None).exists()
    if row.attempts >= MAX_ATTEMPTS and not quarantined:
        quarantined = bool(ConnectedSystem.objects.filter(pk=system.pk, quarantined_at=None).update(quarantined_at=now))
        if quarantined:
            audit_event_record(kind=EventKind.SYSTEM_QUARANTINED, actor=DELIVERY_JOB, unit=system.unit,
                               details={"system": system.name, "error": error[:300]})
    delay = QUARANTINE_RETRY if row.attempts >= MAX_ATTEMPTS or quarantined \
        else RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1]
    # Never dropped: a SCIM push stays queued (daily while its target is quarantined) until it is taken.
    mine.update(state=DeliveryState.READY, last_error=error[:300], lease_until=None, next_at=now + delay)
    return "retrying"
