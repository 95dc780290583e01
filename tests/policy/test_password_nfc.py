"""One password whatever the keyboard: "Mật khẩu" typed precomposed (NFC, Windows) or decomposed (NFD,
macOS and some Vietnamese input methods) is the same password, at the login and on the change page."""
import unicodedata
from datetime import timedelta

from axes.models import AccessAttempt
from django.contrib.auth.hashers import check_password, make_password
from django.urls import reverse
from django.utils import timezone

from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.services import password_change
from tests.conftest import login

ACCENTED = "Mật-Khẩu-Đồng-Nai-Xanh-48!"
NFC = unicodedata.normalize("NFC", ACCENTED)
NFD = unicodedata.normalize("NFD", ACCENTED)
NEW_ACCENTED = "Sông-Đồng-Nai-Chảy-Mãi-73!"


def _with_password(account, password, hashed_as=None):
    account.password = make_password(hashed_as or password)
    account.password_changed_at = timezone.now() - timedelta(days=2)
    account.save(update_fields=["password", "password_changed_at"])


def test_the_two_forms_differ_as_strings():
    assert NFC != NFD and len(NFD) > len(NFC)


def test_it_logs_in_with_the_password_typed_decomposed(client, officer_bien_hoa):
    _with_password(officer_bien_hoa, NFC)
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": NFD})
    assert response.status_code == 302 and response.url == reverse("home")
    assert AccessAttempt.objects.count() == 0
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE).count() == 0


def test_it_changes_a_password_typed_decomposed_in_all_three_fields(client, officer_bien_hoa):
    _with_password(officer_bien_hoa, NFC)
    login(client, officer_bien_hoa)
    new_nfd = unicodedata.normalize("NFD", NEW_ACCENTED)
    response = client.post(reverse("password_change"), {
        "old_password": NFD, "new_password1": new_nfd, "new_password2": unicodedata.normalize("NFC", NEW_ACCENTED)})
    assert response.status_code == 302
    assert AccessAttempt.objects.count() == 0
    client.logout()
    # Stored as NFC: the precomposed form typed on another computer opens the account.
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username,
                                              "password": unicodedata.normalize("NFC", NEW_ACCENTED)})
    assert response.status_code == 302


def test_it_judges_and_stores_the_nfc_form_in_the_service(officer_bien_hoa):
    _with_password(officer_bien_hoa, "Quat-Mua-But-Chi-7!")
    password_change(actor=officer_bien_hoa, account=officer_bien_hoa,
                    new_password=unicodedata.normalize("NFD", NEW_ACCENTED))
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.check_password(unicodedata.normalize("NFC", NEW_ACCENTED))


def test_it_still_opens_a_password_hashed_decomposed_before_and_rehashes_it(client, officer_bien_hoa):
    _with_password(officer_bien_hoa, NFD, hashed_as=NFD)
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": NFD})
    assert response.status_code == 302
    officer_bien_hoa.refresh_from_db()
    assert check_password(NFC, officer_bien_hoa.password) is True  # rehashed as NFC
    client.logout()
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": NFC})
    assert response.status_code == 302
