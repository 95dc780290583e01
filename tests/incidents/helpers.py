"""Helpers of the incidents tests (plain functions, imported by the tests)."""
import json

from django.test import Client

LOOKUP_URL = "/api/v1/lookups/"


def lookup(token, officer_username, *, citizen_id="075095001234"):
    """Ask the lookup API, as a connected system does; returns the response."""
    body = {"officer": officer_username, "citizen_id": citizen_id, "dossier_code": "000.00.31.H19-210708-0032",
            "purpose": "Cấp bản sao trích lục khai sinh"}
    return Client().post(LOOKUP_URL, data=json.dumps(body), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}")


def deadline_rules_seeded():
    """The first version of the deadline rules as the data migration seeds it (a transactional test
    empties the tables, so the tests seed it again when missing)."""
    import importlib

    from django.apps import apps

    importlib.import_module("incidents.migrations.0002_append_only_and_deadline_rules").seed(apps, None)
    from incidents.models import DeadlineRuleSet

    return DeadlineRuleSet.objects.get(number=1)
