"""SCIM provisioning through the delivery ledger against a plain HTTP call, in one run (docs/architecture.md
"Numbers it must reach": ratios against a baseline measured in the same run).

A real SCIM 2.0 server (scim2-server, in memory, on a port of localhost, as the tests start it) receives
both sides, alternated account by account so that the machine's noise falls on both:

- **create through the ledger**: the account's change queued (`account_changed`: a Delivery row, in
  its own transaction), then the delivery job's claim (`UPDATE … RETURNING`), the push with
  scim2-client (POST /Users, with the enterprise extension), the settle (conditional UPDATE, the
  target's id kept in ScimAccount, the audit event) — timed from the queueing to the settle;
- **create, baseline**: one plain HTTP POST /Users of the same JSON body (another userName) on a
  kept-alive connection;
- **deactivate through the ledger** (PATCH active=false) against a plain PATCH of the same operation.

Prints p50 and p99 of each, and the ratio of the medians (baseline / ledger: 1.0 would be "the ledger
costs nothing"). `--groups` gives the target a role mapping, so each create also joins its Group (one
more PATCH, counted in the ledger's side only).

Run (its own database and Redis db):
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_scim_bench \\
        REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/scim.py [--accounts 300] [--groups]
"""
import argparse
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from oidc import _database_ensure, percentile  # noqa: E402 (the bench directory, after sys.path is set)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--groups", action="store_true", help="a role mapping: each create also joins a Group")
    options = parser.parse_args()
    _database_ensure()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The delivery job runs in this process when the change commits (the trial's path without a broker:
    # federation.propagation._dispatch), so the ledger's side is timed from the change to the settle
    # with no worker's polling in it.
    from celery import current_app

    current_app.conf.task_always_eager = True
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request would bury the table
    run(options)


def _setup(options):
    from accounts.choices import Role, UnitKind
    from accounts.models import Unit, User
    from federation.choices import SystemKind
    from federation.models import ConnectedSystem
    from federation.services import system_register_target
    from portal.actors import COMMAND_LINE
    from tests.factories import UnitFactory
    from tests.helpers import ScimServer

    User.objects.filter(username__startswith="bench.scim.").delete()
    ConnectedSystem.objects.filter(name="bench-scim").delete()
    unit = Unit.objects.filter(code="999.00.00.H19").first() or UnitFactory(code="999.00.00.H19",
                                                                             name="Đơn vị đo SCIM",
                                                                             kind=UnitKind.PROVINCE)
    server = ScimServer().start()
    system = system_register_target(actor=COMMAND_LINE, name="bench-scim", unit=unit, kind=SystemKind.SCIM,
                                    scim_url=server.url, scim_token=ScimServer.TOKEN,
                                    role_mapping={"officer": "staff"} if options.groups else {})
    accounts = User.objects.bulk_create([
        User(username=f"bench.scim.{index:05d}", full_name=f"Cán bộ đo {index}", unit=unit, role=Role.OFFICER,
             password="!", email=f"bench.scim.{index:05d}@dongnai.gov.vn") for index in range(options.accounts)])
    return server, system, accounts


def _through_ledger(account, reason) -> tuple[float, str]:
    from django.db import transaction

    from federation.choices import DeliveryKind
    from federation.models import Delivery
    from federation.propagation import account_changed

    start = time.perf_counter()
    with transaction.atomic():
        queued = account_changed(account=account, reason=reason)
    # Committed: the job has claimed, pushed and settled the delivery (on_commit, in this process).
    elapsed = time.perf_counter() - start
    last = Delivery.objects.filter(account_id=account.pk, kind=DeliveryKind.SCIM_PUSH).order_by("-pk").first()
    ok = queued == 1 and last is not None and last.state == "delivered"
    return elapsed, "" if ok else f"{account.username}: {last.state if last else 'nothing queued'} {last.last_error if last else ''}"


def run(options):
    import httpx2
    from scim2_models import Context

    from accounts.models import User
    from federation.models import ScimAccount
    from federation.scim import scim_resource
    from tests.helpers import ScimServer

    server, system, accounts = _setup(options)
    http = httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {ScimServer.TOKEN}",
                                                       "Content-Type": "application/scim+json"})
    figures = {"create, ledger": [], "create, plain POST": [], "deactivate, ledger": [], "deactivate, plain PATCH": []}
    errors = []
    baseline_ids = []
    try:
        for account in accounts:
            elapsed, error = _through_ledger(account, "created")
            figures["create, ledger"].append(elapsed)
            errors += [error] if error else []
            body = scim_resource(system, account, active=True).model_dump(scim_ctx=Context.RESOURCE_CREATION_REQUEST)
            body["userName"] = f"baseline.{account.username}"
            start = time.perf_counter()
            answer = http.post("Users", json=body)
            figures["create, plain POST"].append(time.perf_counter() - start)
            if answer.status_code != 201:
                errors.append(f"baseline POST {answer.status_code}")
            else:
                baseline_ids.append(answer.json()["id"])
        User.objects.filter(pk__in=[account.pk for account in accounts]).update(is_active=False)
        patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                 "Operations": [{"op": "replace", "path": "active", "value": False}]}
        for account, baseline_id in zip(User.objects.filter(pk__in=[a.pk for a in accounts]).select_related("unit")
                                        .order_by("username"), baseline_ids):
            elapsed, error = _through_ledger(account, "account_disabled")
            figures["deactivate, ledger"].append(elapsed)
            errors += [error] if error else []
            start = time.perf_counter()
            answer = http.patch(f"Users/{baseline_id}", json=patch)
            figures["deactivate, plain PATCH"].append(time.perf_counter() - start)
            if answer.status_code not in (200, 204):
                errors.append(f"baseline PATCH {answer.status_code}")
        held = {resource.user_name: resource.active for resource in server.storage.resources
                if getattr(resource, "user_name", None)}
        deactivated = sum(1 for account in accounts if held.get(account.username) is False)
        kept = ScimAccount.objects.filter(system=system, active=False).count()
    finally:
        http.close()
        server.stop()
    print(f"\n{len(accounts)} accounts, one target (scim2-server in memory on localhost)"
          f"{', role mapping with a Group' if options.groups else ''}; {len(errors)} errors"
          f"{': ' + '; '.join(errors[:5]) if errors else ''}")
    print(f"on the target: {deactivated}/{len(accounts)} pushed accounts deactivated; "
          f"ScimAccount rows inactive: {kept}")
    print("\n| operation | p50 ms | p99 ms |\n| --- | ---: | ---: |")
    for what, values in figures.items():
        print(f"| {what} | {percentile(values, 0.5) * 1000:.2f} | {percentile(values, 0.99) * 1000:.2f} |")
    for operation, baseline in (("create", "plain POST"), ("deactivate", "plain PATCH")):
        ledger, plain = figures[f"{operation}, ledger"], figures[f"{operation}, {baseline}"]
        print(f"\n{operation}: ratio {baseline} / ledger (medians) {percentile(plain, 0.5) / percentile(ledger, 0.5):.2f}; "
              f"ledger p99 {percentile(ledger, 0.99) * 1000:.2f} ms, {baseline} p99 {percentile(plain, 0.99) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
