"""Response headers on every kind of page: a Content-Security-Policy without 'unsafe-inline', no
framing (frame-ancestors and X-Frame-Options), Referrer-Policy, Permissions-Policy, nosniff; HSTS on
https in production; no-store where secrets are shown; no inline script, style or handler left in any
template (the CSP would block it)."""
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.helpers import login, totp_enrol

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _assert_strict_headers(response):
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/no-such-page/", "/static/css/portal.css",
                                  "/api/v1/openapi.json"])
def test_anonymous_answers_carry_the_headers(client, db, path):
    _assert_strict_headers(client.get(path))


def test_the_api_answers_carry_the_headers(client, db):
    response = client.post("/api/v1/lookups/", data="{}", content_type="application/json")
    assert response.status_code == 401
    _assert_strict_headers(response)


@pytest.mark.parametrize("name", ["accounts:list", "accounts:unit_list", "audit:events", "policy:edit",
                                  "sessions", "password_change", "lookups:log", "accounts:turnover_list"])
def test_signed_in_pages_carry_the_headers_and_no_store(admin_client, name):
    response = admin_client.get(reverse(name))
    assert response.status_code == 200
    _assert_strict_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_the_second_factor_pages_are_not_stored(client, inspector, password):
    response = client.post(reverse("login"), {"username": inspector.username, "password": password})
    enrolment = client.get(response.url)
    for answer in (enrolment, client.get(reverse("login_enrol_qr"))):
        _assert_strict_headers(answer)
        assert "no-store" in answer["Cache-Control"]
    other = Client()
    totp_enrol(inspector)
    other.post(reverse("login"), {"username": inspector.username, "password": password})
    assert "no-store" in other.get(reverse("login_second_step"))["Cache-Control"]


def test_refusals_carry_the_headers(client, officer_bien_hoa):
    response = login(client, officer_bien_hoa).get(reverse("audit:events"))
    assert response.status_code == 403
    _assert_strict_headers(response)


def test_https_answers_carry_hsts_in_production(db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = Client().get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_style_or_handlers():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(TEMPLATES)}: {what}: {match.group(0)}")
    assert found == []
