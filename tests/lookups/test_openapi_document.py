"""The lookup API's OpenAPI document (`GET /api/v1/openapi.json`) says what the code enforces: every
field required with the patterns and lengths of lookups.validation, every answer (200 and each refusal
with the error contract's body, its reasons as enums, its headers) — and a value the document refuses
is refused by the API, a value it accepts is accepted (docs/architecture.md "The public contract")."""
import json
from datetime import date, timedelta

import jsonschema_rs
import pytest
from django.test import Client
from django.utils import timezone

from lookups.api import REASONS, lookup_request_schema
from lookups.choices import QuotaWindow
from lookups.models import LookupRecord, QuotaOverride
from lookups.quotas import QUOTA_TIME_ZONE
from lookups.validation import citizen_id_checked, citizen_id_pattern, dossier_code_checked, dossier_code_pattern
from portal.errors import PolicyViolation

URL = "/api/v1/lookups/"
BODY = {"officer": "cb.tanphong", "citizen_id": "075095001234", "dossier_code": "000.00.31.H19-210708-0032",
        "purpose": "Cấp bản sao trích lục khai sinh"}


def _today() -> date:
    return timezone.now().astimezone(QUOTA_TIME_ZONE).date()


def _document() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def _operation(document: dict) -> dict:
    return document["paths"][URL]["post"]


def _resolved(document: dict, schema: dict) -> dict:
    reference = schema.get("$ref")
    return document["components"]["schemas"][reference.rsplit("/", 1)[1]] if reference else schema


def test_the_request_body_states_every_rule_of_the_decision(db):
    document = _document()
    body = _operation(document)["requestBody"]
    assert body["required"] is True
    assert list(body["content"]) == ["application/json"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == ["citizen_id", "dossier_code", "officer", "purpose"]
    fields = schema["properties"]
    assert {name: (field["type"], field["minLength"], field["maxLength"]) for name, field in fields.items()} == {
        "officer": ("string", 1, 64), "citizen_id": ("string", 12, 12), "dossier_code": ("string", 25, 25),
        "purpose": ("string", 1, 300)}
    # Drawn for today: a birth year this year and a dossier of today pass, tomorrow's do not.
    assert fields["citizen_id"]["pattern"] == citizen_id_pattern(today=_today())
    assert fields["dossier_code"]["pattern"] == dossier_code_pattern(today=_today())
    assert fields["officer"]["pattern"] == fields["purpose"]["pattern"]


def test_every_answer_is_documented_with_the_error_contract(db):
    document = _document()
    responses = _operation(document)["responses"]
    assert sorted(responses) == ["200", "400", "401", "403", "429", "503"]
    allow = _resolved(document, responses["200"]["content"]["application/json"]["schema"])
    assert sorted(allow["required"]) == ["decision", "lookup_id"]
    assert allow["properties"]["decision"]["const"] == "allow"
    assert allow["properties"]["lookup_id"]["type"] == "integer"
    for status, reasons in REASONS.items():
        refusal = _resolved(document, responses[str(status)]["content"]["application/json"]["schema"])
        assert sorted(refusal["required"]) == ["decision", "message", "reason"]
        assert refusal["properties"]["decision"]["const"] == "refuse"
        reason = refusal["properties"]["reason"]
        assert reason.get("enum", [reason.get("const")]) == reasons  # a single value is a `const`
        assert refusal["properties"]["message"]["type"] == "string"
    headers = {status: {name: header["required"] for name, header in responses[status].get("headers", {}).items()}
               for status in responses}
    assert headers == {"200": {"RateLimit-Policy": True, "RateLimit": True}, "400": {}, "403": {},
                       "401": {"WWW-Authenticate": True},
                       "429": {"Retry-After": True, "RateLimit-Policy": False, "RateLimit": False},
                       "503": {"Retry-After": True}}
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["ClientToken"] == {"type": "http", "scheme": "bearer"}


def _accepted(check, value, today) -> bool:
    try:
        check(value, today=today)
    except PolicyViolation:
        return False
    return True


def test_the_patterns_accept_exactly_what_the_checks_accept():
    """Every day from 1999 to past next year and every month/day pair, every province code, century digit
    and birth year: the regular expression of the document and the check of the code say the same."""
    import re

    today = date(2026, 12, 6)
    dossier, citizen = re.compile(dossier_code_pattern(today=today)), re.compile(citizen_id_pattern(today=today))
    disagree = []
    day = date(1999, 1, 1)
    while day < date(2028, 3, 1):
        for sequence in ("0000", "0001", "9999"):
            value = f"000.00.31.H19-{day:%y%m%d}-{sequence}"
            if bool(dossier.match(value)) != _accepted(dossier_code_checked, value, today):
                disagree.append(value)
        day += timedelta(days=1)
    for month in range(100):
        for day_of_month in (0, 1, 28, 29, 30, 31, 32, 99):
            value = f"000.00.31.H19-24{month:02d}{day_of_month:02d}-0001"
            if bool(dossier.match(value)) != _accepted(dossier_code_checked, value, today):
                disagree.append(value)
    for province in range(1000):
        for century in range(10):
            for year in (0, 25, 26, 27, 99):
                value = f"{province:03d}{century}{year:02d}001234"
                if bool(citizen.match(value)) != _accepted(citizen_id_checked, value, today):
                    disagree.append(value)
    assert disagree == []


def _cases():
    """(field, value) — the document and the API must agree on each, every other field valid."""
    today = _today()
    next_year, this_year = f"{(today.year + 1) % 100:02d}", f"{today.year % 100:02d}"
    tomorrow = today + timedelta(days=1)
    return [
        ("citizen_id", "075095001234"), ("citizen_id", f"0752{this_year}001234"), ("citizen_id", "001399999999"),
        ("citizen_id", f"0752{next_year}001234"), ("citizen_id", "076095001234"), ("citizen_id", "075495001234"),
        ("citizen_id", "07509500123"), ("citizen_id", "0750950012345"), ("citizen_id", "075095001"),
        ("citizen_id", " 075095001234"), ("citizen_id", "075095001234\n"), ("citizen_id", "07509500123٤"),
        ("citizen_id", "０７５０９５００１２３４"), ("citizen_id", ""),
        ("dossier_code", "000.00.31.H19-210708-0032"), ("dossier_code", f"000.00.31.H19-{today:%y%m%d}-9999"),
        ("dossier_code", "000.00.31.H19-240229-0001"), ("dossier_code", "000.00.31.H19-230229-0001"),
        ("dossier_code", f"000.00.31.H19-{tomorrow:%y%m%d}-0001"), ("dossier_code", "000.00.31.H19-210708-0000"),
        ("dossier_code", "000.00.31.h19-210708-0032"), ("dossier_code", "000.00.31.H19-211308-0032"),
        ("dossier_code", "000.00.31.H19-210708-0032 "), ("dossier_code", "000.00.31.H19-210708-032"),
        ("purpose", "x"), ("purpose", "a" * 300), ("purpose", "a" * 301), ("purpose", "Cấp\u00a0bản sao"),
        ("purpose", "   "), ("purpose", " Cấp bản sao"), ("purpose", "Cấp bản sao\u3000"),
        ("purpose", "Cấp bản sao\u202e"), ("purpose", "Cấp\tbản sao"), ("purpose", "Cấp\x00"), ("purpose", ""),
        ("officer", "cb.tanphong"), ("officer", "CB.TanPhong"), ("officer", " cb.tanphong"),
        ("officer", "cb.tanphong\u200b"), ("officer", "cb.tan\x00phong"), ("officer", ""),
    ]


@pytest.fixture
def a_thousand_a_minute(officer_bien_hoa):
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=QuotaWindow.OFFICER_MINUTE, limit=1000)


@pytest.mark.parametrize(("field", "value"), _cases())
def test_a_value_the_document_refuses_is_refused_and_one_it_accepts_is_allowed(
        province_client, a_thousand_a_minute, field, value):
    body = {**BODY, field: value}
    schema = lookup_request_schema(today=_today())
    in_document = jsonschema_rs.validator_for(schema).is_valid(body)
    assert in_document == jsonschema_rs.validator_for(
        _operation(_document())["requestBody"]["content"]["application/json"]["schema"]).is_valid(body)
    response = Client().post(URL, data=json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {province_client[1]}")
    answer = response.json()
    assert (response.status_code == 200) == in_document, answer
    if not in_document:  # refused for that field (or the whole body), never for the officer's state
        expected = {"officer": {"malformed", "out_of_scope"}, "citizen_id": {
            "malformed", "citizen_id_missing", "citizen_id_malformed", "cmnd_not_accepted"},
            "dossier_code": {"malformed", "dossier_missing", "dossier_malformed"},
            "purpose": {"malformed", "purpose_missing", "purpose_malformed"}}[field]
        assert answer["reason"] in expected
        assert answer["reason"] in REASONS[response.status_code]
    assert LookupRecord.objects.count() == 1


@pytest.mark.parametrize(("body", "reason"), [
    ({name: value for name, value in BODY.items() if name != "purpose"}, "purpose_missing"),
    ({**BODY, "unit": "000.00.31.H19"}, "malformed"),
    ({**BODY, "citizen_id": 75095001234}, "malformed"),
    ({**BODY, "officer": None}, "malformed"),
    ([BODY], "malformed"),
])
def test_a_body_the_document_refuses_is_refused_as_malformed_or_missing(province_client, officer_bien_hoa, body,
                                                                         reason):
    schema = lookup_request_schema(today=_today())
    assert jsonschema_rs.validator_for(schema).is_valid(body) is False
    response = Client().post(URL, data=json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {province_client[1]}")
    assert response.status_code == 400
    assert response.json()["reason"] == reason
    assert LookupRecord.objects.get().reason == reason


def test_a_field_with_spaces_around_it_is_refused_in_vietnamese_and_recorded(province_client, officer_bien_hoa):
    response = Client().post(URL, data=json.dumps({**BODY, "citizen_id": "075095001234 "}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {province_client[1]}")
    assert response.status_code == 400
    assert response.json() == {"decision": "refuse", "reason": "malformed",
                               "message": "Gửi từng trường không có khoảng trắng ở đầu hoặc cuối."}
    record = LookupRecord.objects.get()
    assert (record.reason, record.officer_id, record.citizen_id_masked) == ("malformed", officer_bien_hoa.pk,
                                                                            "075*******34")


def test_every_reason_the_decision_raises_is_in_the_documented_enums():
    """A reason added to the decision (a `code="…"` of its modules) and forgotten in the document fails here."""
    import re
    from pathlib import Path

    import lookups
    from lookups.quotas import UNAVAILABLE

    root = Path(lookups.__file__).parent
    sources = [root / "validation.py", root / "services" / "decisions.py", root / "api.py"]
    raised = {code for source in sources for code in re.findall(r'code="([a-z_]+)"', source.read_text())}
    raised |= {UNAVAILABLE, "rate_limited", "unauthenticated", "quota_officer_minute", "quota_officer_day",
               "quota_unit_minute", "quota_unit_day"}
    documented = {reason for reasons in REASONS.values() for reason in reasons}
    assert raised == documented


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("post", "/api/v1/openapi.json", "GET, HEAD"), ("put", "/api/v1/openapi.json", "GET, HEAD"),
    ("delete", "/api/v1/openapi.json", "GET, HEAD"), ("get", URL, "POST"), ("put", URL, "POST"),
])
def test_a_method_neither_serves_is_405_with_allow(db, method, path, allow):
    response = getattr(Client(), method)(path)
    assert response.status_code == 405
    assert response["Allow"] == allow
