"""Recertification campaigns (docs/architecture.md: every unit recertifies its accounts every 6 months).

Each unit leader certifies, account by account, that the accounts of their unit are still needed with
their role and lookup right: keep / change / remove (the last two become turnover request lines). A
leader's own account is certified by the level above. Reminders go only to leaders with items left
(Entra reminds even after a review is done); past the deadline the open items escalate to the level
above; at the end, what happens to accounts nobody certified is the campaign's visible outcome — by
default the lookup right is withdrawn: silence must not quietly keep access to citizen data.
"""
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record
from notifications.choices import NoticeKind
from notifications.outbox import notice_enqueue
from policy.selectors import current_policy
from portal.actors import Right
from portal.errors import DomainError, NotAllowed, PolicyViolation

from .. import scope
from ..choices import RecertificationDecision, RecertificationOutcome, Role, TurnoverAction
from ..models import RecertificationCampaign, RecertificationItem, RecertificationReminder, User
from ..permissions import ensure_may, ensure_right, is_system_actor, may_certify_accounts
from ._common import plain_text_or_refuse
from .lifecycle import account_disable_locked, account_update, ensure_a_signed_in_it_admin_remains, it_admins_lock

REVIEW_DAYS = 30  # a campaign's deadline, counted from its start
ESCALATION_DAYS = 7  # after the deadline, the level above has this long before the outcome applies
REMINDER_DAYS_BEFORE = (7, 3, 1)
BATCH = 5000


def _actor_name(actor) -> str:
    return actor.username if is_system_actor(actor) else actor.full_name


def reviewer_unit_for(account: User):
    """Nobody certifies themself: a leader's own account goes to the unit above (the root unit's
    leaders are certified by the IT Center, which reviews everything)."""
    if account.role == Role.UNIT_LEADER and account.unit.parent_id:
        return account.unit.parent
    return account.unit


@transaction.atomic
def recertification_campaign_start(*, actor, name: str = "", deadline=None,
                                   outcome: str = RecertificationOutcome.WITHDRAW_LOOKUP) -> RecertificationCampaign:
    ensure_right(actor, Right.RECERTIFICATION_RUN, _("Only the IT Center starts a recertification campaign."))
    if outcome not in RecertificationOutcome.values:
        raise PolicyViolation(_("Choose what happens to accounts nobody certifies."), field="outcome",
                              code="outcome_invalid")
    now = timezone.now()
    deadline = deadline or now + timedelta(days=REVIEW_DAYS)
    if deadline <= now + timedelta(days=1):
        raise PolicyViolation(_("Give the leaders at least two days."), field="deadline", code="deadline_too_soon")
    if RecertificationCampaign.objects.select_for_update().filter(closed_at__isnull=True).exists():
        raise DomainError(_("A recertification campaign is already open; close it first."), code="campaign_open")
    name = plain_text_or_refuse(name, field="name", max_length=150) or _("Recertification %(date)s") % {
        "date": timezone.localdate(now).strftime("%m/%Y")}
    campaign = RecertificationCampaign.objects.create(name=name, started_at=now, deadline=deadline, outcome=outcome,
                                                      started_by_name=_actor_name(actor))
    # In batches: a nationwide portal has 200,000 accounts, which need not sit in memory at once.
    accounts = User.objects.filter(is_active=True).select_related("unit__parent").order_by("pk")
    batch, created = [], 0
    for account in accounts.iterator(chunk_size=BATCH):
        batch.append(RecertificationItem(campaign=campaign, account=account, unit=account.unit,
                                         reviewer_unit=reviewer_unit_for(account), role=account.role,
                                         can_lookup=account.can_lookup))
        if len(batch) == BATCH:
            created += len(RecertificationItem.objects.bulk_create(batch))
            batch = []
    created += len(RecertificationItem.objects.bulk_create(batch))
    audit_event_record(kind=EventKind.RECERTIFICATION_STARTED, actor=actor,
                       details={"campaign": campaign.pk, "accounts": created, "outcome": outcome,
                                "deadline": deadline.isoformat()})
    return campaign


def recertification_items_for(user, campaign: RecertificationCampaign):
    """The items a leader (or the IT Center) may decide: reviewed by a unit in their scope, never
    their own account."""
    return scope.recertification_items_for(user, campaign)


@transaction.atomic
def recertification_item_decide(*, actor, item: RecertificationItem, decision: str, note: str = ""):
    ensure_may(may_certify_accounts(actor), _("Only unit leaders and the IT Center certify accounts."))
    if item.account_id == actor.pk:
        raise NotAllowed(_("Nobody certifies their own account: the level above does."))
    if not recertification_items_for(actor, item.campaign).filter(pk=item.pk).exists():
        raise NotAllowed(_("This account is not yours to certify."))
    if decision not in (RecertificationDecision.KEEP, RecertificationDecision.CHANGE, RecertificationDecision.REMOVE):
        raise PolicyViolation(_("Choose keep, change or remove."), field="decision", code="decision_invalid")
    note = plain_text_or_refuse(note, field="note", max_length=300)
    if decision != RecertificationDecision.KEEP and not note:
        raise PolicyViolation(_("Say what should change, or why the account is no longer needed."), field="note",
                              code="note_missing")
    decided = RecertificationItem.objects.filter(pk=item.pk, campaign__closed_at__isnull=True).update(
        decision=decision, note=note, decided_by=actor, decided_at=timezone.now())
    if not decided:
        raise DomainError(_("The campaign has closed; decisions can no longer change."), code="campaign_closed")
    item.refresh_from_db()
    audit_event_record(kind=EventKind.RECERTIFICATION_DECIDED, actor=actor, target=item.account,
                       details={"campaign": item.campaign_id, "decision": decision, "note": note})
    return item


def recertification_campaign_current():
    """The open campaign, else the latest closed one (None before the first)."""
    return (RecertificationCampaign.objects.filter(closed_at__isnull=True).first()
            or RecertificationCampaign.objects.first())


@transaction.atomic
def recertification_items_keep(*, actor, campaign: RecertificationCampaign, item_ids) -> int:
    """Bulk “still needed as it is”: every chosen item is the actor's to decide, or none is decided."""
    item_ids = set(item_ids)
    if not item_ids:
        raise PolicyViolation(_("Choose at least one account."), field="items", code="items_missing")
    items = list(recertification_items_for(actor, campaign).filter(pk__in=item_ids).order_by("pk"))
    if len(items) != len(item_ids):
        raise NotAllowed(_("This account is not yours to certify."))
    for item in items:
        recertification_item_decide(actor=actor, item=item, decision=RecertificationDecision.KEEP)
    return len(items)


def recertification_progress(user, campaign: RecertificationCampaign) -> list[dict]:
    """Per unit in the reader's scope: how many accounts, how many still to certify, and the
    decisions — one aggregate query."""
    items = RecertificationItem.objects.filter(campaign=campaign, unit__in=scope.units_visible_to(user))
    rows = (items.values("unit__code", "unit__name", "unit__path").order_by("unit__path")
            .annotate(total=Count("id"),
                      pending=Count("id", filter=Q(decision=RecertificationDecision.PENDING)),
                      keep=Count("id", filter=Q(decision=RecertificationDecision.KEEP)),
                      change=Count("id", filter=Q(decision=RecertificationDecision.CHANGE)),
                      remove=Count("id", filter=Q(decision=RecertificationDecision.REMOVE))))
    return list(rows)


def recertification_turnover_lines(user, campaign: RecertificationCampaign) -> list[dict]:
    """The "remove" decisions of the reader's scope as turnover request lines, to file in one step."""
    lines = []
    for item in recertification_items_for(user, campaign).filter(decision=RecertificationDecision.REMOVE):
        if item.account.is_active:
            lines.append({"action": TurnoverAction.DISABLE, "account": item.account, "departure_reason":
                          "duties_changed", "note": item.note})
    return lines


# ----- the daily pass: reminders, escalation, the end ------------------------------------------------

def _pending(campaign):
    return RecertificationItem.objects.filter(campaign=campaign, decision=RecertificationDecision.PENDING)


def recertification_reminders_due(*, actor, campaign: RecertificationCampaign, now=None) -> list:
    """Claim one reminder per leader with items left at each threshold (7, 3, 1 days before the
    deadline), once — a second run or a second worker claims nothing twice (unique constraint)."""
    now = now or timezone.now()
    left = campaign.deadline - now
    thresholds = [days for days in REMINDER_DAYS_BEFORE if timedelta(0) < left <= timedelta(days=days)]
    if not thresholds or not campaign.is_open:
        return []
    threshold = min(thresholds)
    counts = dict(_pending(campaign).values_list("reviewer_unit").annotate(left=Count("id")).order_by())
    leaders = User.objects.filter(role=Role.UNIT_LEADER, is_active=True, unit_id__in=counts).order_by("pk")
    claimed = []
    for leader in leaders:
        with transaction.atomic():  # the claim, its event and its notice together
            reminder, created = RecertificationReminder.objects.get_or_create(
                campaign=campaign, leader=leader, days_before=threshold, defaults={"items_left": counts[leader.unit_id]})
            if created:
                audit_event_record(kind=EventKind.RECERTIFICATION_REMINDED, actor=actor, target=leader,
                                   details={"campaign": campaign.pk, "items_left": reminder.items_left,
                                            "days_before": threshold})
                notice_enqueue(recipient=leader, kind=NoticeKind.RECERTIFICATION_REMINDER,
                               source_key=f"recertification:{reminder.pk}", deadline=campaign.deadline,
                               context={"campaign": campaign.name, "items_left": reminder.items_left,
                                        "days_before": threshold})
                claimed.append(reminder)
    return claimed


@transaction.atomic
def recertification_escalate(*, actor, campaign: RecertificationCampaign, now=None) -> int:
    """Past the deadline, open items go to the level above (once: claimed on the campaign row)."""
    now = now or timezone.now()
    if now < campaign.deadline:
        return 0
    claimed = RecertificationCampaign.objects.filter(pk=campaign.pk, escalated_at__isnull=True,
                                                     closed_at__isnull=True).update(escalated_at=now)
    if not claimed:
        return 0
    moved = 0
    groups = defaultdict(list)
    for item_id, parent_id in _pending(campaign).values_list("id", "reviewer_unit__parent"):
        if parent_id:
            groups[parent_id].append(item_id)
    for parent_id, ids in groups.items():
        moved += RecertificationItem.objects.filter(pk__in=ids).update(reviewer_unit_id=parent_id, escalated=True)
    audit_event_record(kind=EventKind.RECERTIFICATION_ESCALATED, actor=actor,
                       details={"campaign": campaign.pk, "accounts_escalated": moved})
    return moved


def recertification_close(*, actor, campaign: RecertificationCampaign, now=None) -> int:
    """End the campaign (claimed once) and apply its outcome to every account nobody certified,
    each account in its own transaction. Returns how many accounts the outcome touched."""
    ensure_right(actor, Right.RECERTIFICATION_RUN)
    now = now or timezone.now()
    if not RecertificationCampaign.objects.filter(pk=campaign.pk, closed_at__isnull=True).update(closed_at=now):
        return 0
    campaign.refresh_from_db()
    touched = 0
    for item_id in list(_pending(campaign).values_list("id", flat=True)):
        with transaction.atomic():
            it_admins_lock()
            item = RecertificationItem.objects.select_related("account").get(pk=item_id)
            account = User.objects.select_for_update().select_related("unit").get(pk=item.account_id)
            applied = _outcome_apply(actor, campaign, account)
            RecertificationItem.objects.filter(pk=item.pk).update(outcome_applied=applied)
            touched += applied not in ("", "none")
    audit_event_record(kind=EventKind.RECERTIFICATION_CLOSED, actor=actor,
                       details={"campaign": campaign.pk, "outcome": campaign.outcome, "accounts_affected": touched})
    return touched


def _outcome_apply(actor, campaign, account: User) -> str:
    if not account.is_active:
        return "none"
    if campaign.outcome == RecertificationOutcome.KEEP_AND_FLAG:
        return "flagged"
    if campaign.outcome == RecertificationOutcome.WITHDRAW_LOOKUP:
        if not account.can_lookup:
            return "none"
        account_update(actor=actor, account=account, values={"can_lookup": False})
        return "lookup_withdrawn"
    if account.role == Role.IT_ADMIN:
        try:
            ensure_a_signed_in_it_admin_remains(account)
        except DomainError:
            return "none"
    account_disable_locked(actor=actor, account=account,
                           reason=_("Not recertified in campaign “%(name)s”.") % {"name": campaign.name},
                           details={"campaign": campaign.pk})
    return "disabled"


def recertification_daily(*, actor, now=None) -> dict:
    """The daily job: start a campaign when the policy's months have passed, remind, escalate, close."""
    ensure_right(actor, Right.RECERTIFICATION_RUN)
    now = now or timezone.now()
    done = {"started": 0, "reminded": 0, "escalated": 0, "closed": 0}
    campaign = RecertificationCampaign.objects.filter(closed_at__isnull=True).first()
    if campaign is None:
        last = RecertificationCampaign.objects.order_by("-started_at").first()
        months = current_policy().recertify_months
        if last is None or last.started_at <= now - timedelta(days=round(months * 30.44)):
            try:
                recertification_campaign_start(actor=actor)
                done["started"] = 1
            except DomainError:  # another worker started it a moment ago
                pass
        return done
    done["reminded"] = len(recertification_reminders_due(actor=actor, campaign=campaign, now=now))
    done["escalated"] = recertification_escalate(actor=actor, campaign=campaign, now=now)
    if now >= campaign.deadline + timedelta(days=ESCALATION_DAYS):
        done["closed"] = 1
        recertification_close(actor=actor, campaign=campaign, now=now)
    return done
