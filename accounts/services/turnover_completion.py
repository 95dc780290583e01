"""Turnover measured to the end (letter point 2, docs/federation.md "Turnover measured to the end"): a
turnover request is *executed* when the portal has acted and *complete* when every connected system
concerned has confirmed — its back-channel logouts delivered, its SCIM pushes acknowledged, its manual
tasks done with their evidence.

When a request is executed, `turnover_confirmations_open` (in the execution's transaction, after its
lines ran) makes one TurnoverConfirmation per delivery or manual task the change owes a system: the
logout tokens queued by the execution, the SCIM pushes still waiting for the accounts (a push sends the
account as it is when it is sent, so the waiting one carries the change) and the manual tasks still
open. A request that concerns no connected system completes at once.

`turnover_completion_sweep` (the job every five minutes, `accounts.complete_turnover_requests`) marks
the confirmations whose delivery was delivered or whose task was done, then completes the executed
requests with nothing left to confirm. Both steps are conditional: a confirmation is marked only while
unconfirmed, a request completed only while executed, under its row lock — two sweeps at once complete
a request once, with one audit event."""
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone

from audit.choices import EventKind
from audit.services import audit_event_record
from federation.choices import DeliveryKind, DeliveryState
from federation.models import Delivery, ManualTask
from portal.actors import Right, SystemActor

from ..choices import TurnoverState
from ..models import TurnoverConfirmation, TurnoverRequest
from ..permissions import ensure_right

TURNOVER_COMPLETION_JOB = SystemActor("turnover_completion_job")
Awaited = TurnoverConfirmation.Awaited


def turnover_confirmations_open(*, actor, request: TurnoverRequest, account_ids: list[int],
                                started: datetime) -> int:
    """The confirmations an execution waits for (called by turnover_request_execute inside its
    transaction, once its lines ran; `started` is the time taken before the first line). Returns how
    many; with none, the request is complete at once."""
    account_ids = [pk for pk in account_ids if pk]
    now = timezone.now()
    logouts = Delivery.objects.filter(account_id__in=account_ids, kind=DeliveryKind.BACKCHANNEL_LOGOUT,
                                      created_at__gte=started)
    pushes = Delivery.objects.filter(account_id__in=account_ids, kind=DeliveryKind.SCIM_PUSH,
                                     state__in=[DeliveryState.READY, DeliveryState.SENDING])
    rows = [TurnoverConfirmation(request=request, system_id=row.system_id, account_id=row.account_id,
                                 awaited=Awaited.LOGOUT if row.kind == DeliveryKind.BACKCHANNEL_LOGOUT
                                 else Awaited.SCIM, delivery_id=row.pk, created_at=now)
            for row in (logouts | pushes).order_by("pk").only("pk", "system_id", "account_id", "kind")]
    tasks = ManualTask.objects.filter(account_id__in=account_ids, done_at=None).order_by("pk")
    rows += [TurnoverConfirmation(request=request, system_id=task.system_id, account_id=task.account_id,
                                  awaited=Awaited.MANUAL, manual_task_id=task.pk, created_at=now)
             for task in tasks.only("pk", "system_id", "account_id")]
    TurnoverConfirmation.objects.bulk_create(rows)
    if not rows:
        _complete(actor, request, completed_at=request.executed_at, waited_for=0)
    return len(rows)


def _complete(actor, request: TurnoverRequest, *, completed_at, waited_for: int) -> bool:
    """executed → complete, only while executed (a conditional UPDATE): only the caller whose update
    changed the row records the event."""
    changed = TurnoverRequest.objects.filter(pk=request.pk, state=TurnoverState.EXECUTED).update(
        state=TurnoverState.COMPLETE, completed_at=completed_at)
    if not changed:
        return False
    request.state, request.completed_at = TurnoverState.COMPLETE, completed_at
    audit_event_record(kind=EventKind.TURNOVER_COMPLETED, actor=actor, unit=request.unit,
                       details={"turnover_request": request.pk, "letter": request.letter_number,
                                "confirmations": waited_for, "completed_at": completed_at.isoformat()})
    return True


def _confirmations_mark() -> int:
    """Mark what the ledger and the task list confirm, at the time it was confirmed there."""
    unconfirmed = TurnoverConfirmation.objects.filter(confirmed_at=None)
    delivered = Delivery.objects.filter(pk=OuterRef("delivery_id"), state=DeliveryState.DELIVERED)
    done = ManualTask.objects.filter(pk=OuterRef("manual_task_id")).exclude(done_at=None)
    marked = unconfirmed.filter(Exists(delivered)).update(
        confirmed_at=Subquery(delivered.values("delivered_at")[:1]))
    marked += unconfirmed.filter(Exists(done)).update(confirmed_at=Subquery(done.values("done_at")[:1]))
    return marked


def turnover_completion_sweep(*, actor) -> dict:
    """Mark the confirmations the systems gave, then complete every executed request with nothing left
    to confirm, each under its row lock. Returns {"confirmed": n, "completed": [request ids]}."""
    ensure_right(actor, Right.TURNOVER_COMPLETE)
    with transaction.atomic():
        confirmed = _confirmations_mark()
    waiting = TurnoverConfirmation.objects.filter(request_id=OuterRef("pk"), confirmed_at=None)
    ready = list(TurnoverRequest.objects.filter(state=TurnoverState.EXECUTED).exclude(Exists(waiting))
                 .order_by("pk").values_list("pk", flat=True))
    completed = []
    for pk in ready:
        with transaction.atomic():
            # Locked, then judged again: a second sweep waits here and finds it complete.
            request = TurnoverRequest.objects.select_for_update(of=("self",)).select_related("unit").filter(
                pk=pk, state=TurnoverState.EXECUTED).exclude(Exists(waiting)).first()
            if request is None:
                continue
            figures = request.confirmations.aggregate(last=Max("confirmed_at"))
            count = request.confirmations.count()
            completed_at = max(filter(None, [figures["last"], request.executed_at]))
            if _complete(actor, request, completed_at=completed_at, waited_for=count):
                completed.append(pk)
    return {"confirmed": confirmed, "completed": completed}
