"""`seed_demo --totp-secret BASE32` (docs/architecture.md's public contract): the demo accounts that need a second
factor (demo.admin, demo.inspector) are enrolled with that key, so that scripts compute their codes;
without it a key is generated for accounts that have none and printed once with its otpauth:// URI."""
import base64
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.helpers import totp_code

DEMO_PASSWORD = "Demo-Cong-An-Toan-2026!"
KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _trial_machine(settings):
    settings.DEBUG = True


def _seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=out, **options)
    return out.getvalue()


def test_it_enrols_the_demo_admin_and_inspector_with_the_given_key(db):
    output = _seed(totp_secret=KEY.lower())
    devices = TOTPDevice.objects.filter(confirmed=True).select_related("user")
    assert sorted(device.user.username for device in devices) == ["demo.admin", "demo.inspector"]
    assert {base64.b32encode(device.bin_key).decode() for device in devices} == {KEY}
    assert "the one given with --totp-secret" in output and KEY not in output
    assert SecurityEvent.objects.filter(kind=EventKind.SECOND_FACTOR_ENROLLED).count() == 2
    # A second run with the same key changes nothing.
    _seed(totp_secret=KEY)
    assert SecurityEvent.objects.filter(kind=EventKind.SECOND_FACTOR_ENROLLED).count() == 2


def test_a_script_signs_in_as_demo_admin_with_the_code_computed_from_the_key(db):
    _seed(totp_secret=KEY)
    client = Client()
    response = client.post(reverse("login"), {"username": "demo.admin", "password": DEMO_PASSWORD})
    assert response.url == reverse("login_second_step")
    device = TOTPDevice.objects.get(user__username="demo.admin")
    assert client.post(reverse("login_second_step"), {"otp_token": totp_code(device)}).status_code == 302
    assert client.get(reverse("accounts:list")).status_code == 200


def test_it_generates_a_key_and_prints_it_once_with_its_uri(db):
    output = _seed()
    key = re.search(r"TOTP key   ([A-Z2-7]{32})", output).group(1)
    uri = re.search(r"URI  (otpauth://totp/\S+)", output).group(1)
    assert f"secret={key}" in uri and "demo.admin" in uri
    device = TOTPDevice.objects.get(user__username="demo.inspector")
    assert base64.b32encode(device.bin_key).decode() == key
    again = _seed()
    assert key not in again and "unchanged since the first run" in again


def test_it_refuses_a_key_that_is_not_base32_or_too_short(db):
    for bad in ("not base32!", "JBSWY3DP"):
        with pytest.raises(CommandError, match="--totp-secret"):
            _seed(totp_secret=bad)
    assert TOTPDevice.objects.count() == 0
    assert User.objects.filter(username="demo.admin").count() == 0
