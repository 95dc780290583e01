"""Dormant accounts (docs/architecture.md `disable_dormant`): the accounts nobody uses stop working by themselves,
and service accounts the IT Center exempts — with a reason and an end date — are left alone."""
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record
from notifications.choices import NoticeKind
from notifications.outbox import NoticeSpec, notices_enqueue
from policy.compliance import account_is_dormant, account_last_activity, dormant_q, last_activity_expression
from policy.selectors import current_policy
from portal.actors import Right
from portal.errors import DomainError, PolicyViolation

from ..choices import Role
from ..models import DormancyExemption, User
from ..permissions import ensure_it_admin, ensure_right, is_system_actor
from ..selectors import responsible_leaders
from ._common import plain_text_or_refuse
from .lifecycle import account_disable_locked, ensure_a_signed_in_it_admin_remains, it_admins_lock

# An exemption is reviewed at least yearly: a forgotten service account must come back to someone.
EXEMPTION_LONGEST = timedelta(days=366)


def dormant_accounts(now):
    """Candidates of the pass, in one query; each is judged again under its row lock."""
    return (User.objects.alias(last_activity=last_activity_expression()).filter(dormant_q(now))
            .select_related("unit").order_by("unit__path", "username"))


def dormant_accounts_disable(*, actor, now=None) -> list[User]:
    """Disable every dormant account, each in its own transaction (a long pass never holds many
    locks), except the last active IT admin. Returns the accounts this pass disabled: a second run,
    or a second worker running at once, disables (and records) nothing twice."""
    ensure_right(actor, Right.DORMANT_ACCOUNTS_DISABLE)
    now = now or timezone.now()
    days = current_policy().dormant_days
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Not used for %(days)d days (disabled automatically).") % {"days": days}
    disabled = []
    for pk in list(dormant_accounts(now).values_list("pk", flat=True)):
        with transaction.atomic():
            it_admins_lock()  # before the row lock, in the same order as every other admin removal
            account = User.objects.select_for_update().select_related("unit").get(pk=pk)
            # Signed in, re-enabled, exempted or disabled since the candidates were read: not dormant now.
            if not account_is_dormant(account, now):
                continue
            if account.role == Role.IT_ADMIN:
                try:
                    ensure_a_signed_in_it_admin_remains(account)
                except DomainError:
                    continue  # never the last (signed-in) IT admin
            account_disable_locked(actor=actor, account=account, reason=reason, details={
                "dormant_days": days, "last_activity": account_last_activity(account).isoformat()})
            disabled.append(account)
    _units_told(actor=actor, accounts=disabled)
    return disabled


def _units_told(*, actor, accounts: list[User]) -> None:
    """One event per unit naming what the pass disabled there, and the notice (in-app and e-mail) that
    tells the unit's leaders, enqueued in the same transaction."""
    by_unit = defaultdict(list)
    for account in accounts:
        by_unit[account.unit].append(account.username)
    days = current_policy().dormant_days
    for unit, usernames in by_unit.items():
        with transaction.atomic():
            event = audit_event_record(kind=EventKind.DORMANT_ACCOUNTS_DISABLED, actor=actor, unit=unit,
                                       details={"accounts_disabled": usernames})
            notices_enqueue([NoticeSpec(recipient=leader, kind=NoticeKind.DORMANT_ACCOUNTS_DISABLED,
                                        source_key=f"event:{event.pk}",
                                        context={"unit_name": unit.name, "unit_code": unit.code,
                                                 "usernames": usernames, "days": days})
                             for leader in responsible_leaders(unit)])


@transaction.atomic
def dormancy_exemption_grant(*, actor, account: User, reason: str, expires_at) -> DormancyExemption:
    ensure_it_admin(actor, _("Only IT Center administrators may exempt an account from the dormant-account rule."))
    reason = plain_text_or_refuse(reason, field="reason", max_length=300)
    if not reason:
        raise PolicyViolation(_("Give a reason."), field="reason", code="reason_missing")
    now = timezone.now()
    if expires_at <= now:
        raise PolicyViolation(_("The exemption must end in the future."), field="expires_at", code="date_past")
    if expires_at > now + EXEMPTION_LONGEST:
        raise PolicyViolation(_("An exemption lasts at most a year; renew it when it ends."),
                              field="expires_at", code="date_too_far")
    account = User.objects.select_for_update().get(pk=account.pk)
    DormancyExemption.objects.filter(account=account, revoked_at__isnull=True, expires_at__gt=now).update(revoked_at=now)
    exemption = DormancyExemption.objects.create(
        account=account, reason=reason, expires_at=expires_at,
        granted_by=None if is_system_actor(actor) else actor,
        granted_by_name=actor.username if is_system_actor(actor) else actor.full_name)
    audit_event_record(kind=EventKind.DORMANCY_EXEMPTED, actor=actor, target=account,
                       details={"reason": reason, "new": {"expires_at": expires_at.isoformat()}})
    return exemption


@transaction.atomic
def dormancy_exemption_revoke(*, actor, account: User) -> int:
    ensure_it_admin(actor)
    now = timezone.now()
    revoked = DormancyExemption.objects.filter(account=account, revoked_at__isnull=True,
                                               expires_at__gt=now).update(revoked_at=now)
    if revoked:
        audit_event_record(kind=EventKind.DORMANCY_EXEMPTION_REVOKED, actor=actor, target=account)
    return revoked


def dormancy_exemption_current(account: User, now=None) -> DormancyExemption | None:
    now = now or timezone.now()
    return DormancyExemption.objects.filter(account=account, revoked_at__isnull=True, expires_at__gt=now).first()


def account_dormant_at(account: User):
    """When the dormant-account pass would disable the account if nobody signs in before."""
    return account_last_activity(account) + timedelta(days=current_policy().dormant_days)
