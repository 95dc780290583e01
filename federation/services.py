"""The connected-systems registry: register, change, disable a system, replace its secret, rotate the
signing key — IT Center only, each audited in the same transaction (DESIGN: services check permission,
write, record)."""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import get_application_model

from accounts.models import Unit, User
from accounts.permissions import ensure_it_admin, is_system_actor
from audit.choices import EventKind
from audit.services import audit_event_record
from incidents.evidence import EXTENSIONS, evidence_check
from portal.errors import PolicyViolation
from portal.text import first_invisible_character

from .choices import SystemKind
from .keys import secret_encrypt, signing_key_rotate
from .models import ConnectedSystem, ManualTask
from .propagation import _tokens_revoke_application, account_changed

Application = get_application_model()


def _allowed_schemes() -> tuple:
    # https only in production; the trial (DEBUG=1) also takes http for its sample system on 127.0.0.1.
    return tuple(settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"])


def _uri_or_refuse(uri: str, *, field: str) -> str:
    uri = (uri or "").strip()
    parts = urlsplit(uri)
    if (parts.scheme not in _allowed_schemes() or not parts.netloc or parts.fragment or len(uri) > 500
            or first_invisible_character(uri) is not None or " " in uri):
        raise PolicyViolation(_("Enter a full address starting with https:// (no #fragment): %(uri)s")
                              % {"uri": uri[:100]}, code="uri_invalid", field=field)
    return uri


def _fields_or_refuse(*, name: str, unit, redirect_uris: list[str], backchannel_logout_uri: str, contact: str):
    name = (name or "").strip()
    if not name or len(name) > 120 or first_invisible_character(name) is not None:
        raise PolicyViolation(_("Enter a system name of 1 to 120 characters on one line."), code="name_invalid",
                              field="name")
    if not isinstance(unit, Unit):
        raise PolicyViolation(_("Choose the unit that owns the system."), code="unit_unknown", field="unit")
    uris = [_uri_or_refuse(uri, field="redirect_uris") for uri in redirect_uris if (uri or "").strip()]
    if not uris:
        raise PolicyViolation(_("Give at least one redirect URI."), code="redirect_uri_missing", field="redirect_uris")
    backchannel = _uri_or_refuse(backchannel_logout_uri, field="backchannel_logout_uri") \
        if (backchannel_logout_uri or "").strip() else ""
    contact = (contact or "").strip()
    if len(contact) > 200 or first_invisible_character(contact) is not None:
        raise PolicyViolation(_("Enter a contact of at most 200 characters on one line."), code="contact_invalid",
                              field="contact")
    return name, list(dict.fromkeys(uris)), backchannel, contact


def _new_secret() -> str:
    return secrets.token_urlsafe(36)


@transaction.atomic
def system_register(*, actor, name: str, unit, redirect_uris: list[str], backchannel_logout_uri: str = "",
                    contact: str = "") -> tuple[ConnectedSystem, str]:
    """Register an OpenID Connect relying party whose officers are those of `unit`'s subtree. Returns
    the system and its client secret, shown this once (stored hashed by django-oauth-toolkit)."""
    ensure_it_admin(actor, _("Only IT Center administrators may register connected systems."))
    name, uris, backchannel, contact = _fields_or_refuse(name=name, unit=unit, redirect_uris=redirect_uris,
                                                         backchannel_logout_uri=backchannel_logout_uri,
                                                         contact=contact)
    if ConnectedSystem.objects.filter(name=name).exists():
        raise PolicyViolation(_("A connected system with this name already exists."), code="name_taken", field="name")
    secret = _new_secret()
    application = Application(
        name=name, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris=" ".join(uris),
        post_logout_redirect_uris=" ".join(uris), client_secret=secret, hash_client_secret=True,
        skip_authorization=True, algorithm=Application.RS256_ALGORITHM)
    application.save()
    try:
        with transaction.atomic():
            system = ConnectedSystem.objects.create(name=name, kind=SystemKind.OIDC, unit=unit,
                                                    application=application, backchannel_logout_uri=backchannel,
                                                    contact=contact)
    except IntegrityError:
        raise PolicyViolation(_("A connected system with this name already exists."), code="name_taken",
                              field="name") from None
    audit_event_record(kind=EventKind.SYSTEM_REGISTERED, actor=actor, unit=unit,
                       details={"system": name, "client_id": application.client_id, "redirect_uris": uris,
                                "backchannel_logout_uri": backchannel})
    return system, secret


ROLE_MAPPING_KEYS = ("it_admin", "inspector", "unit_leader", "officer")


def _role_mapping_or_refuse(mapping) -> dict:
    mapping = mapping or {}
    if not isinstance(mapping, dict) or any(key not in ROLE_MAPPING_KEYS for key in mapping) or any(
            not isinstance(value, str) or not value.strip() or len(value) > 100
            or first_invisible_character(value) is not None for value in mapping.values()):
        raise PolicyViolation(_("Map portal roles (it_admin, inspector, unit_leader, officer) to names of at most "
                                "100 characters, e.g. officer=staff."), code="role_mapping_invalid", field="role_mapping")
    return {key: value.strip() for key, value in mapping.items()}


@transaction.atomic
def system_register_target(*, actor, name: str, unit, kind: str, scim_url: str = "", scim_token: str = "",
                           role_mapping: dict | None = None, contact: str = "") -> ConnectedSystem:
    """Register a system that keeps its own accounts: a SCIM 2.0 target (its base URL and the bearer
    token the portal sends, kept encrypted — it must be sent, so it cannot be hashed) or a manual target
    (each change a task for the IT Center). The accounts of `unit`'s subtree are then pushed to it."""
    ensure_it_admin(actor, _("Only IT Center administrators may register connected systems."))
    name = (name or "").strip()
    if not name or len(name) > 120 or first_invisible_character(name) is not None:
        raise PolicyViolation(_("Enter a system name of 1 to 120 characters on one line."), code="name_invalid",
                              field="name")
    if not isinstance(unit, Unit):
        raise PolicyViolation(_("Choose the unit that owns the system."), code="unit_unknown", field="unit")
    if kind not in (SystemKind.SCIM, SystemKind.MANUAL):
        raise PolicyViolation(_("Choose how the system receives account changes."), code="kind_invalid", field="kind")
    contact = (contact or "").strip()
    if len(contact) > 200 or first_invisible_character(contact) is not None:
        raise PolicyViolation(_("Enter a contact of at most 200 characters on one line."), code="contact_invalid",
                              field="contact")
    token_encrypted = None
    if kind == SystemKind.SCIM:
        scim_url = _uri_or_refuse(scim_url, field="scim_url")
        scim_token = (scim_token or "").strip()
        if len(scim_token) < 16 or len(scim_token) > 2000 or first_invisible_character(scim_token) is not None \
                or " " in scim_token:
            raise PolicyViolation(_("Enter the SCIM bearer token the system gave (at least 16 characters)."),
                                  code="scim_token_invalid", field="scim_token")
        token_encrypted = secret_encrypt(scim_token)
    else:
        scim_url = ""
    mapping = _role_mapping_or_refuse(role_mapping)
    try:
        with transaction.atomic():
            system = ConnectedSystem.objects.create(name=name, kind=kind, unit=unit, contact=contact, scim_url=scim_url,
                                                    scim_token_encrypted=token_encrypted, role_mapping=mapping)
    except IntegrityError:
        raise PolicyViolation(_("A connected system with this name already exists."), code="name_taken",
                              field="name") from None
    audit_event_record(kind=EventKind.SYSTEM_REGISTERED, actor=actor, unit=unit,
                       details={"system": name, "kind": kind, "scim_url": scim_url, "role_mapping": mapping})
    return system


@transaction.atomic
def system_provision_all(*, actor, system: ConnectedSystem) -> int:
    """Queue a push of every account of the target's unit subtree (the first load, or after a fix)."""
    ensure_it_admin(actor, _("Only IT Center administrators may provision a connected system."))
    queued = 0
    for account in User.objects.filter(unit__path__startswith=system.unit.path).select_related("unit"):
        queued += account_changed(account=account, reason="provisioning")
    audit_event_record(kind=EventKind.SYSTEM_CHANGED, actor=actor, unit=system.unit,
                       details={"system": system.name, "provisioning_queued": queued})
    return queued


@transaction.atomic
def system_update(*, actor, system: ConnectedSystem, name: str, unit, redirect_uris: list[str],
                  backchannel_logout_uri: str, contact: str) -> ConnectedSystem:
    ensure_it_admin(actor, _("Only IT Center administrators may change connected systems."))
    system = ConnectedSystem.objects.select_for_update(of=("self",)).select_related("application").get(pk=system.pk)
    name, uris, backchannel, contact = _fields_or_refuse(name=name, unit=unit, redirect_uris=redirect_uris,
                                                         backchannel_logout_uri=backchannel_logout_uri,
                                                         contact=contact)
    if ConnectedSystem.objects.filter(name=name).exclude(pk=system.pk).exists():
        raise PolicyViolation(_("A connected system with this name already exists."), code="name_taken", field="name")
    before = {"name": system.name, "unit": system.unit.code, "redirect_uris": system.application.redirect_uris.split(),
              "backchannel_logout_uri": system.backchannel_logout_uri, "contact": system.contact}
    system.name, system.unit, system.backchannel_logout_uri, system.contact = name, unit, backchannel, contact
    system.save(update_fields=["name", "unit", "backchannel_logout_uri", "contact"])
    application = system.application
    application.name = name
    application.redirect_uris = " ".join(uris)
    application.post_logout_redirect_uris = " ".join(uris)
    application.save(update_fields=["name", "redirect_uris", "post_logout_redirect_uris"])
    after = {"name": name, "unit": unit.code, "redirect_uris": uris, "backchannel_logout_uri": backchannel,
             "contact": contact}
    audit_event_record(kind=EventKind.SYSTEM_CHANGED, actor=actor, unit=unit,
                       details={"system": name, "old": {k: v for k, v in before.items() if after[k] != v},
                                "new": {k: v for k, v in after.items() if before[k] != v}})
    return system


@transaction.atomic
def system_disable(*, actor, system: ConnectedSystem) -> bool:
    """The system signs nobody in any more; its tokens are revoked at once. False when already disabled."""
    ensure_it_admin(actor, _("Only IT Center administrators may disable connected systems."))
    system = ConnectedSystem.objects.select_for_update().get(pk=system.pk)
    if not system.is_active:
        return False
    system.is_active = False
    system.disabled_at = timezone.now()
    system.save(update_fields=["is_active", "disabled_at"])
    revoked = _tokens_revoke_application(system.application_id) if system.application_id else 0
    audit_event_record(kind=EventKind.SYSTEM_DISABLED, actor=actor, unit=system.unit,
                       details={"system": system.name, "tokens_revoked": revoked})
    return True


@transaction.atomic
def system_enable(*, actor, system: ConnectedSystem) -> bool:
    ensure_it_admin(actor, _("Only IT Center administrators may enable connected systems."))
    system = ConnectedSystem.objects.select_for_update().get(pk=system.pk)
    if system.is_active:
        return False
    system.is_active = True
    system.disabled_at = None
    system.save(update_fields=["is_active", "disabled_at"])
    audit_event_record(kind=EventKind.SYSTEM_CHANGED, actor=actor, unit=system.unit,
                       details={"system": system.name, "new": {"is_active": True}})
    return True


@transaction.atomic
def system_secret_rotate(*, actor, system: ConnectedSystem) -> str:
    """A new client secret, shown once; the old one stops working at once."""
    ensure_it_admin(actor, _("Only IT Center administrators may replace a system's secret."))
    system = ConnectedSystem.objects.select_for_update(of=("self",)).select_related("application").get(pk=system.pk)
    if system.application_id is None:
        raise PolicyViolation(_("Only a system that signs in through the portal has a client secret."),
                              code="no_client_secret")
    secret = _new_secret()
    application = system.application
    application.client_secret = secret
    application.hash_client_secret = True
    application.save(update_fields=["client_secret", "hash_client_secret"])
    audit_event_record(kind=EventKind.SYSTEM_SECRET_ROTATED, actor=actor, unit=system.unit,
                       details={"system": system.name, "client_id": application.client_id})
    return secret


@transaction.atomic
def signing_key_rotate_now(*, actor) -> str:
    """Rotate the ID-token signing key; the retired key stays in the JWKS until its tokens expire."""
    ensure_it_admin(actor, _("Only IT Center administrators may rotate the signing key."))
    new, retired = signing_key_rotate()
    audit_event_record(kind=EventKind.SIGNING_KEY_ROTATED, actor=actor,
                       details={"kid": new.kid, "retired_kid": retired.kid if retired else "",
                                "published_until": retired.published_until.isoformat() if retired else ""})
    return new.kid


def deliveries_mark_alerted(*, ids: list[int], now) -> int:
    """The alert pass marks what it alerted, in the transaction of its notices (alerted once)."""
    from .models import Delivery

    return Delivery.objects.filter(pk__in=ids, alerted_at=None).update(alerted_at=now)


def systems_mark_quarantine_alerted(*, ids: list[int], now) -> int:
    """The alert pass marks the quarantines it alerted (once; a lifted and again quarantined target
    is alerted again)."""
    return ConnectedSystem.objects.filter(pk__in=ids, quarantine_alerted_at=None).exclude(
        quarantined_at=None).update(quarantine_alerted_at=now)


TASK_NOTE_MAX_LENGTH = 1000


@transaction.atomic
def manual_task_complete(*, actor, task, note: str, evidence) -> "ManualTask":
    """Close a manual target's task with what was done (a note) and an evidence file — a PDF, PNG or JPEG
    checked by its content (incidents.evidence, on accounts.attachments' PDF check), stored under its
    SHA-256 outside the web root. A bad file refuses the whole step: the task stays open."""
    ensure_it_admin(actor, _("Only IT Center administrators may close manual tasks."))
    task = ManualTask.objects.select_for_update().select_related("system", "account").get(pk=task.pk)
    if task.done_at is not None:
        raise PolicyViolation(_("This task is already done."), code="task_done")
    note = (note or "").strip()
    if not note or len(note) > TASK_NOTE_MAX_LENGTH:
        raise PolicyViolation(_("Say what was done on the system (at most 1000 characters)."), code="note_missing",
                              field="note")
    if evidence is None:
        raise PolicyViolation(_("Attach the evidence: a PDF, or a PNG or JPEG screenshot."), code="evidence_missing",
                              field="file")
    checked = evidence_check(evidence)
    path = Path(settings.PRIVATE_MEDIA_ROOT) / "federation" / f"{checked.sha256}.{EXTENSIONS[checked.file_type]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(checked.data)
        os.replace(temporary, path)
    task.done_at = timezone.now()
    task.done_by = None if is_system_actor(actor) else actor
    task.done_by_name = actor.username
    task.note, task.evidence_sha256 = note, checked.sha256
    task.evidence_type, task.evidence_name = checked.file_type, checked.name
    task.save(update_fields=["done_at", "done_by", "done_by_name", "note", "evidence_sha256", "evidence_type",
                             "evidence_name"])
    audit_event_record(kind=EventKind.SYSTEM_MANUAL_TASK_DONE, actor=actor, target=task.account, unit=task.system.unit,
                       details={"system": task.system.name, "action": task.action, "task": task.pk,
                                "evidence_sha256": checked.sha256, "late": task.done_at > task.due_at})
    return task
