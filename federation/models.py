"""The connected systems (DESIGN layer 3 with the propagation): the registry, the portal's signing keys,
each sign-in through a system (its `sid`, the session it belongs to, its refresh-token family) and the
delivery ledger — a row per delivery to a system (a logout token now; SCIM pushes and manual tasks
later), claimed and retried like an e-mail in the notifications outbox."""
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import DeliveryKind, DeliveryState, SystemKind


class ConnectedSystem(models.Model):
    """A system that relies on the portal's accounts. Its officers are those of its owner unit's subtree.
    An OpenID Connect relying party is backed by a django-oauth-toolkit Application (client id, hashed
    secret, redirect URIs matched exactly)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=SystemKind.choices, default=SystemKind.OIDC)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="connected_systems",
                             verbose_name=_("owner unit"))
    application = models.OneToOneField("oauth2_provider.Application", on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="connected_system")
    backchannel_logout_uri = models.URLField(_("back-channel logout URI"), max_length=500, blank=True, default="")
    contact = models.CharField(_("contact"), max_length=200, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    last_sign_in_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # A SCIM 2.0 target: its base URL and the bearer token the portal sends (kept encrypted, never in
    # clear: federation.keys.secret_encrypt), and how portal roles are named there.
    scim_url = models.URLField(_("SCIM base URL"), max_length=500, blank=True, default="")
    scim_token_encrypted = models.BinaryField(null=True, blank=True, editable=False)
    role_mapping = models.JSONField(_("role mapping"), default=dict, blank=True)
    # Quarantine (a target failing every recent delivery): its retries slowed to daily, alerted once.
    quarantined_at = models.DateTimeField(_("quarantined"), null=True, blank=True)
    quarantine_alerted_at = models.DateTimeField(null=True, blank=True)
    # Four weeks in quarantine (Entra's rule): deliveries stopped (kept, not sent) until the IT Center
    # resumes them; alerted once (`deliveries_stopped_alerted_at`).
    deliveries_stopped_at = models.DateTimeField(_("deliveries stopped"), null=True, blank=True)
    deliveries_stopped_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("connected system")
        verbose_name_plural = _("connected systems")
        ordering = ["name"]

    def __str__(self):
        return self.name


class SigningKey(models.Model):
    """An RSA key that signs ID tokens and logout tokens. One is active; a retired one stays published in
    the JWKS until every token it signed has expired (`published_until`). The private key is kept
    encrypted with a key derived from SECRET_KEY (federation.keys)."""

    kid = models.CharField(max_length=64, unique=True)
    private_key_encrypted = models.BinaryField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    published_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["retired_at"], condition=models.Q(retired_at=None),
                                               name="federation_one_active_signing_key")]


class SystemSignIn(models.Model):
    """One sign-in of an account to a system through a portal session: the `sid` (the portal session's,
    kept in its data under accounts.session_store.OIDC_SID_KEY), the code it came with (as a hash, so a
    code used twice can revoke what it gave), and the refresh-token family the code exchange started."""

    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="sign_ins")
    account = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="system_sign_ins")
    sid = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64, unique=True)
    token_family = models.UUIDField(null=True, blank=True, db_index=True)
    amr = models.JSONField(default=list)
    auth_time = models.DateTimeField()
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "ended_at"], name="federation_signin_open")]


class Delivery(models.Model):
    """One delivery to one system: ready → sending → delivered | failed, attempts counted, retried at
    +1, 5, 30 minutes and 2 hours (federation.propagation.RETRY_DELAYS), then failed and alerted to the
    IT Center. A claim holds a lease, so a killed worker's claim is taken over by the sweep."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the logout token's jti
    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="deliveries")
    account = models.ForeignKey("accounts.User", on_delete=models.CASCADE, null=True, related_name="deliveries")
    kind = models.CharField(max_length=24, choices=DeliveryKind.choices)
    reason = models.CharField(max_length=32, blank=True, default="")
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=DeliveryState.choices, default=DeliveryState.READY)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    next_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_at"], name="federation_delivery_due",
                         condition=models.Q(state__in=["ready", "sending"])),
            models.Index(fields=["account", "created_at"], name="federation_delivery_account"),
            models.Index(fields=["system", "state"], name="federation_delivery_system"),
        ]


class ScimAccount(models.Model):
    """An account as a SCIM target knows it: the id the target gave it (kept, so that every later push
    addresses the same resource), what was last pushed, and whether it is active there."""

    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="scim_accounts")
    account = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="scim_accounts")
    external_id = models.CharField(max_length=255)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    pushed_at = models.DateTimeField()
    # The target's group (the role mapping's name) the account was last made a member of ('' none).
    group = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "account"], name="federation_scim_account_once")]


class ScimGroup(models.Model):
    """A group of a SCIM target, one per name of its role mapping: found by `displayName` or created there
    on first use, its id kept so that membership changes are PATCHed to the same resource."""

    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="scim_groups")
    name = models.CharField(max_length=100)
    external_id = models.CharField(max_length=255)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "name"], name="federation_scim_group_once")]


class Reconciliation(models.Model):
    """One reconciliation of a SCIM target (on demand or nightly), kept: what the target held against
    what the portal holds. `findings` is a list of {"kind": orphan|drift|missing, "username",
    "external_id", "account_id", "fields": {field: [there, here]}}."""

    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="reconciliations")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by_name = models.CharField(max_length=150, blank=True, default="")
    users_read = models.PositiveIntegerField(default=0)
    orphans = models.PositiveIntegerField(default=0)
    drifts = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    findings = models.JSONField(default=list)
    error = models.CharField(max_length=300, blank=True, default="")
    corrected_at = models.DateTimeField(null=True, blank=True)
    corrections_queued = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["system", "started_at"], name="federation_reconciliation_at")]


class ManualTask(models.Model):
    """A change a manual target (a system with no interface) needs, done by hand by the IT Center:
    "vô hiệu hóa tài khoản X trên hệ thống Y", due within the service-level time
    (settings.FEDERATION_MANUAL_TASK_HOURS), closed with a note and an evidence file (a PDF, PNG or
    JPEG checked by its content, stored under its SHA-256)."""

    class Action(models.TextChoices):
        CREATE = "create", _("Create the account")
        UPDATE = "update", _("Update the account")
        DEACTIVATE = "deactivate", _("Disable the account")
        REACTIVATE = "reactivate", _("Re-enable the account")

    system = models.ForeignKey(ConnectedSystem, on_delete=models.CASCADE, related_name="manual_tasks")
    account = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="manual_tasks")
    action = models.CharField(max_length=12, choices=Action.choices)
    reason = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    done_by_name = models.CharField(max_length=150, blank=True, default="")
    note = models.TextField(blank=True, default="")
    evidence_sha256 = models.CharField(max_length=64, blank=True, default="")
    evidence_type = models.CharField(max_length=8, blank=True, default="")
    evidence_name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["due_at"], name="federation_manual_task_open",
                                condition=models.Q(done_at=None))]
