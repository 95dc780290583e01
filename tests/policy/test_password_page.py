"""The password change page (templates/registration/password_change_form.html): the rules that apply to
this account, said before anything is typed, and each refusal next to its field."""
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from accounts.choices import PasswordChangeReason
from policy.validators import PASSPHRASE_EXAMPLES
from tests.conftest import login

MINIMUM_AGE_RULE = "Sau khi đổi, chỉ được đổi lại sau 24 giờ"


def _page(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_says_when_the_officer_may_change_the_password_again(client, officer_bien_hoa):
    changed_at = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    officer_bien_hoa.password_changed_at = changed_at
    officer_bien_hoa.password_set_by_self = True
    officer_bien_hoa.save(update_fields=["password_changed_at", "password_set_by_self"])
    page = _page(login(client, officer_bien_hoa))
    allowed_from = (changed_at + timedelta(hours=24)).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    # e.g. "Bạn có thể đổi lại mật khẩu từ 14:05 ngày 03/12/2026."
    assert f"Bạn có thể đổi lại mật khẩu từ {allowed_from:%H:%M} ngày {allowed_from:%d/%m/%Y}." in page
    # Nothing typed could pass: no form to type into.
    assert 'name="new_password1"' not in page


def test_it_shows_the_form_for_a_password_the_it_center_set(client, officer_bien_hoa):
    officer_bien_hoa.password_set_by_self = False
    officer_bien_hoa.save(update_fields=["password_set_by_self"])
    page = _page(login(client, officer_bien_hoa))
    assert 'name="new_password1"' in page
    assert "Bạn có thể đổi lại mật khẩu" not in page


def test_it_lists_the_officers_rules_not_the_admins_length(client, officer_bien_hoa):
    page = _page(login(client, officer_bien_hoa))
    assert 'data-check="min_length" data-value="8"' in page
    assert "Ít nhất 8 ký tự" in page
    rules = page.split('id="id_new_password1_helptext"')[1].split("</div>")[0]
    assert not re.search(r"(?<!\d)12(?!\d)", rules)
    assert MINIMUM_AGE_RULE in page


def test_it_lists_twelve_characters_for_an_it_admin(client, it_admin):
    page = _page(login(client, it_admin))
    assert 'data-check="min_length" data-value="12"' in page


def test_it_does_not_list_the_minimum_age_during_a_required_change(client, officer_bien_hoa):
    officer_bien_hoa.password_change_reason = PasswordChangeReason.FORCED
    officer_bien_hoa.save(update_fields=["password_change_reason"])
    page = _page(login(client, officer_bien_hoa))
    assert 'name="new_password1"' in page
    assert MINIMUM_AGE_RULE not in page
    assert "24 giờ" not in page


def test_it_shows_examples_the_blocklist_refuses(client, officer_bien_hoa):
    page = _page(login(client, officer_bien_hoa))
    for example in PASSPHRASE_EXAMPLES:
        assert example in page
    assert "Mưa-Quạt-Bút-Chì-7!" not in page


def test_it_serves_the_checklist_script_from_the_portal_without_inline_script(client, officer_bien_hoa):
    page = _page(login(client, officer_bien_hoa))
    assert '<script src="/static/js/password.js" defer></script>' in page
    # And the idle warning's, on every signed-in page.
    assert '<script src="/static/js/idle.js" defer></script>' in page
    # And the phone menu's, on every page.
    assert '<script src="/static/js/menu.js" defer></script>' in page
    assert page.count("<script") == 3
    assert " onclick=" not in page and " oninput=" not in page


def test_it_renders_toggles_that_leave_the_fields_passwords_without_script(client, officer_bien_hoa):
    page = _page(login(client, officer_bien_hoa))
    for name in ("old_password", "new_password1", "new_password2"):
        assert f'type="password" name="{name}"' in page
        assert f'aria-controls="id_{name}"' in page
    assert page.count('class="button password-toggle" hidden aria-pressed="false"') == 3


def test_it_shows_each_refusal_under_its_own_field(client, officer_bien_hoa, password):
    officer_bien_hoa.password_changed_at = timezone.now() - timedelta(days=2)
    officer_bien_hoa.save(update_fields=["password_changed_at"])
    response = login(client, officer_bien_hoa).post(reverse("password_change"), {
        "old_password": password, "new_password1": PASSPHRASE_EXAMPLES[0], "new_password2": PASSPHRASE_EXAMPLES[0]})
    assert response.status_code == 200
    page = response.content.decode()
    errors = page.split('id="id_new_password1_error"')[1].split("</div>")[0]
    assert "Mật khẩu này nằm trong danh sách" in errors
    # Right under the input, before the rules.
    assert page.index('id="id_new_password1_error"') < page.index('id="id_new_password1_helptext"')
    assert 'aria-describedby="id_new_password1_helptext id_new_password1_error"' in page
