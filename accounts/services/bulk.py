"""One action on many accounts with one reason (the IT Center's account list): disable, unlock or
reset. Each account goes through the same service as its own page (its own transaction, permission
check and audit event, the reason in each), so a refusal for one account leaves the others done and
is reported by name."""
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from portal.errors import DomainError, PolicyViolation

from .. import scope
from ..permissions import ensure_it_admin
from .lifecycle import account_disable, account_password_reset, account_unlock

BULK_ACTIONS = ("disable", "unlock", "reset")
BULK_MAX = 100


@dataclass
class BulkOutcome:
    done: list = field(default_factory=list)  # the accounts changed
    refused: list = field(default_factory=list)  # (account, message)
    issued: list = field(default_factory=list)  # reset: (account, one-time password, handover record)


def accounts_bulk_act(*, actor, account_ids: list[int], action: str, reason: str) -> BulkOutcome:
    ensure_it_admin(actor)
    if action not in BULK_ACTIONS:
        raise PolicyViolation(_("Choose what to do with the chosen accounts."), code="bulk_action_unknown")
    reason = (reason or "").strip()
    if not reason:
        raise PolicyViolation(_("Give the reason for the chosen accounts."), code="bulk_reason_missing",
                              field="reason")
    if not account_ids:
        raise PolicyViolation(_("Choose at least one account."), code="bulk_nothing_chosen")
    if len(account_ids) > BULK_MAX:
        raise PolicyViolation(_("At most %(max)d accounts at once.") % {"max": BULK_MAX}, code="bulk_too_many")
    outcome = BulkOutcome()
    accounts = scope.accounts_visible_to(actor).filter(pk__in=account_ids).select_related("unit").order_by("username")
    for account in accounts:
        try:
            if action == "disable":
                account_disable(actor=actor, account=account, reason=reason)
            elif action == "unlock":
                account_unlock(actor=actor, account=account, reason=reason)
            else:
                password, record = account_password_reset(actor=actor, account=account, reason=reason)
                outcome.issued.append((account, password, record))
        except DomainError as error:
            outcome.refused.append((account, error.message))
        else:
            outcome.done.append(account)
    return outcome
